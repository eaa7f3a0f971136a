-- Searching certificates by a substring of their common name, and counting
-- them by tag, without reading the whole account (tens of millions of rows;
-- docs/scale.md).
--
-- Name search. A substring of a name is a prefix of one of the name's
-- suffixes, so the certificates whose (lowercased) name contains `q` are
-- those with a suffix in the range [q, q + 1): one index range, whatever
-- the store's size. Suffixes are cut to 16 characters (NAME_SUFFIX_CHARS in
-- crates/openccm-store/src/db.rs), which keeps the index near 1 KB per
-- certificate: a longer `q` is looked up by its first 16 characters and
-- the LIKE that stays in the query checks the rest. The suffixes of
-- deleted certificates and failed intents stay: the query's own conditions
-- leave those rows out.
--
-- Rows refer to their certificate by `seq`, a number assigned on insert,
-- because the 36-character id would triple the index. (Not the rowid:
-- VACUUM may renumber the rowids of a table without an INTEGER PRIMARY
-- KEY.)
ALTER TABLE certificates ADD COLUMN seq INTEGER;
UPDATE certificates SET seq = rowid;
CREATE UNIQUE INDEX certificates_seq_idx ON certificates (seq);

-- 1..256: the start of each suffix (common names are at most 64 characters,
-- crates/openccm-pki/src/name.rs).
CREATE TABLE name_positions (i INTEGER PRIMARY KEY);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 256)
INSERT INTO name_positions (i) SELECT i FROM n;

CREATE TABLE certificate_name_suffixes (
    suffix TEXT    NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (suffix, seq)
) WITHOUT ROWID;
INSERT OR IGNORE INTO certificate_name_suffixes (suffix, seq)
SELECT substr(lower(c.common_name), p.i, 16), c.seq
FROM certificates c JOIN name_positions p ON p.i <= length(c.common_name);

-- Every insert, whichever query makes it (SQLite writes one at a time, so
-- MAX + 1 is unique; the unique index makes it a lookup).
CREATE TRIGGER certificates_indexed_by_name AFTER INSERT ON certificates
BEGIN
    UPDATE certificates SET seq = (SELECT IFNULL(MAX(seq), 0) + 1 FROM certificates)
    WHERE rowid = NEW.rowid;
    INSERT OR IGNORE INTO certificate_name_suffixes (suffix, seq)
    SELECT substr(lower(NEW.common_name), i, 16),
           (SELECT seq FROM certificates WHERE rowid = NEW.rowid)
    FROM name_positions WHERE i <= length(NEW.common_name);
END;

CREATE TRIGGER certificates_renamed AFTER UPDATE OF common_name ON certificates
WHEN NEW.common_name IS NOT OLD.common_name
BEGIN
    INSERT OR IGNORE INTO certificate_name_suffixes (suffix, seq)
    SELECT substr(lower(NEW.common_name), i, 16), NEW.seq
    FROM name_positions WHERE i <= length(NEW.common_name);
END;

-- Tag counts: how many resources of an account carry each tag (key, value),
-- kept by the tags table's own triggers, so that a count by one tag
-- (resource-instances/count) reads one row. A tag row exists only while
-- its resource does (deleting a resource deletes its tags).
-- Imports before this version could leave a deleted certificate's tags.
DELETE FROM tags WHERE resource_type = 'pca-cert' AND NOT EXISTS (
    SELECT 1 FROM certificates c WHERE c.certificate_id = tags.resource_id
    AND c.state = 'ISSUED' AND c.deleted_at IS NULL);
CREATE TABLE tag_counts (
    domain_id     TEXT   NOT NULL,
    resource_type TEXT   NOT NULL,
    tag_key       TEXT   NOT NULL,
    tag_value     TEXT   NOT NULL,
    tagged        BIGINT NOT NULL,
    PRIMARY KEY (domain_id, resource_type, tag_key, tag_value)
);
INSERT INTO tag_counts (domain_id, resource_type, tag_key, tag_value, tagged)
SELECT domain_id, resource_type, tag_key, tag_value, COUNT(*)
FROM tags GROUP BY domain_id, resource_type, tag_key, tag_value;

CREATE TRIGGER tags_counted_on_insert AFTER INSERT ON tags
BEGIN
    INSERT INTO tag_counts (domain_id, resource_type, tag_key, tag_value, tagged)
    VALUES (NEW.domain_id, NEW.resource_type, NEW.tag_key, NEW.tag_value, 1)
    ON CONFLICT (domain_id, resource_type, tag_key, tag_value) DO UPDATE SET tagged = tagged + 1;
END;

CREATE TRIGGER tags_counted_on_delete AFTER DELETE ON tags
BEGIN
    UPDATE tag_counts SET tagged = tagged - 1
    WHERE domain_id = OLD.domain_id AND resource_type = OLD.resource_type
      AND tag_key = OLD.tag_key AND tag_value = OLD.tag_value;
END;

CREATE TRIGGER tags_counted_on_update AFTER UPDATE ON tags
BEGIN
    UPDATE tag_counts SET tagged = tagged - 1
    WHERE domain_id = OLD.domain_id AND resource_type = OLD.resource_type
      AND tag_key = OLD.tag_key AND tag_value = OLD.tag_value;
    INSERT INTO tag_counts (domain_id, resource_type, tag_key, tag_value, tagged)
    VALUES (NEW.domain_id, NEW.resource_type, NEW.tag_key, NEW.tag_value, 1)
    ON CONFLICT (domain_id, resource_type, tag_key, tag_value) DO UPDATE SET tagged = tagged + 1;
END;
