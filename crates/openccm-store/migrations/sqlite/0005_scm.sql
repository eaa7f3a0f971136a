-- SSL certificate manager: imported certificates (PEM exactly as imported,
-- private keys sealed), CSRs with their keys, expiry-notification settings.
-- Tags live in the shared `tags` table (resource_type 'scm-cert').

CREATE TABLE scm_certificates (
    certificate_id        TEXT    PRIMARY KEY,
    domain_id             TEXT    NOT NULL REFERENCES accounts (domain_id),
    enterprise_project_id TEXT    NOT NULL,
    name                  TEXT    NOT NULL,
    domain                TEXT    NOT NULL,
    sans                  TEXT    NOT NULL,
    key_algorithm         TEXT    NOT NULL,
    signature_algorithm   TEXT    NOT NULL,
    fingerprint           TEXT    NOT NULL,
    serial_number         TEXT    NOT NULL,
    not_before            INTEGER NOT NULL,
    not_after             INTEGER NOT NULL,
    certificate           TEXT    NOT NULL,
    certificate_chain     TEXT,
    key_owner             TEXT    NOT NULL,
    sealed_key            BLOB    NOT NULL,
    enc_certificate       TEXT,
    enc_key_owner         TEXT,
    enc_sealed_key        BLOB,
    enc_key_enveloped     INTEGER NOT NULL,
    csr_id                TEXT,
    create_time           INTEGER NOT NULL,
    update_time           INTEGER NOT NULL
);
CREATE INDEX scm_certificates_domain_update_idx ON scm_certificates (domain_id, update_time);
CREATE INDEX scm_certificates_domain_not_after_idx ON scm_certificates (domain_id, not_after);
CREATE INDEX scm_certificates_domain_fingerprint_idx ON scm_certificates (domain_id, fingerprint);

CREATE TABLE scm_csrs (
    csr_id            TEXT    PRIMARY KEY,
    domain_id         TEXT    NOT NULL REFERENCES accounts (domain_id),
    name              TEXT    NOT NULL,
    csr               TEXT    NOT NULL,
    domain_name       TEXT,
    sans              TEXT,
    private_key_algo  TEXT    NOT NULL,
    usage             TEXT,
    company_country   TEXT,
    company_province  TEXT,
    company_city      TEXT,
    company_name      TEXT,
    public_key        BLOB    NOT NULL,
    public_key_sha256 TEXT    NOT NULL,
    generated         INTEGER NOT NULL,
    key_owner         TEXT,
    sealed_key        BLOB,
    create_time       INTEGER NOT NULL,
    update_time       INTEGER NOT NULL
);
CREATE INDEX scm_csrs_domain_create_idx ON scm_csrs (domain_id, create_time);
CREATE INDEX scm_csrs_domain_public_key_idx ON scm_csrs (domain_id, public_key_sha256);

CREATE TABLE scm_notifications (
    certificate_id TEXT    NOT NULL,
    notice_type    TEXT    NOT NULL,
    domain_id      TEXT    NOT NULL,
    enabled        INTEGER NOT NULL,
    update_time    INTEGER NOT NULL,
    PRIMARY KEY (certificate_id, notice_type)
);
