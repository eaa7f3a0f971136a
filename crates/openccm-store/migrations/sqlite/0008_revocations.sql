-- Revocation as relying parties see it: CRLs and OCSP read these tables.
--
-- revocations: every revoked serial, under the CA that signed it (a revoked
-- subordinate CA's certificate sits under its parent; an SM2 dual
-- certificate has two rows). `seq` numbers a CA's revocations in commit
-- order (the counter row below is updated in the same transaction), so a
-- delta CRL is "seq above the base CRL's" and never misses a late commit.
CREATE TABLE revocations (
    issuer_id  TEXT    NOT NULL,
    serial     TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL,
    reason     TEXT    NOT NULL,
    not_after  INTEGER NOT NULL,
    PRIMARY KEY (issuer_id, seq)
) WITHOUT ROWID;
-- Keyed by seq: full and delta CRLs read a CA's rows in seq order, a
-- sequential scan; OCSP finds a serial through the unique index.
CREATE UNIQUE INDEX revocations_serial_idx ON revocations (issuer_id, serial);

-- Per CA: the last revocation's seq and the last CRL number handed out.
-- Both only grow; every server sharing the database draws from this row.
CREATE TABLE crl_counters (
    ca_id          TEXT    PRIMARY KEY,
    revocation_seq INTEGER NOT NULL,
    crl_number     INTEGER NOT NULL
);

-- The newest full CRL of each CA, shared by every server: built once,
-- served from memory after that. Kept apart from the counters, which every
-- revocation rewrites.
CREATE TABLE crls (
    ca_id          TEXT    PRIMARY KEY,
    crl_number     INTEGER NOT NULL,
    revocation_seq INTEGER NOT NULL,
    this_update    INTEGER NOT NULL,
    next_update    INTEGER NOT NULL,
    der            BLOB    NOT NULL,
    -- The delta CRL URL it names (freshestCRL): a CRL built for another
    -- URL (a changed crl_name or --public-url) is not served as current.
    freshest_url   TEXT
);

-- What was revoked before these tables existed.
INSERT INTO revocations (issuer_id, serial, seq, revoked_at, reason, not_after)
SELECT issuer_id, serial, ROW_NUMBER() OVER (PARTITION BY issuer_id ORDER BY revoked_at, serial),
       revoked_at, reason, not_after
FROM (
    SELECT issuer_id, serial_number AS serial, revoked_at, COALESCE(revocation_reason, 'UNSPECIFIED') AS reason, not_after
    FROM certificates WHERE state = 'ISSUED' AND revoked_at IS NOT NULL
    UNION ALL
    SELECT issuer_id, enc_serial_number, revoked_at, COALESCE(revocation_reason, 'UNSPECIFIED'), not_after
    FROM certificates WHERE state = 'ISSUED' AND revoked_at IS NOT NULL AND enc_serial_number IS NOT NULL
    UNION ALL
    SELECT issuer_id, serial_number, revoked_at, COALESCE(revocation_reason, 'UNSPECIFIED'), not_after
    FROM cas WHERE revoked_at IS NOT NULL AND issuer_id IS NOT NULL AND issuer_id <> ca_id
        AND serial_number IS NOT NULL AND not_after IS NOT NULL AND chain IS NULL
) AS revoked;
INSERT INTO crl_counters (ca_id, revocation_seq, crl_number)
SELECT issuer_id, MAX(seq), 0 FROM revocations GROUP BY issuer_id;
