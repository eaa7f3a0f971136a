-- Alternative names are stored as a JSON array of names instead of one
-- ';'-joined text, which could not hold a name containing ';' and which
-- every reader had to split. Existing rows are split once, here.

ALTER TABLE scm_certificates ADD COLUMN alt_names TEXT NOT NULL DEFAULT '[]'
    CHECK (json_typeof(alt_names::json) = 'array');
UPDATE scm_certificates SET alt_names = coalesce(
    (SELECT json_agg(item ORDER BY n)::text
     FROM unnest(string_to_array(sans, ';')) WITH ORDINALITY AS t(item, n)
     WHERE item <> ''),
    '[]');
ALTER TABLE scm_certificates DROP COLUMN sans;

ALTER TABLE scm_csrs ADD COLUMN alt_names TEXT NOT NULL DEFAULT '[]'
    CHECK (json_typeof(alt_names::json) = 'array');
UPDATE scm_csrs SET alt_names = coalesce(
    (SELECT json_agg(item ORDER BY n)::text
     FROM unnest(string_to_array(sans, ';')) WITH ORDINALITY AS t(item, n)
     WHERE item <> ''),
    '[]');
ALTER TABLE scm_csrs DROP COLUMN sans;
