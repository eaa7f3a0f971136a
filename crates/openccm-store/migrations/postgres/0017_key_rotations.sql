-- Master-key rotations: one row per version that every sealed secret is
-- being (or was) re-sealed under. An unfinished row is a rotation that was
-- interrupted: `openccm admin rotate-master-key` resumes it instead of
-- adding another version (crates/openccm-app/src/rotation.rs). Servers
-- seal under a rotation's version only from sealing_at on, set once every
-- running server holds it.

CREATE TABLE key_rotations (
    version     BIGINT PRIMARY KEY,
    started_at  BIGINT NOT NULL,
    sealing_at  BIGINT,
    finished_at BIGINT
);
