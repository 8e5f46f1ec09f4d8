//! audit-builder (being written).
