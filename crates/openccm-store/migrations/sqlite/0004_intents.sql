-- Issuance intents live with the serial numbers they reserve: the serial row
-- is written (PENDING, with the digest of the linted TBS) before signing, and
-- the certificate row only once it is signed. A crash leaves a PENDING serial,
-- never a half-written certificate, and the serial is never reused.
ALTER TABLE serials ADD COLUMN state TEXT NOT NULL DEFAULT 'ISSUED';
ALTER TABLE serials ADD COLUMN domain_id TEXT;
ALTER TABLE serials ADD COLUMN tbs_digest BLOB;
CREATE INDEX serials_pending_idx ON serials (created_at) WHERE state = 'PENDING';
DROP INDEX certificates_pending_idx;
