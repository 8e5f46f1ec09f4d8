//! Metric names of the publisher (recorded through the `metrics` facade). The relay's circuit
//! state is `audit_outbox_circuit_open` / `audit_outbox_circuit_transitions_total` (see
//! [`audit_outbox::metrics`]).
//!
//! | name | kind | labels | meaning |
//! |---|---|---|---|
//! | `audit_publisher_accepted_total` | counter | | commands accepted into the queue |
//! | `audit_publisher_written_total` | counter | | commands written (committed) to the SQLite outbox |
//! | `audit_publisher_dropped_total` | counter | `reason` = `queue_full` / `rate_limit` | commands dropped by policy |
//! | `audit_publisher_rejected_total` | counter | | commands given back because the queue was full |
//! | `audit_publisher_waited_total` | counter | | calls that waited for room (`WhenFull::Wait`) |
//! | `audit_publisher_write_errors_total` | counter | | failed SQLite writes (retried) |
//! | `audit_publisher_queue_depth` | gauge | | commands in the queue after the writer's last batch |
//! | `audit_publisher_queue_capacity` | gauge | | the queue's capacity |

/// Counter: accepted commands.
pub const ACCEPTED: &str = "audit_publisher_accepted_total";
/// Counter: commands written to SQLite.
pub const WRITTEN: &str = "audit_publisher_written_total";
/// Counter with label `reason`: dropped commands.
pub const DROPPED: &str = "audit_publisher_dropped_total";
/// Counter: rejected commands.
pub const REJECTED: &str = "audit_publisher_rejected_total";
/// Counter: calls that waited for room.
pub const WAITED: &str = "audit_publisher_waited_total";
/// Counter: failed SQLite writes.
pub const WRITE_ERRORS: &str = "audit_publisher_write_errors_total";
/// Gauge: queue depth.
pub const QUEUE_DEPTH: &str = "audit_publisher_queue_depth";
/// Gauge: queue capacity.
pub const QUEUE_CAPACITY: &str = "audit_publisher_queue_capacity";

/// Registers descriptions and units of the publisher's metrics (and the outbox's) with the
/// installed recorder.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge};
    audit_outbox::metrics::describe();
    describe_counter!(
        ACCEPTED,
        Unit::Count,
        "Audit commands accepted into the queue"
    );
    describe_counter!(
        WRITTEN,
        Unit::Count,
        "Audit commands written to the SQLite outbox"
    );
    describe_counter!(DROPPED, Unit::Count, "Audit commands dropped by policy");
    describe_counter!(
        REJECTED,
        Unit::Count,
        "Audit commands rejected on a full queue"
    );
    describe_counter!(WAITED, Unit::Count, "Publish calls that waited for room");
    describe_counter!(WRITE_ERRORS, Unit::Count, "Failed SQLite writes (retried)");
    describe_gauge!(QUEUE_DEPTH, Unit::Count, "Audit commands in the queue");
    describe_gauge!(QUEUE_CAPACITY, Unit::Count, "Capacity of the audit queue");
}
