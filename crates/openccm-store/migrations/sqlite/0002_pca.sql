-- Private CA: certificate authorities, issued certificates, serial numbers, tags.
-- Times are Unix epoch milliseconds; DER and sealed keys are BLOBs.

CREATE TABLE cas (
    ca_id                 TEXT    PRIMARY KEY,
    domain_id             TEXT    NOT NULL REFERENCES accounts (domain_id),
    ca_type               TEXT    NOT NULL,
    listed                INTEGER NOT NULL,
    status                TEXT    NOT NULL,
    issuer_id             TEXT,
    issuer_name           TEXT,
    path_length           INTEGER NOT NULL,
    key_algorithm         TEXT    NOT NULL,
    signature_algorithm   TEXT,
    key_usages            TEXT    NOT NULL,
    gen_mode              TEXT    NOT NULL,
    serial_number         TEXT,
    common_name           TEXT    NOT NULL,
    country               TEXT,
    state                 TEXT,
    locality              TEXT,
    organization          TEXT,
    organizational_unit   TEXT,
    subject               BLOB    NOT NULL,
    key_owner             TEXT,
    sealed_key            BLOB,
    public_key            BLOB    NOT NULL,
    certificate           BLOB,
    chain                 TEXT,
    not_before            INTEGER,
    not_after             INTEGER,
    create_time           INTEGER NOT NULL,
    delete_time           INTEGER,
    crl_enabled           INTEGER NOT NULL,
    crl_name              TEXT,
    crl_bucket            TEXT,
    crl_valid_days        INTEGER,
    ocsp_enabled          INTEGER NOT NULL,
    enterprise_project_id TEXT    NOT NULL,
    revoked_at            INTEGER,
    revocation_reason     TEXT
);
CREATE INDEX cas_domain_create_idx ON cas (domain_id, create_time);

-- Every serial a CA ever used (signing and SM2 encryption certificates, and
-- the certificates of the CAs it signed): unique per issuer, never reused.
CREATE TABLE serials (
    issuer_id   TEXT    NOT NULL,
    serial      TEXT    NOT NULL,
    resource_id TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (issuer_id, serial)
);

-- A row is written as PENDING (the intent: serials reserved, TBS digests
-- recorded) before anything is signed, then completed as ISSUED. A PENDING
-- row left by a crash becomes FAILED; it is never shown as a certificate.
CREATE TABLE certificates (
    certificate_id        TEXT    PRIMARY KEY,
    domain_id             TEXT    NOT NULL REFERENCES accounts (domain_id),
    issuer_id             TEXT    NOT NULL REFERENCES cas (ca_id),
    issuer_name           TEXT    NOT NULL,
    state                 TEXT    NOT NULL,
    key_algorithm         TEXT    NOT NULL,
    signature_algorithm   TEXT    NOT NULL,
    gen_mode              TEXT    NOT NULL,
    serial_number         TEXT    NOT NULL,
    common_name           TEXT    NOT NULL,
    country               TEXT,
    state_name            TEXT,
    locality              TEXT,
    organization          TEXT,
    organizational_unit   TEXT,
    tbs_digest            BLOB    NOT NULL,
    certificate           BLOB,
    key_owner             TEXT,
    sealed_key            BLOB,
    enc_serial_number     TEXT,
    enc_tbs_digest        BLOB,
    enc_certificate       BLOB,
    enc_key_owner         TEXT,
    enc_sealed_key        BLOB,
    csr_public_key        BLOB,
    not_before            INTEGER NOT NULL,
    not_after             INTEGER NOT NULL,
    create_time           INTEGER NOT NULL,
    deleted_at            INTEGER,
    revoked_at            INTEGER,
    revocation_reason     TEXT,
    enterprise_project_id TEXT    NOT NULL
);
CREATE INDEX certificates_domain_create_idx ON certificates (domain_id, create_time);
CREATE INDEX certificates_domain_not_after_idx ON certificates (domain_id, not_after);
CREATE INDEX certificates_domain_cn_idx ON certificates (domain_id, common_name);
CREATE INDEX certificates_issuer_idx ON certificates (issuer_id);
CREATE INDEX certificates_pending_idx ON certificates (state, create_time);

-- Tags of CAs, private certificates and SSL certificates (Huawei TMS model:
-- one value per key).
CREATE TABLE tags (
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    domain_id     TEXT NOT NULL,
    tag_key       TEXT NOT NULL,
    tag_value     TEXT NOT NULL,
    PRIMARY KEY (resource_type, resource_id, tag_key)
);
CREATE INDEX tags_domain_idx ON tags (domain_id, resource_type, tag_key);
