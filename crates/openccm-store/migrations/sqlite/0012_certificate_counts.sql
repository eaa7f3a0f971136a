-- Listing private certificates at scale (tens of millions of rows): totals
-- come from counters kept in the same transactions as the rows they count,
-- and each sort order has a partial index over live certificates that
-- carries what the status filters test, so that a page is read off one
-- index without touching the table or counting rows.
--
-- Counters are spread over 8 slots per account (a certificate's slot is the
-- last byte of its id modulo 8), so that concurrent issuances do not queue
-- on one row; readers add the slots up.

-- Live (issued, not deleted) and revoked certificates per account.
CREATE TABLE certificate_counts (
    domain_id TEXT    NOT NULL,
    slot      BIGINT  NOT NULL,
    live      BIGINT  NOT NULL,
    revoked   BIGINT  NOT NULL,
    PRIMARY KEY (domain_id, slot)
);

-- Live, unrevoked certificates per account and day of expiry (notAfter in
-- days since the epoch): the expired ones are the days before today plus
-- today's that have passed.
CREATE TABLE certificate_expiry_counts (
    domain_id  TEXT    NOT NULL,
    expiry_day BIGINT  NOT NULL,
    slot       BIGINT  NOT NULL,
    n          BIGINT  NOT NULL,
    PRIMARY KEY (domain_id, expiry_day, slot)
);

INSERT INTO certificate_counts (domain_id, slot, live, revoked)
SELECT domain_id, 0, COUNT(*), SUM(CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END)
FROM certificates WHERE state = 'ISSUED' AND deleted_at IS NULL
GROUP BY domain_id;

INSERT INTO certificate_expiry_counts (domain_id, expiry_day, slot, n)
SELECT domain_id, not_after / 86400000, 0, COUNT(*)
FROM certificates WHERE state = 'ISSUED' AND deleted_at IS NULL AND revoked_at IS NULL
GROUP BY domain_id, not_after / 86400000;

DROP INDEX certificates_domain_create_idx;
DROP INDEX certificates_domain_not_after_idx;
DROP INDEX certificates_domain_cn_idx;
CREATE INDEX certificates_live_create_idx ON certificates
    (domain_id, create_time, certificate_id, revoked_at, not_after)
    WHERE state = 'ISSUED' AND deleted_at IS NULL;
CREATE INDEX certificates_live_cn_idx ON certificates
    (domain_id, common_name, certificate_id, revoked_at, not_after)
    WHERE state = 'ISSUED' AND deleted_at IS NULL;
CREATE INDEX certificates_live_issuer_name_idx ON certificates
    (domain_id, issuer_name, certificate_id, revoked_at, not_after)
    WHERE state = 'ISSUED' AND deleted_at IS NULL;
CREATE INDEX certificates_live_not_after_idx ON certificates
    (domain_id, not_after, certificate_id, revoked_at)
    WHERE state = 'ISSUED' AND deleted_at IS NULL;
