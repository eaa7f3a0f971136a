-- IAM identity policies: user groups, policy documents, and what they are
-- attached to (users or groups). Times are Unix epoch milliseconds.

CREATE TABLE user_groups (
    group_id    TEXT    PRIMARY KEY,
    domain_id   TEXT    NOT NULL REFERENCES accounts (domain_id),
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    CONSTRAINT user_groups_domain_name_key UNIQUE (domain_id, name)
);

CREATE TABLE group_members (
    group_id  TEXT NOT NULL REFERENCES user_groups (group_id),
    user_id   TEXT NOT NULL REFERENCES users (user_id),
    domain_id TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_idx ON group_members (user_id);

CREATE TABLE policies (
    policy_id   TEXT    PRIMARY KEY,
    domain_id   TEXT    NOT NULL REFERENCES accounts (domain_id),
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    document    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CONSTRAINT policies_domain_name_key UNIQUE (domain_id, name)
);

-- principal_type: 'user' or 'group'.
CREATE TABLE policy_attachments (
    policy_id      TEXT    NOT NULL REFERENCES policies (policy_id),
    principal_type TEXT    NOT NULL,
    principal_id   TEXT    NOT NULL,
    domain_id      TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (policy_id, principal_type, principal_id)
);
CREATE INDEX policy_attachments_principal_idx ON policy_attachments (principal_type, principal_id);
