-- jEAP's idempotent_processing table. IF NOT EXISTS: a table created before the migrations
-- existed (the former POSTGRES_DDL, same columns) is adopted as version 1.
CREATE TABLE IF NOT EXISTS idempotent_processing (
    id VARCHAR(255) NOT NULL,
    context VARCHAR(255) NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (id, context));
