-- Master-key rotations: one row per version that every sealed secret is
-- being (or was) re-sealed under. An unfinished row is a rotation that was
-- interrupted: `openccm admin rotate-master-key` resumes it instead of
-- adding another version (crates/openccm-app/src/rotation.rs).

CREATE TABLE key_rotations (
    version     INTEGER PRIMARY KEY,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER
);
