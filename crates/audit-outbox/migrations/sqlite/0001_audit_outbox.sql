-- audit-outbox schema for SQLite, version 1.
-- Applied by `Outbox::migrate()` (recorded in audit_outbox_migration); teams with their own
-- migration tool can apply this file as is (it is idempotent).
--
-- Times are INTEGER microseconds since the Unix epoch (UTC).
-- States:
--   pending: sent_at IS NULL AND failed_at IS NULL (ready when next_attempt_at <= now and no live claim)
--   sent:    sent_at IS NOT NULL (the broker acknowledged the record)
--   failed:  failed_at IS NOT NULL (permanent failure, failure_reason says why; resend clears it)
-- headers: for each header in order, u32 big-endian name length, UTF-8 name, u32 big-endian value
-- length, value bytes (empty: no headers).

CREATE TABLE IF NOT EXISTS audit_outbox (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    topic               TEXT    NOT NULL,
    msg_key             BLOB,
    value               BLOB    NOT NULL,
    headers             BLOB    NOT NULL,
    message_id          TEXT    NOT NULL,
    idempotence_id      TEXT    NOT NULL,
    type_name           TEXT    NOT NULL,
    type_version        TEXT,
    created_at          INTEGER NOT NULL,
    enqueued_at         INTEGER NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER NOT NULL DEFAULT 0,
    claimed_by          TEXT,
    claim_expires_at    INTEGER,
    last_error          TEXT,
    sent_at             INTEGER,
    failed_at           INTEGER,
    failure_reason      TEXT,
    resend_requested_at INTEGER
);

CREATE INDEX IF NOT EXISTS audit_outbox_pending_idx
    ON audit_outbox (id) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX IF NOT EXISTS audit_outbox_pending_key_idx
    ON audit_outbox (topic, msg_key, id) WHERE sent_at IS NULL AND failed_at IS NULL AND msg_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_outbox_sent_idx
    ON audit_outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_outbox_failed_idx
    ON audit_outbox (id) WHERE failed_at IS NOT NULL;
