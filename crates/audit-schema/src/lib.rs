//! audit-schema (being written).
