-- Console sessions that were signed out (crates/openccm-app/src/iam/console.rs):
-- a session is a sealed token in a cookie, valid by itself until it
-- expires; a row here (the SHA-256 of the token, hex) ends it early on
-- every server. Rows are kept until the token would have expired anyway.
CREATE TABLE console_signouts (
    digest     TEXT    PRIMARY KEY,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX console_signouts_expiry_idx ON console_signouts (expires_at);
