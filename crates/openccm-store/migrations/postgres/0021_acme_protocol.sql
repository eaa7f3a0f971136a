-- The ACME protocol's state (crates/openccm-app/src/pca/acme/).
--
-- acme_accounts: ACME accounts of one CA each, owned by the CA's OpenCCM
-- account; the public key as a JWK, unique per CA by its RFC 7638
-- thumbprint. contact is one URL per line.
--
-- acme_orders / acme_authorizations: orders and their authorizations. An
-- authorization holds its challenges (one token for every type offered;
-- the client answers one). The stored statuses are those the server sets;
-- `ready`, and what lapsed with time, is worked out on reading (updated_at
-- tells a `processing` state that no server will finish: a crash mid-way).
-- Errors are a problem type and detail, separated by a line break.
--
-- acme_nonces: nonces already used, until the nonce would have expired
-- anyway (the nonce itself is sealed under the master key: a row here
-- only says it was spent, so that a replay is refused on every server).

CREATE TABLE acme_accounts (
    account_id  TEXT    PRIMARY KEY,
    ca_id       TEXT    NOT NULL REFERENCES cas (ca_id),
    domain_id   TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    jwk         TEXT    NOT NULL,
    thumbprint  TEXT    NOT NULL,
    contact     TEXT    NOT NULL,
    eab_key_id  TEXT,
    created_at  BIGINT  NOT NULL
);
CREATE UNIQUE INDEX acme_accounts_key_idx ON acme_accounts (ca_id, thumbprint);
CREATE INDEX acme_accounts_eab_idx ON acme_accounts (eab_key_id);

CREATE TABLE acme_orders (
    order_id       TEXT    PRIMARY KEY,
    account_id     TEXT    NOT NULL REFERENCES acme_accounts (account_id),
    ca_id          TEXT    NOT NULL,
    domain_id      TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    identifiers    TEXT    NOT NULL,
    not_before     BIGINT,
    not_after      BIGINT,
    expires_at     BIGINT  NOT NULL,
    error          TEXT,
    certificate_id TEXT,
    replaces       TEXT,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);
-- An account's orders, newest first.
CREATE INDEX acme_orders_account_idx ON acme_orders (account_id, created_at);
-- The order a certificate came from (revocation by the account).
CREATE INDEX acme_orders_certificate_idx ON acme_orders (certificate_id);

CREATE TABLE acme_authorizations (
    authz_id         TEXT    PRIMARY KEY,
    order_id         TEXT    NOT NULL REFERENCES acme_orders (order_id),
    account_id       TEXT    NOT NULL,
    ca_id            TEXT    NOT NULL,
    domain_id        TEXT    NOT NULL,
    identifier_type  TEXT    NOT NULL,
    identifier_value TEXT    NOT NULL,
    wildcard         BOOLEAN NOT NULL,
    status           TEXT    NOT NULL,
    expires_at       BIGINT  NOT NULL,
    token            TEXT    NOT NULL,
    challenges       TEXT    NOT NULL,
    attempted        TEXT,
    processing       BOOLEAN NOT NULL,
    validated_at     BIGINT,
    error            TEXT,
    updated_at       BIGINT  NOT NULL
);
CREATE INDEX acme_authorizations_order_idx ON acme_authorizations (order_id);

CREATE TABLE acme_nonces (
    nonce      TEXT    PRIMARY KEY,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX acme_nonces_expiry_idx ON acme_nonces (expires_at);
