-- Expiry notifications (crates/openccm-app/src/notify.rs).
--
-- notification_channels: where an account's notices go (e-mail addresses,
-- one webhook with its HMAC secret sealed under the master key) and how
-- many days before expiry.
--
-- notification_outbox: every notice due, one row per channel, its id made
-- from what it is about (so a notice is queued once, whichever server or
-- pass finds it first), delivered at least once: a sender claims a row by
-- moving next_attempt_at past its lease, and marks it delivered after the
-- receiver accepted it.

CREATE TABLE notification_channels (
    domain_id             TEXT    PRIMARY KEY REFERENCES accounts (domain_id),
    emails                TEXT    NOT NULL,
    webhook_url           TEXT,
    sealed_webhook_secret BYTEA,
    days                  TEXT    NOT NULL,
    updated_at            BIGINT NOT NULL
);

CREATE TABLE notification_outbox (
    event_id        TEXT    PRIMARY KEY,
    domain_id       TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    notice_type     TEXT    NOT NULL,
    resource_type   TEXT    NOT NULL,
    resource_id     TEXT    NOT NULL,
    resource_name   TEXT    NOT NULL,
    not_after       BIGINT NOT NULL,
    days_before     BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    delivered_at    BIGINT,
    last_error      TEXT
);
-- What is still to send, soonest first.
CREATE INDEX notification_outbox_due_idx ON notification_outbox (next_attempt_at)
    WHERE delivered_at IS NULL;
-- An account's notices, newest first (openccm admin notification show).
CREATE INDEX notification_outbox_domain_idx ON notification_outbox (domain_id, created_at);
