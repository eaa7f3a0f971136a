-- Quota counters: counting rows with COUNT(*) on every issuance does not
-- scale to millions of certificates; the counter moves in the same
-- transaction as the rows it counts.
CREATE TABLE usage (
    domain_id TEXT    NOT NULL,
    resource  TEXT    NOT NULL,
    used      INTEGER NOT NULL,
    PRIMARY KEY (domain_id, resource)
);

INSERT INTO usage (domain_id, resource, used)
SELECT domain_id, 'certificate', COUNT(*) FROM certificates
WHERE deleted_at IS NULL AND state <> 'FAILED'
GROUP BY domain_id;
