-- IAM: accounts (domains), users, access keys, projects; and the master-key check values.
-- Times are Unix epoch milliseconds.

CREATE TABLE key_checks (
    version     INTEGER PRIMARY KEY,
    check_value BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
);

-- One row once the bootstrap administrator exists; the CHECK makes it a singleton.
CREATE TABLE bootstrap (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    domain_id  TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE accounts (
    domain_id  TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    enabled    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT accounts_name_key UNIQUE (name)
);

CREATE TABLE users (
    user_id             TEXT    PRIMARY KEY,
    domain_id           TEXT    NOT NULL REFERENCES accounts (domain_id),
    name                TEXT    NOT NULL,
    password_hash       TEXT,
    is_root             INTEGER NOT NULL,
    enabled             INTEGER NOT NULL,
    credentials_version INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    CONSTRAINT users_domain_name_key UNIQUE (domain_id, name)
);

CREATE TABLE access_keys (
    access_key    TEXT    PRIMARY KEY,
    user_id       TEXT    NOT NULL REFERENCES users (user_id),
    domain_id     TEXT    NOT NULL REFERENCES accounts (domain_id),
    sealed_secret BLOB    NOT NULL,
    enabled       INTEGER NOT NULL,
    description   TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX access_keys_user_idx ON access_keys (user_id);

CREATE TABLE projects (
    project_id TEXT    PRIMARY KEY,
    domain_id  TEXT    NOT NULL REFERENCES accounts (domain_id),
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT projects_domain_name_key UNIQUE (domain_id, name)
);
