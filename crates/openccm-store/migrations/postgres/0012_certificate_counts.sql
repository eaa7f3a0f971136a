-- Listing private certificates at scale (tens of millions of rows): totals
-- come from counters kept in the same transactions as the rows they count,
-- and each sort order has a partial index over live certificates that
-- carries what the status filters test, so that a page is read off one
-- index without touching the table or counting rows.
--
-- Expiry is the one status that changes without a write: `expired_at`
-- records it (= not_after) once the store has seen it pass. The store marks
-- an account's newly expired certificates before it answers a list that
-- filters on the status (crates/openccm-store/src/queries/pca/mod.rs), so
-- the marks are exact at the time of every such answer.
--
-- Counters are spread over 8 slots per account (a certificate's slot is the
-- value of the last hex digit of its id modulo 8), so that concurrent
-- issuances do not queue on one row; readers add the slots up.
--
-- Servers of an older version must not write to a store migrated here:
-- their writes would not keep the counters. Upgrade every server sharing a
-- database together.

ALTER TABLE certificates ADD COLUMN expired_at BIGINT;
UPDATE certificates SET expired_at = not_after
WHERE state = 'ISSUED' AND deleted_at IS NULL AND revoked_at IS NULL AND not_after <= CAST(FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000) AS BIGINT);

-- Live (issued, not deleted) certificates per account, and of those the
-- revoked and the (marked) expired unrevoked ones.
CREATE TABLE certificate_counts (
    domain_id TEXT   NOT NULL,
    slot      BIGINT NOT NULL,
    live      BIGINT NOT NULL,
    revoked   BIGINT NOT NULL,
    expired   BIGINT NOT NULL,
    PRIMARY KEY (domain_id, slot)
);
INSERT INTO certificate_counts (domain_id, slot, live, revoked, expired)
SELECT domain_id, 0, COUNT(*),
       SUM(CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END),
       SUM(CASE WHEN expired_at IS NULL THEN 0 ELSE 1 END)
FROM certificates WHERE state = 'ISSUED' AND deleted_at IS NULL
GROUP BY domain_id;

DROP INDEX certificates_domain_create_idx;
DROP INDEX certificates_domain_not_after_idx;
DROP INDEX certificates_domain_cn_idx;
CREATE INDEX certificates_live_create_idx ON certificates
    (domain_id, create_time, certificate_id, revoked_at, expired_at)
    WHERE state = 'ISSUED' AND deleted_at IS NULL;
CREATE INDEX certificates_live_cn_idx ON certificates
    (domain_id, common_name, certificate_id, revoked_at, expired_at)
    WHERE state = 'ISSUED' AND deleted_at IS NULL;
CREATE INDEX certificates_live_issuer_name_idx ON certificates
    (domain_id, issuer_name, certificate_id, revoked_at, expired_at)
    WHERE state = 'ISSUED' AND deleted_at IS NULL;
CREATE INDEX certificates_live_not_after_idx ON certificates
    (domain_id, not_after, certificate_id, revoked_at, expired_at)
    WHERE state = 'ISSUED' AND deleted_at IS NULL;
-- The newest certificates are the unexpired ones: expired ones in creation
-- order have an index of their own, or a page of them would skip every
-- unexpired certificate first.
CREATE INDEX certificates_expired_create_idx ON certificates
    (domain_id, create_time, certificate_id)
    WHERE state = 'ISSUED' AND deleted_at IS NULL AND expired_at IS NOT NULL;
-- What marking looks for: live, unrevoked, unmarked, by notAfter.
CREATE INDEX certificates_unmarked_expiry_idx ON certificates (domain_id, not_after)
    WHERE state = 'ISSUED' AND deleted_at IS NULL AND revoked_at IS NULL AND expired_at IS NULL;
