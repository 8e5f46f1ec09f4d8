//! Metric names (recorded through the `metrics` facade; install any recorder/exporter you like).
//!
//! | name | kind | labels | meaning |
//! |---|---|---|---|
//! | `audit_outbox_backlog` | gauge | | ready rows: not sent, not failed, next attempt due (rows in back-off are not counted; `Outbox::counts` has both), refreshed by relay and housekeeping |
//! | `audit_outbox_failed` | gauge | | rows failed permanently |
//! | `audit_outbox_enqueued_total` | counter | | enqueue calls that inserted a row (a later rollback still counts) |
//! | `audit_outbox_delivered_total` | counter | | rows acknowledged by the broker and marked sent |
//! | `audit_outbox_delivery_failures_total` | counter | `class` = `permanent` / `transient` | failed delivery attempts |
//! | `audit_outbox_commit_to_ack_seconds` | histogram | | from the row's insert (commit) to the broker's acknowledgement |
//! | `audit_outbox_batch_duration_seconds` | histogram | | one relay batch: claim, produce, await acks, mark |
//! | `audit_outbox_producer_rebuilds_total` | counter | | producer rebuilt after a fatal idempotent-producer error |
//! | `audit_outbox_database_errors_total` | counter | `operation` | relay/housekeeping database errors (retried) |
//! | `audit_outbox_listener_reconnects_total` | counter | | PostgreSQL LISTEN connection re-opened |
//! | `audit_outbox_housekeeping_deleted_total` | counter | `state` = `sent` / `failed` | rows deleted by housekeeping |
//! | `audit_outbox_claims_total` | counter | | claim statements run by relays (with or without rows) |
//! | `audit_outbox_claims_lost_total` | counter | `reason` = `taken_over` / `lease_expired` | rows whose status change a relay did not make: another relay held the claim by then, or the lease had run out before the statement |
//! | `audit_outbox_settle_panics_total` | counter | | batch-settling tasks that panicked (their rows are released at once) |
//! | `audit_outbox_circuit_open` | gauge | | the relay's circuit state: 1 open (the broker is failing, rows wait in back-off), 0 closed (set at each transition) |
//! | `audit_outbox_circuit_transitions_total` | counter | `state` = `open` / `closed` | circuit state changes |
//! | `audit_outbox_rate_limit_waits_total` | counter | | times a rate-limited relay waited for tokens before claiming |

/// Gauge: pending rows.
pub const BACKLOG: &str = "audit_outbox_backlog";
/// Gauge: failed rows.
pub const FAILED: &str = "audit_outbox_failed";
/// Counter: enqueued rows.
pub const ENQUEUED: &str = "audit_outbox_enqueued_total";
/// Counter: delivered rows.
pub const DELIVERED: &str = "audit_outbox_delivered_total";
/// Counter with label `class`: delivery failures.
pub const DELIVERY_FAILURES: &str = "audit_outbox_delivery_failures_total";
/// Histogram: seconds from insert to broker acknowledgement.
pub const COMMIT_TO_ACK: &str = "audit_outbox_commit_to_ack_seconds";
/// Histogram: seconds per relay batch.
pub const BATCH_DURATION: &str = "audit_outbox_batch_duration_seconds";
/// Counter: producer rebuilds.
pub const PRODUCER_REBUILDS: &str = "audit_outbox_producer_rebuilds_total";
/// Counter with label `operation`: database errors seen by the background tasks.
pub const DATABASE_ERRORS: &str = "audit_outbox_database_errors_total";
/// Counter: LISTEN reconnects.
pub const LISTENER_RECONNECTS: &str = "audit_outbox_listener_reconnects_total";
/// Counter with label `state`: rows deleted by housekeeping.
pub const HOUSEKEEPING_DELETED: &str = "audit_outbox_housekeeping_deleted_total";

/// Counter: claim statements.
pub const CLAIMS: &str = "audit_outbox_claims_total";
/// Counter with label `reason`: status changes not made because the claim was gone.
pub const CLAIMS_LOST: &str = "audit_outbox_claims_lost_total";
/// Counter: panicked batch-settling tasks.
pub const SETTLE_PANICS: &str = "audit_outbox_settle_panics_total";
/// Gauge: 1 while the relay's circuit is open (broker failing), 0 when closed.
pub const CIRCUIT_OPEN: &str = "audit_outbox_circuit_open";
/// Counter with label `state` (`open` / `closed`): circuit state changes.
pub const CIRCUIT_TRANSITIONS: &str = "audit_outbox_circuit_transitions_total";
/// Counter: waits of a rate-limited relay for tokens.
pub const RATE_LIMIT_WAITS: &str = "audit_outbox_rate_limit_waits_total";

/// Registers descriptions and units of all metrics with the installed recorder.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_gauge!(
        BACKLOG,
        Unit::Count,
        "Outbox rows not yet sent and not failed"
    );
    describe_gauge!(FAILED, Unit::Count, "Outbox rows failed permanently");
    describe_counter!(ENQUEUED, Unit::Count, "Rows inserted into the outbox");
    describe_counter!(
        DELIVERED,
        Unit::Count,
        "Rows acknowledged by Kafka and marked sent"
    );
    describe_counter!(
        DELIVERY_FAILURES,
        Unit::Count,
        "Failed delivery attempts by class"
    );
    describe_histogram!(
        COMMIT_TO_ACK,
        Unit::Seconds,
        "Insert to broker acknowledgement"
    );
    describe_histogram!(BATCH_DURATION, Unit::Seconds, "Duration of one relay batch");
    describe_counter!(
        PRODUCER_REBUILDS,
        Unit::Count,
        "Kafka producer rebuilds after fatal errors"
    );
    describe_counter!(
        DATABASE_ERRORS,
        Unit::Count,
        "Database errors in background tasks"
    );
    describe_counter!(CLAIMS, Unit::Count, "Relay claim statements");
    describe_counter!(
        CLAIMS_LOST,
        Unit::Count,
        "Row status changes not made because the relay's claim was gone"
    );
    describe_counter!(
        SETTLE_PANICS,
        Unit::Count,
        "Relay batch-settling tasks that panicked"
    );
    describe_gauge!(
        CIRCUIT_OPEN,
        Unit::Count,
        "1 while the relay's circuit is open (broker failing), 0 when closed"
    );
    describe_counter!(
        CIRCUIT_TRANSITIONS,
        Unit::Count,
        "Relay circuit state changes by new state"
    );
    describe_counter!(
        RATE_LIMIT_WAITS,
        Unit::Count,
        "Waits of a rate-limited relay for tokens"
    );
    describe_counter!(
        LISTENER_RECONNECTS,
        Unit::Count,
        "LISTEN connection re-opened"
    );
    describe_counter!(
        HOUSEKEEPING_DELETED,
        Unit::Count,
        "Rows deleted by housekeeping"
    );
}
