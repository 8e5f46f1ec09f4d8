//! audit-outbox (being written).
