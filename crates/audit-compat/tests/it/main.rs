//! Integration tests of audit-compat: the schema-pair corpus and the real `avro/` directory.

// Fixture edits index serde_json values; in a test a panic is simply a failure.
#![allow(clippy::indexing_slicing)]

mod avro_dir;
mod corpus;
