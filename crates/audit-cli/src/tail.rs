//! `audit tail`: consume a Kafka topic, decode every record value into an `AuditRecord`, filter,
//! and print one JSON line per record (a kcat-and-jq replacement for troubleshooting).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use audit_consumer::{AuditEventType, AuditRecord, LocalVersions, SchemaVersion, Trigger};
use audit_registry::RegistryClient;
use clap::{Args, ValueEnum};
use rdkafka::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::{Offset, TopicPartitionList};

use crate::connect::RegistryFlags;
use crate::error::CliError;

/// How long to wait for the brokers at start when `--timeout` is not given.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a progress line is written while stderr is a terminal.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// How many leading bytes of an undecodable value the error line shows.
const ERROR_PREFIX_BYTES: usize = 32;

/// Every event-type symbol, for `--event-type`.
const EVENT_TYPES: [AuditEventType; 8] = [
    AuditEventType::Created,
    AuditEventType::Read,
    AuditEventType::Listed,
    AuditEventType::Modified,
    AuditEventType::Disclosed,
    AuditEventType::Destroyed,
    AuditEventType::Deleted,
    AuditEventType::Unknown,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum StartFrom {
    /// The oldest record still in each partition.
    Beginning,
    /// Only records produced after the start (the end offsets are read before the first record).
    End,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Prints one JSON line per decoded record on stdout: the consumer's AuditRecord (serviceName,
systemName, timestamp, event, trigger, auditedObject, metadata). With --envelope each line is
{\"topic\",\"partition\",\"offset\",\"timestamp\",\"key\",\"record\"} instead.

Record values are Confluent-framed (0x00, 4-byte schema id, Avro datum). The writer schema comes
from --registry (looked up once per id), or from --schema-id ID=VERSION mappings to the versions
built into this tool (1.0.0, 1.0.1, 1.0.2); both together: the mappings answer without a lookup.

Filters: different filters must all match; the values of one repeated filter are alternatives.
  --event-type CREATED,MODIFIED   event type (also repeatable)
  --system NAME / --service NAME  the publisher (the auditing system / service)
  --trigger user                  any user;           --trigger user:ID         this user id
  --trigger component             any component;      --trigger component:NAME  this component

Without --group the tool reads every partition with manual assignment and commits nothing.
With --group it joins that consumer group, commits what it has handled (printed, filtered or
reported undecodable) and continues there next time; --from applies only while the group has no
committed offset.

Undecodable records (garbage, unknown schema id, empty value) are reported on stderr as one JSON
line each, {\"error\",\"topic\",\"partition\",\"offset\",\"value_len\",\"value_prefix_hex\"}, and
skipped; --fail-on-error stops at the first one instead. Status lines on stderr start with
`audit:`; the summary at the end counts records seen, printed, skipped by filter and undecodable.

Stops at --max printed records, after --timeout seconds without a record, or on Ctrl-C / SIGTERM.

Examples:
  audit tail --brokers kafka:9092 --topic audit-commands --registry http://registry:8081
  audit tail --topic audit-commands --schema-id 1=1.0.2 --from beginning --max 10
  audit tail --topic audit-commands --schema-id 1=1.0.0 --schema-id 7=1.0.2 \\
      --event-type DELETED,DESTROYED --trigger user:alice
  audit tail --topic audit-commands --registry $SR --system BILLING --trigger component:nightly-job
  audit tail --topic audit-commands --registry $SR --from beginning --timeout 5 \\
      | jq -r '.metadata.idempotenceId'                              # dump and stop when idle
  audit tail --topic audit-commands --registry $SR --envelope --quiet 2>errors.jsonl  # only error lines
  audit tail --topic audit-commands --registry $SR -X security.protocol=SASL_SSL \\
      -X sasl.mechanism=PLAIN -X sasl.username=$KEY -X sasl.password=$SECRET

Environment: AUDIT_BROKERS (--brokers), AUDIT_REGISTRY_URL, AUDIT_REGISTRY_USER,
AUDIT_REGISTRY_PASSWORD.

Exit codes: 0 stopped by --max, --timeout, Ctrl-C or SIGTERM (also when stdout is closed);
2 bad arguments, unknown topic, or an undecodable record with --fail-on-error;
3 Kafka unreachable or failing, or (with --fail-on-error) a failed schema registry lookup.")]
pub(crate) struct TailArgs {
    /// Kafka bootstrap servers (comma-separated host:port).
    #[arg(
        long,
        env = "AUDIT_BROKERS",
        default_value = "127.0.0.1:9092",
        value_name = "HOST:PORT"
    )]
    brokers: String,
    /// The topic to read.
    #[arg(long)]
    topic: String,
    /// Where to start in each partition.
    #[arg(long, value_enum, default_value_t = StartFrom::End)]
    from: StartFrom,
    /// Join this consumer group and commit handled records (default: no group, no commits).
    #[arg(long, value_name = "GROUP")]
    group: Option<String>,
    /// Stop after printing N records.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max: Option<u64>,
    /// Stop when no record arrived for SECS seconds (also bounds the wait for the brokers at start).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    timeout: Option<u64>,
    #[command(flatten)]
    registry: RegistryFlags,
    /// Read schema id ID as the built-in schema VERSION, e.g. 1=1.0.2 (repeatable).
    #[arg(long = "schema-id", value_name = "ID=VERSION", value_parser = parse_schema_id)]
    schema_ids: Vec<(u32, SchemaVersion)>,
    /// Only these event types, e.g. CREATED (repeatable or comma-separated).
    #[arg(long = "event-type", value_name = "TYPE", value_delimiter = ',', value_parser = parse_event_type)]
    event_types: Vec<AuditEventType>,
    /// Only records published by this system (publisher.system; repeatable).
    #[arg(long = "system", value_name = "NAME")]
    systems: Vec<String>,
    /// Only records published by this service (publisher.service; repeatable).
    #[arg(long = "service", value_name = "NAME")]
    services: Vec<String>,
    /// Only records with this trigger: user, user:ID, component, component:NAME (repeatable).
    #[arg(long = "trigger", value_name = "KIND[:VALUE]", value_parser = parse_trigger)]
    triggers: Vec<TriggerFilter>,
    /// Print {"topic","partition","offset","timestamp","key","record"} per line.
    #[arg(long)]
    envelope: bool,
    /// Stop with exit code 2 at the first undecodable record.
    #[arg(long)]
    fail_on_error: bool,
    /// No start, progress and summary lines on stderr (error lines stay).
    #[arg(short, long)]
    quiet: bool,
    /// Extra librdkafka consumer property, e.g. -X security.protocol=SSL (repeatable).
    #[arg(short = 'X', value_name = "KEY=VALUE", value_parser = parse_property)]
    properties: Vec<(String, String)>,
}

fn parse_schema_id(s: &str) -> Result<(u32, SchemaVersion), String> {
    let (id, version) = s
        .split_once('=')
        .ok_or_else(|| format!("expected ID=VERSION, e.g. 1=1.0.2, got {s:?}"))?;
    let id: u32 = id
        .trim()
        .parse()
        .map_err(|_| format!("schema id {id:?} is not a number"))?;
    let version = SchemaVersion::parse(version.trim()).ok_or_else(|| {
        let known: Vec<&str> = SchemaVersion::ALL.iter().map(|v| v.as_str()).collect();
        format!(
            "unknown schema version {version:?} (known: {})",
            known.join(", ")
        )
    })?;
    Ok((id, version))
}

fn parse_event_type(s: &str) -> Result<AuditEventType, String> {
    EVENT_TYPES
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
        .ok_or_else(|| {
            let known: Vec<&str> = EVENT_TYPES.iter().map(|t| t.as_str()).collect();
            format!("unknown event type {s:?} (known: {})", known.join(", "))
        })
}

fn parse_property(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

/// One `--trigger` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TriggerFilter {
    /// A user, optionally with this id.
    User(Option<String>),
    /// A system component, optionally with this component name.
    Component(Option<String>),
}

fn parse_trigger(s: &str) -> Result<TriggerFilter, String> {
    let (kind, value) = match s.split_once(':') {
        Some((k, "")) => return Err(format!("{k}: needs a value after ':'")),
        Some((k, v)) => (k, Some(v.to_owned())),
        None => (s, None),
    };
    match kind {
        "user" => Ok(TriggerFilter::User(value)),
        "component" => Ok(TriggerFilter::Component(value)),
        _ => Err(format!(
            "expected user, user:ID, component or component:NAME, got {s:?}"
        )),
    }
}

/// The record filters: AND across kinds, OR within one kind; an empty kind matches everything.
#[derive(Debug, Default)]
struct Filter {
    event_types: Vec<AuditEventType>,
    systems: Vec<String>,
    services: Vec<String>,
    triggers: Vec<TriggerFilter>,
}

impl Filter {
    fn matches(&self, record: &AuditRecord) -> bool {
        (self.event_types.is_empty() || self.event_types.contains(&record.event().event_type()))
            && (self.systems.is_empty() || self.systems.iter().any(|s| s == record.system_name()))
            && (self.services.is_empty()
                || self.services.iter().any(|s| s == record.service_name()))
            && (self.triggers.is_empty()
                || self
                    .triggers
                    .iter()
                    .any(|t| trigger_matches(t, record.trigger())))
    }
}

fn trigger_matches(filter: &TriggerFilter, trigger: &Trigger) -> bool {
    match (filter, trigger) {
        (TriggerFilter::User(id), Trigger::User(user)) => {
            id.as_deref().is_none_or(|id| id == user.id())
        }
        (TriggerFilter::Component(name), Trigger::SystemComponent(c)) => {
            name.as_deref().is_none_or(|name| name == c.component())
        }
        _ => false,
    }
}

/// Where writer schemas come from.
enum Schemas {
    /// `--schema-id` mappings only.
    Local(LocalVersions),
    /// A registry client, the consumer's writer-schema source (with the `--schema-id` mappings
    /// pinned in its configuration).
    Registry(RegistryClient),
}

impl Schemas {
    fn from_args(args: &TailArgs) -> Result<Self, CliError> {
        let Some(mut config) = args.registry.config()? else {
            if args.schema_ids.is_empty() {
                return Err(CliError::input(
                    "no writer schemas: pass --registry URL, or --schema-id ID=VERSION (e.g. --schema-id 1=1.0.2)",
                ));
            }
            let versions = args
                .schema_ids
                .iter()
                .fold(LocalVersions::new(), |v, &(id, version)| {
                    v.with_id(id, version)
                });
            return Ok(Schemas::Local(versions));
        };
        for &(id, version) in &args.schema_ids {
            config = config.pin_schema_id(version, id);
        }
        Ok(Schemas::Registry(crate::connect::client(config)?))
    }

    async fn decode(&self, value: &[u8]) -> Result<AuditRecord, audit_consumer::Error> {
        match self {
            Schemas::Local(versions) => audit_consumer::decode(value, versions),
            Schemas::Registry(registry) => audit_consumer::decode_async(value, registry).await,
        }
    }

    fn describe(&self, mappings: &[(u32, SchemaVersion)]) -> String {
        let ids: Vec<String> = mappings
            .iter()
            .map(|(id, v)| format!("id {id} = {}", v.as_str()))
            .collect();
        match self {
            Schemas::Local(_) => ids.join(", "),
            Schemas::Registry(r) if ids.is_empty() => format!("registry {}", r.url()),
            Schemas::Registry(r) => format!("registry {} ({})", r.url(), ids.join(", ")),
        }
    }
}

/// Why the tail stopped.
#[derive(Debug, Clone, Copy)]
enum Stop {
    Max,
    Idle(u64),
    Interrupted,
    Terminated,
    StdoutClosed,
    Failed,
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Max => f.write_str("--max reached"),
            Stop::Idle(secs) => write!(f, "no record for {secs} s"),
            Stop::Interrupted => f.write_str("interrupted"),
            Stop::Terminated => f.write_str("terminated"),
            Stop::StdoutClosed => f.write_str("stdout closed"),
            Stop::Failed => f.write_str("failed"),
        }
    }
}

