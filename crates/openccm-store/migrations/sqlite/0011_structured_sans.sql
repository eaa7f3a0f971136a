-- Alternative names are stored as a JSON array of names instead of one
-- ';'-joined text, which could not hold a name containing ';' and which
-- every reader had to split. Existing rows are split once, here.

ALTER TABLE scm_certificates ADD COLUMN alt_names TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(alt_names) AND json_type(alt_names) = 'array');
UPDATE scm_certificates SET alt_names = (
    WITH RECURSIVE split(n, item, rest) AS (
        SELECT 0, NULL, scm_certificates.sans || ';'
        UNION ALL
        SELECT n + 1, substr(rest, 1, instr(rest, ';') - 1), substr(rest, instr(rest, ';') + 1)
        FROM split WHERE rest <> ''
    )
    SELECT json_group_array(item ORDER BY n)
    FROM split WHERE item IS NOT NULL AND item <> ''
);
ALTER TABLE scm_certificates DROP COLUMN sans;

ALTER TABLE scm_csrs ADD COLUMN alt_names TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(alt_names) AND json_type(alt_names) = 'array');
UPDATE scm_csrs SET alt_names = (
    WITH RECURSIVE split(n, item, rest) AS (
        SELECT 0, NULL, coalesce(scm_csrs.sans, '') || ';'
        UNION ALL
        SELECT n + 1, substr(rest, 1, instr(rest, ';') - 1), substr(rest, instr(rest, ';') + 1)
        FROM split WHERE rest <> ''
    )
    SELECT json_group_array(item ORDER BY n)
    FROM split WHERE item IS NOT NULL AND item <> ''
);
ALTER TABLE scm_csrs DROP COLUMN sans;
