-- Password guessing: a user's consecutive failed logins within the current
-- window, and until when the user is locked out. One row per user that ever
-- failed; a successful login deletes it. Shared by every server, so that a
-- lockout holds on all of them.
CREATE TABLE login_failures (
    user_id           TEXT    PRIMARY KEY,
    failures          INTEGER NOT NULL,
    window_started_at INTEGER NOT NULL,
    locked_until      INTEGER NOT NULL
);
