-- A page of certificates filtered by one tag, read off the tags in the
-- list's order instead of walking every certificate (docs/scale.md).
--
-- The resource-instances filter lists certificates newest first. Walking
-- the account's certificates in that order and testing each for the tag
-- reads every certificate newer than the page: a tag put on older
-- certificates only, under a stream of new untagged ones, costs a read of
-- all of those on every request. Each certificate tag now carries its
-- certificate's creation time (`resource_created`, written with the tag:
-- crates/openccm-store/src/queries/mod.rs, set_tag; a certificate's
-- creation time never changes), and an index keeps an account's tags of
-- one key and value in that order, so a page is one index range per value
-- (crates/openccm-store/src/queries/pca/search.rs, page_by_tag).
ALTER TABLE tags ADD COLUMN resource_created BIGINT;

-- The backfill changes no value: the counters' trigger need not run (it
-- now runs only when a statement sets a value).
DROP TRIGGER tags_counted ON tags;
UPDATE tags t SET resource_created = c.create_time
FROM certificates c
WHERE t.resource_type = 'pca-cert' AND c.certificate_id = t.resource_id;
CREATE TRIGGER tags_counted AFTER INSERT OR DELETE OR UPDATE OF tag_value ON tags
    FOR EACH ROW EXECUTE FUNCTION count_tags();

CREATE INDEX tags_certificate_order_idx ON tags
    (domain_id, tag_key, tag_value, resource_created, resource_id)
    WHERE resource_type = 'pca-cert';
