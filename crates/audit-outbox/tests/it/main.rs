//! Integration tests of audit-outbox against real PostgreSQL, a real Kafka-protocol broker
//! (Tansu) and librdkafka's mock cluster for fault injection.

mod support;

mod delivery;
mod faults;
mod lifecycle;
mod observe;
mod races;
