-- audit-outbox schema for PostgreSQL, version 1.
-- Applied by `Outbox::migrate()` (recorded in audit_outbox_migration); teams with their own
-- migration tool can apply this file as is (it is idempotent).
--
-- One row per record to deliver. States:
--   pending: sent_at IS NULL AND failed_at IS NULL (ready when next_attempt_at <= now() and no live claim)
--   sent:    sent_at IS NOT NULL (the broker acknowledged the record)
--   failed:  failed_at IS NOT NULL (permanent failure, failure_reason says why; resend clears it)
-- headers: for each header in order, u32 big-endian name length, UTF-8 name, u32 big-endian value
-- length, value bytes (empty: no headers).

CREATE TABLE IF NOT EXISTS audit_outbox (
    id                  BIGSERIAL    PRIMARY KEY,
    topic               TEXT         NOT NULL,
    msg_key             BYTEA,
    value               BYTEA        NOT NULL,
    headers             BYTEA        NOT NULL,
    message_id          TEXT         NOT NULL,
    idempotence_id      TEXT         NOT NULL,
    type_name           TEXT         NOT NULL,
    type_version        TEXT,
    created_at          TIMESTAMPTZ  NOT NULL,
    enqueued_at         TIMESTAMPTZ  NOT NULL DEFAULT clock_timestamp(),
    attempts            INTEGER      NOT NULL DEFAULT 0,
    next_attempt_at     TIMESTAMPTZ  NOT NULL DEFAULT '-infinity',
    claimed_by          TEXT,
    claim_expires_at    TIMESTAMPTZ,
    last_error          TEXT,
    sent_at             TIMESTAMPTZ,
    failed_at           TIMESTAMPTZ,
    failure_reason      TEXT,
    resend_requested_at TIMESTAMPTZ
) WITH (fillfactor = 70);
-- fillfactor 70: room in each page so that claiming (claimed_by, claim_expires_at: no index uses
-- them) is a HOT update without new index entries.

-- Claiming: pending rows in id order.
CREATE INDEX IF NOT EXISTS audit_outbox_pending_idx
    ON audit_outbox (id) WHERE sent_at IS NULL AND failed_at IS NULL;
-- Per-key ordering check: is there an earlier pending row with the same topic and key?
CREATE INDEX IF NOT EXISTS audit_outbox_pending_key_idx
    ON audit_outbox (topic, msg_key, id) WHERE sent_at IS NULL AND failed_at IS NULL AND msg_key IS NOT NULL;
-- Housekeeping of sent rows.
CREATE INDEX IF NOT EXISTS audit_outbox_sent_idx
    ON audit_outbox (sent_at) WHERE sent_at IS NOT NULL;
-- Operator view of failed rows.
CREATE INDEX IF NOT EXISTS audit_outbox_failed_idx
    ON audit_outbox (id) WHERE failed_at IS NOT NULL;

-- Wake relays at commit: one notification per inserting statement, delivered when the
-- transaction commits (and never for a rolled-back one).
CREATE OR REPLACE FUNCTION audit_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('audit_outbox', '');
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS audit_outbox_notify_trigger ON audit_outbox;
CREATE TRIGGER audit_outbox_notify_trigger
    AFTER INSERT ON audit_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION audit_outbox_notify();
