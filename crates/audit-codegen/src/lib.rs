//! Rust code generator for Avro schemas (internal to the audit workspace).
