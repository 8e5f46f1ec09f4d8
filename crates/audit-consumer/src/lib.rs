//! audit-consumer (being written).
