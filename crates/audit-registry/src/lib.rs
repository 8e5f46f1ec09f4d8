//! audit-registry (being written).