#[derive(Debug, Default)]
struct Stats {
    seen: u64,
    printed: u64,
    filtered: u64,
    errors: u64,
    kafka_errors: u64,
}

impl Stats {
    fn line(&self) -> String {
        let mut s = format!(
            "{} records seen, {} printed, {} skipped by filter, {} undecodable",
            self.seen, self.printed, self.filtered, self.errors
        );
        if self.kafka_errors > 0 {
            s.push_str(&format!(", {} Kafka errors", self.kafka_errors));
        }
        s
    }
}

pub(crate) fn run(args: TailArgs) -> Result<(), CliError> {
    let schemas = Schemas::from_args(&args)?;
    let filter = Filter {
        event_types: args.event_types.clone(),
        systems: args.systems.clone(),
        services: args.services.clone(),
        triggers: args.triggers.clone(),
    };
    let rt = crate::connect::runtime()?;
    rt.block_on(tail(&args, &schemas, &filter))
}

fn kafka_io(context: String, e: KafkaError) -> CliError {
    CliError::io_from(context, e)
}

/// Creates the consumer and assigns / subscribes; returns it and the partition count.
fn connect(args: &TailArgs) -> Result<(StreamConsumer, usize), CliError> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &args.brokers)
        .set("enable.partition.eof", "false")
        .set(
            "auto.offset.reset",
            match args.from {
                StartFrom::Beginning => "earliest",
                StartFrom::End => "latest",
            },
        );
    match &args.group {
        Some(group) => {
            config
                .set("group.id", group)
                .set("enable.auto.commit", "true")
                .set("enable.auto.offset.store", "false");
        }
        None => {
            // librdkafka needs a group id for manual assignment; it never joins nor commits
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            config
                .set(
                    "group.id",
                    format!("audit-tail-{}-{nanos:08x}", std::process::id()),
                )
                .set("enable.auto.commit", "false")
                .set("enable.auto.offset.store", "false");
        }
    }
    for (k, v) in &args.properties {
        config.set(k, v);
    }
    let consumer: StreamConsumer = config
        .create()
        .map_err(|e| CliError::input_from("invalid Kafka consumer configuration", e))?;

    let wait = args.timeout.map_or(CONNECT_TIMEOUT, Duration::from_secs);
    let metadata = consumer
        .fetch_metadata(Some(&args.topic), wait)
        .map_err(|e| {
            kafka_io(
                format!("cannot reach the Kafka brokers {}", args.brokers),
                e,
            )
        })?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == args.topic)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    if partitions.is_empty() {
        let reason = metadata
            .topics()
            .iter()
            .find_map(|t| t.error())
            .map_or_else(
                || "no partitions".to_owned(),
                |e| RDKafkaErrorCode::from(e).to_string(),
            );
        return Err(CliError::input(format!(
            "topic {:?} does not exist at {} ({reason})",
            args.topic, args.brokers
        )));
    }

    if args.group.is_some() {
        consumer
            .subscribe(&[args.topic.as_str()])
            .map_err(|e| kafka_io(format!("cannot subscribe to {}", args.topic), e))?;
    } else {
        let mut tpl = TopicPartitionList::new();
        for &p in &partitions {
            let offset = match args.from {
                StartFrom::Beginning => Offset::Beginning,
                // resolved now, so that everything produced after the start line is printed
                StartFrom::End => {
                    let (_low, high) =
                        consumer
                            .fetch_watermarks(&args.topic, p, wait)
                            .map_err(|e| {
                                kafka_io(
                                    format!("cannot read the end offset of {}/{p}", args.topic),
                                    e,
                                )
                            })?;
                    Offset::Offset(high)
                }
            };
            tpl.add_partition_offset(&args.topic, p, offset)
                .map_err(|e| kafka_io(format!("cannot assign {}/{p}", args.topic), e))?;
        }
        consumer
            .assign(&tpl)
            .map_err(|e| kafka_io(format!("cannot assign {}", args.topic), e))?;
    }
    Ok((consumer, partitions.len()))
}

