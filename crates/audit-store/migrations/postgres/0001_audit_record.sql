-- audit-store schema for PostgreSQL, version 1.
-- Applied by `AuditStore::migrate()` (recorded in audit_store_migration); teams with their own
-- migration tool can apply this file as is (it is idempotent).
--
-- One row per audit record: the columns a query filters on, plus the whole AuditRecord as jsonb.
-- Idempotence: one row per idempotence id (the jEAP deduplication key).
-- trigger_kind: 'USER' (user_id + identity_provider) or 'SYSTEM_COMPONENT'
-- (trigger_department, trigger_system, trigger_component).
-- source_kind: 'KAFKA' (source_topic, source_partition, source_offset) or 'HTTP' (http_client).

CREATE TABLE IF NOT EXISTS audit_record (
    id                  BIGSERIAL    PRIMARY KEY,
    message_id          TEXT         NOT NULL,
    idempotence_id      TEXT         NOT NULL,
    event_ts            TIMESTAMPTZ  NOT NULL,
    created_ts          TIMESTAMPTZ  NOT NULL,
    received_ts         TIMESTAMPTZ  NOT NULL,
    service             TEXT         NOT NULL,
    system              TEXT         NOT NULL,
    event_type          TEXT         NOT NULL,
    use_case            TEXT,
    process_id          TEXT,
    trigger_kind        TEXT         NOT NULL,
    user_id             TEXT,
    identity_provider   TEXT,
    trigger_department  TEXT,
    trigger_system      TEXT,
    trigger_component   TEXT,
    object_type         TEXT,
    object_id           TEXT,
    object_version      TEXT,
    schema_version      TEXT         NOT NULL,
    source_kind         TEXT         NOT NULL,
    source_topic        TEXT,
    source_partition    INTEGER,
    source_offset       BIGINT,
    http_client         TEXT,
    document            JSONB        NOT NULL
);

-- Deduplication key.
CREATE UNIQUE INDEX IF NOT EXISTS audit_record_idempotence_idx ON audit_record (idempotence_id);
-- Get by message id.
CREATE INDEX IF NOT EXISTS audit_record_message_idx ON audit_record (message_id);
-- Every index ends with (event_ts, id): the sort order and the keyset of the pagination.
-- Time range alone, retention (oldest first).
CREATE INDEX IF NOT EXISTS audit_record_time_idx ON audit_record (event_ts, id);
-- System (also the access condition) + time.
CREATE INDEX IF NOT EXISTS audit_record_system_idx ON audit_record (system, event_ts, id);
-- Service + time.
CREATE INDEX IF NOT EXISTS audit_record_service_idx ON audit_record (service, event_ts, id);
-- "Who did what": user id + time.
CREATE INDEX IF NOT EXISTS audit_record_user_idx
    ON audit_record (user_id, event_ts, id) WHERE user_id IS NOT NULL;
-- "What happened to object X": object type + id + time.
CREATE INDEX IF NOT EXISTS audit_record_object_idx
    ON audit_record (object_type, object_id, event_ts, id) WHERE object_type IS NOT NULL;
-- Process id + time.
CREATE INDEX IF NOT EXISTS audit_record_process_idx
    ON audit_record (process_id, event_ts, id) WHERE process_id IS NOT NULL;
