//! Produces Confluent-framed audit commands of varied shapes (plus, optionally, garbage records)
//! to a Kafka topic, for trying and measuring `audit tail` (Debian's kcat cannot talk to every
//! broker, e.g. Tansu 0.6.0).
//!
//! ```text
//! cargo run -p audit-cli --example produce -- --brokers 127.0.0.1:9092 --topic audit-commands \
//!     --count 100000 --schema-id 1 --garbage-every 1000
//! audit tail --brokers 127.0.0.1:9092 --topic audit-commands --schema-id 1=1.0.2 \
//!     --from beginning --timeout 5 --quiet > records.jsonl
//! ```

use std::time::{Duration, Instant};

use audit_builder::{AuditCommandBuilder, AuditEventType, AuditedObject};
use chrono::{TimeZone, Utc};
use clap::Parser;
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

/// Produce audit commands to a topic.
#[derive(Debug, Parser)]
struct Args {
    /// Kafka bootstrap servers.
    #[arg(long, env = "AUDIT_BROKERS", default_value = "127.0.0.1:9092")]
    brokers: String,
    /// The topic (must exist).
    #[arg(long)]
    topic: String,
    /// How many records.
    #[arg(long, default_value_t = 10)]
    count: u64,
    /// The schema id written into the Confluent header (the commands are written as 1.0.2).
    #[arg(long, default_value_t = 1)]
    schema_id: u32,
    /// Make every Nth record garbage bytes (0: none).
    #[arg(long, default_value_t = 0)]
    garbage_every: u64,
}

fn command(i: u64) -> Result<Vec<u8>, audit_builder::Error> {
    let at = Utc
        .timestamp_millis_opt(1_700_000_000_000 + i64::try_from(i).unwrap_or_default())
        .single()
        .unwrap_or_default();
    let system = match i % 3 {
        0 => "BILLING",
        1 => "HR",
        _ => "CRM",
    };
    let event_type = match i % 4 {
        0 => AuditEventType::Created,
        1 => AuditEventType::Read,
        2 => AuditEventType::Modified,
        _ => AuditEventType::Deleted,
    };
    let mut builder =
        AuditCommandBuilder::new(format!("{}-service", system.to_lowercase()), system, at)
            .event_type(event_type)
            .idempotence_id(format!("produce-{i}"));
    builder = if i.is_multiple_of(2) {
        builder.user(format!("u{}", i % 100), "keycloak")
    } else {
        builder.system_component("IT", system, "nightly-job")
    };
    if i.is_multiple_of(5) {
        builder = builder
            .context("demo")
            .event_data("i", i.to_string())
            .audited_object(
                AuditedObject::new("Invoice", format!("inv-{i}")).value("status", "OPEN"),
            );
    }
    Ok(builder.build()?.to_avro_datum())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &args.brokers)
        .set("linger.ms", "5")
        .create()?;
    let started = Instant::now();
    let mut pending = Vec::new();
    for i in 0..args.count {
        let value = if args.garbage_every > 0 && i % args.garbage_every == args.garbage_every - 1 {
            b"garbage".to_vec()
        } else {
            audit_schema::confluent::frame(args.schema_id, &command(i)?)
        };
        let key = i.to_string();
        let delivery =
            producer.send_result(FutureRecord::to(&args.topic).key(&key).payload(&value));
        pending.push(delivery.map_err(|(e, _)| e)?);
        if pending.len() >= 10_000 {
            for d in pending.drain(..) {
                d.await?.map_err(|(e, _)| e)?;
            }
        }
    }
    for d in pending {
        d.await?.map_err(|(e, _)| e)?;
    }
    producer.flush(Duration::from_secs(30))?;
    eprintln!(
        "produced {} records to {} in {:.1} s",
        args.count,
        args.topic,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
