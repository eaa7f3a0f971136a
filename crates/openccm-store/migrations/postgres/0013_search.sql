-- Searching certificates by a substring of their common name, and counting
-- them by tag, without reading the whole account (tens of millions of rows;
-- docs/scale.md).
--
-- Name search: a pg_trgm GIN index over live certificates' lowercased
-- names, which the planner uses for the list's `LOWER(common_name) LIKE
-- '%…%'` by itself. (SQLite keeps a suffix index instead,
-- migrations/sqlite/0013_search.sql; here that table would cost about
-- 3 KB per certificate in heap and B-tree, against 50 bytes for this.)
-- pg_trgm ships with PostgreSQL and is a trusted extension: the owner of
-- the database may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX certificates_live_name_trgm_idx ON certificates
    USING gin (LOWER(common_name) gin_trgm_ops)
    WHERE state = 'ISSUED' AND deleted_at IS NULL;

-- Tag counts: how many resources of an account carry each tag (key, value),
-- kept by the tags table's own trigger, so that a count by one tag
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

-- Concurrent writers lock counter rows in one order (key, then value:
-- crates/openccm-store/src/queries/scm.rs sorts the tags it writes), so a
-- value change takes its two rows in value order.
CREATE FUNCTION count_tags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.tag_value < OLD.tag_value THEN
        INSERT INTO tag_counts (domain_id, resource_type, tag_key, tag_value, tagged)
        VALUES (NEW.domain_id, NEW.resource_type, NEW.tag_key, NEW.tag_value, 1)
        ON CONFLICT (domain_id, resource_type, tag_key, tag_value)
        DO UPDATE SET tagged = tag_counts.tagged + 1;
        UPDATE tag_counts SET tagged = tagged - 1
        WHERE domain_id = OLD.domain_id AND resource_type = OLD.resource_type
          AND tag_key = OLD.tag_key AND tag_value = OLD.tag_value;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE tag_counts SET tagged = tagged - 1
        WHERE domain_id = OLD.domain_id AND resource_type = OLD.resource_type
          AND tag_key = OLD.tag_key AND tag_value = OLD.tag_value;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO tag_counts (domain_id, resource_type, tag_key, tag_value, tagged)
        VALUES (NEW.domain_id, NEW.resource_type, NEW.tag_key, NEW.tag_value, 1)
        ON CONFLICT (domain_id, resource_type, tag_key, tag_value)
        DO UPDATE SET tagged = tag_counts.tagged + 1;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER tags_counted AFTER INSERT OR UPDATE OR DELETE ON tags
    FOR EACH ROW EXECUTE FUNCTION count_tags();
