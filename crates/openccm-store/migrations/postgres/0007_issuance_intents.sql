-- Issuances in flight move to a table of their own. The serials table grows
-- with every certificate and its rows sit at random places (random serials):
-- completing an issuance by updating its serial rows wrote a random page
-- again. Now an issuance reserves its serials once (RESERVED, with the
-- digest of the linted TBS) together with an intent row; completing it
-- deletes the intent (a small table: its pages stay hot) and writes the
-- certificate. A crash leaves an intent; reconciliation marks its serials
-- FAILED and gives its quota back. A serial is never reused either way.
CREATE TABLE issuance_intents (
    certificate_id TEXT    PRIMARY KEY,
    issuer_id      TEXT    NOT NULL,
    domain_id      TEXT    NOT NULL,
    serials        TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL
);
-- No index on created_at: the table holds only issuances in flight, and an
-- index page more would be rewritten by every commit.
INSERT INTO issuance_intents (certificate_id, issuer_id, domain_id, serials, created_at)
SELECT resource_id, MIN(issuer_id), MIN(domain_id), STRING_AGG(serial, ','), MIN(created_at)
FROM serials WHERE state = 'PENDING' AND domain_id IS NOT NULL GROUP BY resource_id;
-- Serials written before this migration keep ISSUED, which means RESERVED
-- (nothing reads the state but the FAILED marking): rewriting every row of a
-- large table at startup would buy nothing.
UPDATE serials SET state = 'RESERVED' WHERE state = 'PENDING';
DROP INDEX serials_pending_idx;
