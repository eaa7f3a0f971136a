-- The audit trail: every state-changing call and every denied one, in one
-- hash chain shared by every server. Each event's mac is an HMAC (under a
-- key derived from the master key, version key_version) over the previous
-- event's mac and this event's fields, so editing, inserting or deleting an
-- event breaks the chain (`openccm admin audit verify`). Rows are only
-- ever inserted.
CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    domain_id   TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    resource_id TEXT    NOT NULL,
    result      TEXT    NOT NULL,
    request_id  TEXT    NOT NULL,
    key_version INTEGER NOT NULL,
    mac         BLOB    NOT NULL
);
CREATE INDEX audit_events_at_idx ON audit_events (at);

-- The chain's head: the last event's seq and mac. Appending locks this row
-- (UPDATE), so appends from several servers form one chain.
CREATE TABLE audit_head (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    mac BLOB    NOT NULL
);
INSERT INTO audit_head (id, seq, mac) VALUES (1, 0, X'0000000000000000000000000000000000000000000000000000000000000000');
