-- Which master key versions each running server holds, as it last said
-- (every few seconds: crates/openccm-server/src/key_watch.rs). A rotation
-- re-seals nothing until every server seen lately holds the new version
-- (crates/openccm-server/src/admin_rotation.rs): a server whose key file
-- lacks it would fail on every re-sealed secret.

CREATE TABLE server_keys (
    server_id TEXT    PRIMARY KEY,
    host      TEXT    NOT NULL,
    versions  TEXT    NOT NULL,
    seen_at   INTEGER NOT NULL
);
