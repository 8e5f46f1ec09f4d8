//! audit-testkit (being written).
