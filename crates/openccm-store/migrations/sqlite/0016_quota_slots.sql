-- The certificate quota's counter, spread over 8 slots per account as the
-- counts of 0012 are (a certificate's slot is the last hex digit of its id
-- modulo 8). On one row, every issuance of an account waited for the one
-- before it to commit: on PostgreSQL that capped an account at about one
-- issuance per commit round trip, however many servers shared the
-- database. How a quota stays exact over slots:
-- crates/openccm-store/src/queries/pca/quota.rs.
--
-- Servers of an older version must not write to a store migrated here.
-- Upgrade every server sharing a database together.

CREATE TABLE quota_slots (
    domain_id TEXT    NOT NULL,
    slot      INTEGER NOT NULL,
    used      INTEGER NOT NULL,
    PRIMARY KEY (domain_id, slot)
);
INSERT INTO quota_slots (domain_id, slot, used)
SELECT domain_id, 0, used FROM usage WHERE resource = 'certificate';
DROP TABLE usage;
