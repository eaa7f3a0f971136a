-- The name suffixes of 0013_search.sql, kept as the tokens of an FTS5 index
-- instead of the rows of a B-tree (docs/scale.md).
--
-- What is searched does not change: every suffix of each lowercased common
-- name, cut to 16 characters (NAME_SUFFIX_CHARS in
-- crates/openccm-store/src/db.rs), so that a keyword is a prefix query on
-- its first 16 characters and the list's LIKE checks the rest. What
-- changes is the cost of writing them. A B-tree entry per suffix put one
-- write at a scattered place in the index per character of the name: a
-- certificate with a 60-character name dirtied about 60 pages, and the
-- store grew by 1.2 KB per certificate. FTS5 writes the tokens a
-- transaction adds as one new sorted segment and merges segments later,
-- in sequence: a few pages per issuance, and (in a prototype of two
-- million names) 250 bytes per certificate against 1,234, with durable
-- single inserts of new names 3.7 times as fast.
--
-- A token is the hex of the account's id followed by the hex of the
-- suffix's UTF-8 bytes. The `ascii` tokenizer splits on every ASCII
-- character that is not a letter or a digit, and a name may hold any of
-- them; hex keeps each suffix one token, and a prefix of a suffix stays a
-- prefix of its hex. The account in front keeps a search inside its own
-- account's tokens: FTS5 gathers every row under a prefix before it
-- answers the first, so without it a keyword common in other accounts
-- would cost a small account the whole store's matches. (Sorted terms
-- share their leading bytes, which FTS5 stores once per page.) `detail=none`: a prefix query
-- needs the rows, not positions. Contentless (the names are in
-- `certificates`), with `contentless_delete` so that a renamed
-- certificate's row can be replaced.
DROP TRIGGER certificates_indexed_by_name;
DROP TRIGGER certificates_renamed;
DROP TABLE certificate_name_suffixes;

CREATE VIRTUAL TABLE certificate_names USING fts5 (
    suffixes, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
);
INSERT INTO certificate_names (rowid, suffixes)
SELECT c.seq, (SELECT group_concat(hex(c.domain_id) || hex(substr(lower(c.common_name), p.i, 16)), ' ')
               FROM name_positions p WHERE p.i <= length(c.common_name))
FROM certificates c ORDER BY c.seq;

-- `seq`: every insert, whichever query makes it (SQLite writes one at a
-- time, so MAX + 1 is unique; the unique index makes it a lookup).
CREATE TRIGGER certificates_indexed_by_name AFTER INSERT ON certificates
BEGIN
    UPDATE certificates SET seq = (SELECT IFNULL(MAX(seq), 0) + 1 FROM certificates)
    WHERE rowid = NEW.rowid;
    INSERT INTO certificate_names (rowid, suffixes)
    SELECT (SELECT seq FROM certificates WHERE rowid = NEW.rowid),
           group_concat(hex(NEW.domain_id) || hex(substr(lower(NEW.common_name), i, 16)), ' ')
    FROM name_positions WHERE i <= length(NEW.common_name);
END;

CREATE TRIGGER certificates_renamed AFTER UPDATE OF common_name ON certificates
WHEN NEW.common_name IS NOT OLD.common_name
BEGIN
    DELETE FROM certificate_names WHERE rowid = NEW.seq;
    INSERT INTO certificate_names (rowid, suffixes)
    SELECT NEW.seq, group_concat(hex(NEW.domain_id) || hex(substr(lower(NEW.common_name), i, 16)), ' ')
    FROM name_positions WHERE i <= length(NEW.common_name);
END;

-- No query deletes a certificate row today; if one does, its tokens go
-- with it, and a `seq` that MAX + 1 hands out again starts clean.
CREATE TRIGGER certificates_unindexed AFTER DELETE ON certificates
BEGIN
    DELETE FROM certificate_names WHERE rowid = OLD.seq;
END;
