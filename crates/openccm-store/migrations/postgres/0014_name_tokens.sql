-- Name search by 8-character windows instead of trigrams (docs/scale.md).
--
-- A trigram index answers a LIKE in the time of its rarest trigram's
-- posting list, and in names made of digits and a few shared words every
-- trigram is common: its lists grow with the store (21 ms at a million
-- names for a keyword that names one, in a prototype; 0.08 ms with this
-- index). Eight characters are rare
-- enough to name few certificates whatever the store holds. Each live
-- certificate's lowercased name is indexed as the set of its substrings
-- of 8 characters, and the shorter ones at its end, as the lexemes of a
-- tsvector: a keyword of 8 characters or more is the AND of its own
-- windows, a shorter one a prefix query (`crates/openccm-store/src/
-- queries/pca/search.rs` builds the query; NAME_WINDOW_CHARS in
-- crates/openccm-store/src/db.rs is the 8), and the list's LIKE stays the
-- exact test. `array_to_tsvector` takes the windows verbatim, with no
-- parsing, stemming or positions; about 300 bytes per certificate against
-- the trigram index's 75 (in a prototype of a million names).
--
-- Building a name's windows takes about 39 µs (measured on 100,000 names:
-- 80 times `lower`, whose cost is 1), which COST tells the planner, so
-- that a query tests its other conditions first and reads the index rather
-- than building every row's windows (crates/openccm-store/src/queries/pca/
-- search.rs also leaves the condition out when the keyword is not
-- selective).
CREATE FUNCTION certificate_name_windows(name TEXT) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$
    SELECT array_to_tsvector(ARRAY(SELECT substr(name, i, 8) FROM generate_series(1, length(name)) AS i))
$$;

--
-- New entries wait in the index's pending list until it fills, and every
-- search reads the whole list: at the default 4 MB (about 4,000 new
-- certificates) a one-match keyword took 40 ms instead of 3 ms after a
-- burst of issuance. 64 kB, the least allowed, flushes about every 60
-- certificates, in one sorted batch, at no measurable cost to issuance.
CREATE INDEX certificates_live_name_windows_idx ON certificates
    USING gin (certificate_name_windows(LOWER(common_name)))
    WITH (gin_pending_list_limit = 64)
    WHERE state = 'ISSUED' AND deleted_at IS NULL;
DROP INDEX certificates_live_name_trgm_idx;
