-- jEAP's idempotent_processing table (created_at in milliseconds since the Unix epoch).
-- IF NOT EXISTS: a table created before the migrations existed is adopted as version 1.
CREATE TABLE IF NOT EXISTS idempotent_processing (
    id TEXT NOT NULL,
    context TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (id, context));