/// The stderr line for an undecodable record.
fn error_line(msg: &BorrowedMessage<'_>, error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cur = error.source();
    while let Some(c) = cur {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cur = c.source();
    }
    let value = msg.payload().unwrap_or_default();
    let prefix = value.get(..ERROR_PREFIX_BYTES).unwrap_or(value);
    serde_json::json!({
        "error": text,
        "topic": msg.topic(),
        "partition": msg.partition(),
        "offset": msg.offset(),
        "value_len": msg.payload().map(<[u8]>::len),
        "value_prefix_hex": hex::encode(prefix),
    })
    .to_string()
}

/// The stdout line for a printed record.
fn record_line(
    msg: &BorrowedMessage<'_>,
    record: &AuditRecord,
    envelope: bool,
) -> Result<String, serde_json::Error> {
    if !envelope {
        return serde_json::to_string(record);
    }
    let key = msg.key().map(|k| match std::str::from_utf8(k) {
        Ok(s) => serde_json::json!(s),
        Err(_) => serde_json::json!({ "hex": hex::encode(k) }),
    });
    serde_json::to_string(&serde_json::json!({
        "topic": msg.topic(),
        "partition": msg.partition(),
        "offset": msg.offset(),
        "timestamp": msg.timestamp().to_millis(),
        "key": key,
        "record": record,
    }))
}

