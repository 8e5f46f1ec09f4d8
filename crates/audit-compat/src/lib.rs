//! audit-compat (being written).
