-- ACME on private CAs (crates/openccm-app/src/pca/acme.rs).
--
-- acme_settings: a CA's ACME switch and policy (one row per CA that ever
-- had ACME configured). Lists are stored one entry per line.
--
-- acme_eab_keys: external account binding keys. Each belongs to the
-- OpenCCM account (domain_id) of the user who made it; the HMAC key is
-- sealed under the master key (key_owner names it in the associated data,
-- as for every sealed key). bound_account is the ACME account the key
-- created, once used: a key binds one ACME account only.

CREATE TABLE acme_settings (
    ca_id               TEXT    PRIMARY KEY REFERENCES cas (ca_id),
    domain_id           TEXT    NOT NULL,
    enabled             INTEGER NOT NULL,
    eab_required        INTEGER NOT NULL,
    allowed_identifiers TEXT    NOT NULL,
    challenges          TEXT    NOT NULL,
    max_validity_days   INTEGER NOT NULL,
    key_algorithms      TEXT    NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE acme_eab_keys (
    key_id        TEXT    PRIMARY KEY,
    ca_id         TEXT    NOT NULL REFERENCES cas (ca_id),
    domain_id     TEXT    NOT NULL,
    created_by    TEXT    NOT NULL,
    description   TEXT,
    key_owner     TEXT    NOT NULL,
    sealed_key    BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    bound_account TEXT
);
-- A CA's keys, oldest first.
CREATE INDEX acme_eab_keys_ca_idx ON acme_eab_keys (ca_id, created_at);