/// Why a record could not be turned into a record.
#[derive(Debug, thiserror::Error)]
enum RecordError {
    #[error("the record has no value (tombstone)")]
    NoValue,
    #[error(transparent)]
    Decode(#[from] audit_consumer::Error),
}

async fn tail(args: &TailArgs, schemas: &Schemas, filter: &Filter) -> Result<(), CliError> {
    // installed before the start line, so that a signal right after it is caught
    let signal = |kind: tokio::signal::unix::SignalKind| {
        tokio::signal::unix::signal(kind)
            .map_err(|e| CliError::io_from("cannot install the signal handlers", e))
    };
    let mut interrupt = signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut term = signal(tokio::signal::unix::SignalKind::terminate())?;
    let (consumer, partitions) = connect(args)?;
    let status = !args.quiet;
    if status {
        eprintln!(
            "audit: tailing {} ({partitions} partition{}) at {} from the {}{}, schemas from {}",
            args.topic,
            if partitions == 1 { "" } else { "s" },
            args.brokers,
            match args.from {
                StartFrom::Beginning => "beginning",
                StartFrom::End => "end",
            },
            args.group
                .as_ref()
                .map(|g| format!(" (group {g})"))
                .unwrap_or_default(),
            schemas.describe(&args.schema_ids)
        );
    }

    let mut stats = Stats::default();
    let idle = args.timeout.map(Duration::from_secs);
    let started = Instant::now();
    let mut last_record = tokio::time::Instant::now();
    let mut last_progress = Instant::now();
    let progress = status && std::io::stderr().is_terminal();
    let mut stdout = std::io::stdout().lock();
    let mut failure: Option<CliError> = None;

    let stop = loop {
        if progress && last_progress.elapsed() >= PROGRESS_EVERY {
            eprintln!("audit: {}", stats.line());
            last_progress = Instant::now();
        }
        let received = tokio::select! {
            _ = interrupt.recv() => break Stop::Interrupted,
            _ = term.recv() => break Stop::Terminated,
            r = async {
                match idle {
                    Some(idle) => tokio::time::timeout_at(last_record + idle, consumer.recv()).await.ok(),
                    None => Some(consumer.recv().await),
                }
            } => r,
        };
        let msg = match received {
            None => break Stop::Idle(args.timeout.unwrap_or_default()),
            Some(Err(e)) => {
                stats.kafka_errors += 1;
                eprintln!(
                    "{}",
                    serde_json::json!({ "kafka_error": e.to_string(), "topic": args.topic })
                );
                continue;
            }
            Some(Ok(msg)) => msg,
        };
        last_record = tokio::time::Instant::now();
        stats.seen += 1;
        let decoded = match msg.payload() {
            None => Err(RecordError::NoValue),
            Some(value) => schemas.decode(value).await.map_err(RecordError::from),
        };
        match decoded {
            Err(e) => {
                stats.errors += 1;
                eprintln!("{}", error_line(&msg, &e));
                if args.fail_on_error {
                    let context = format!(
                        "record {}/{}@{} is not a decodable audit command (--fail-on-error)",
                        msg.topic(),
                        msg.partition(),
                        msg.offset()
                    );
                    failure = Some(match e {
                        RecordError::Decode(e @ audit_consumer::Error::SchemaLookup { .. }) => {
                            CliError::io_from(context, e)
                        }
                        e => CliError::input_from(context, e),
                    });
                    break Stop::Failed;
                }
            }
            Ok(record) if !filter.matches(&record) => stats.filtered += 1,
            Ok(record) => {
                let line = record_line(&msg, &record, args.envelope)
                    .map_err(|e| CliError::io_from("cannot render a record as JSON", e))?;
                match writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
                    Ok(()) => stats.printed += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                        break Stop::StdoutClosed;
                    }
                    Err(e) => {
                        failure = Some(CliError::io_from("cannot write stdout", e));
                        break Stop::Failed;
                    }
                }
            }
        }
        if args.group.is_some() {
            // handled: committed with the next auto-commit (or at the end)
            if let Err(e) = consumer.store_offset_from_message(&msg) {
                eprintln!(
                    "{}",
                    serde_json::json!({ "kafka_error": format!("cannot store the offset: {e}"), "topic": args.topic })
                );
            }
        }
        if args.max.is_some_and(|max| stats.printed >= max) {
            break Stop::Max;
        }
    };

    if args.group.is_some() {
        match consumer.commit_consumer_state(CommitMode::Sync) {
            Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
            Err(e) => {
                eprintln!(
                    "{}",
                    serde_json::json!({ "kafka_error": format!("cannot commit the offsets: {e}"), "topic": args.topic })
                );
            }
        }
    }
    if status {
        eprintln!(
            "audit: tail stopped ({stop}) after {:.1} s: {}",
            started.elapsed().as_secs_f64(),
            stats.line()
        );
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_id_mappings_parse() {
        assert_eq!(parse_schema_id("1=1.0.2"), Ok((1, SchemaVersion::V1_0_2)));
        assert_eq!(
            parse_schema_id(" 7 = 1.0.0"),
            Ok((7, SchemaVersion::V1_0_0))
        );
        assert!(parse_schema_id("1").is_err());
        assert!(parse_schema_id("x=1.0.2").is_err());
        assert!(parse_schema_id("1=9.9.9").is_err_and(|e| e.contains("1.0.1")));
    }

    #[test]
    fn event_types_parse_case_insensitively() {
        assert_eq!(parse_event_type("CREATED"), Ok(AuditEventType::Created));
        assert_eq!(parse_event_type("deleted"), Ok(AuditEventType::Deleted));
        assert!(parse_event_type("EXPLODED").is_err_and(|e| e.contains("DISCLOSED")));
    }

    #[test]
    fn triggers_parse() {
        assert_eq!(parse_trigger("user"), Ok(TriggerFilter::User(None)));
        assert_eq!(
            parse_trigger("user:a:b"),
            Ok(TriggerFilter::User(Some("a:b".into())))
        );
        assert_eq!(
            parse_trigger("component:job"),
            Ok(TriggerFilter::Component(Some("job".into())))
        );
        assert!(parse_trigger("user:").is_err());
        assert!(parse_trigger("robot:r2").is_err());
    }

    #[test]
    fn properties_parse() {
        assert_eq!(
            parse_property("a.b=c=d"),
            Ok(("a.b".to_owned(), "c=d".to_owned()))
        );
        assert!(parse_property("=x").is_err());
        assert!(parse_property("novalue").is_err());
    }
}
