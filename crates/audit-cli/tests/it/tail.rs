//! `audit tail` against a real Kafka-protocol broker (Tansu) and a real schema registry
//! (rivven-schema): decoded JSON lines, filters, error lines, termination and exit codes.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use audit_builder::{AuditCommandBuilder, AuditEventType, AuditedObject};
use audit_consumer::AuditRecord;
use audit_schema::{CreateAuditRecordCommand, SchemaVersion, confluent};
use audit_testkit::{SchemaRegistry, Tansu};
use chrono::{TimeZone, Utc};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::{TestResult, assert_fails, audit};

type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

fn tansu() -> BoxResult<&'static Tansu> {
    Ok(Tansu::shared()?)
}

/// A fresh topic with `partitions` partitions.
fn topic(name: &str, partitions: u32) -> BoxResult<String> {
    static N: AtomicU32 = AtomicU32::new(0);
    let topic = format!(
        "tail-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    tansu()?.create_topic(&topic, partitions)?;
    Ok(topic)
}

fn runtime() -> BoxResult<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Produces the values in order to partition 0 of `topic` (or spread over partitions by key
/// when `spread`). One record per batch: Tansu 0.6.0 returns nothing to a fetch starting inside
/// a multi-record batch (a group resuming from a committed offset does that).
fn produce(topic: &str, values: &[Vec<u8>], spread: bool) -> TestResult {
    runtime()?.block_on(async {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", tansu()?.bootstrap())
            .set("batch.num.messages", "1")
            .set("linger.ms", "0")
            .set("acks", "all")
            .create()?;
        for (i, value) in values.iter().enumerate() {
            let key = format!("k{i}");
            let mut record = FutureRecord::to(topic).payload(value).key(&key);
            if !spread {
                record = record.partition(0);
            }
            producer
                .send(record, Duration::from_secs(30))
                .await
                .map_err(|(e, _)| e)?;
        }
        Ok(())
    })
}

fn at(millis: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default()
}

/// A: CREATED by user u1, published by BILLING/invoice-service, with an audited object.
fn created_by_user() -> BoxResult<CreateAuditRecordCommand> {
    Ok(
        AuditCommandBuilder::new("invoice-service", "BILLING", at(1_700_000_000_001))
            .event_type(AuditEventType::Created)
            .context("create-invoice")
            .event_data("amount", "12.50")
            .user("u1", "keycloak")
            .audited_object(
                AuditedObject::new("Invoice", "inv-1")
                    .version("1")
                    .value("status", "OPEN"),
            )
            .build()?,
    )
}

/// B: DELETED by the component nightly-job, published by HR/people-service.
fn deleted_by_component() -> BoxResult<CreateAuditRecordCommand> {
    Ok(
        AuditCommandBuilder::new("people-service", "HR", at(1_700_000_000_002))
            .event_type(AuditEventType::Deleted)
            .system_component("IT", "HR", "nightly-job")
            .build()?,
    )
}

/// C: CREATED by the component importer, published by BILLING/invoice-service.
fn created_by_component() -> BoxResult<CreateAuditRecordCommand> {
    Ok(
        AuditCommandBuilder::new("invoice-service", "BILLING", at(1_700_000_000_003))
            .event_type(AuditEventType::Created)
            .system_component("IT", "BILLING", "importer")
            .build()?,
    )
}

/// The JSON line `audit tail` must print for `cmd`.
fn expected(cmd: &CreateAuditRecordCommand) -> BoxResult<serde_json::Value> {
    Ok(serde_json::to_value(AuditRecord::from(cmd.clone()))?)
}

/// Parses stdout into JSON values, one per line.
fn lines(stdout: &[u8]) -> BoxResult<Vec<serde_json::Value>> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| Ok(serde_json::from_str(l)?))
        .collect()
}

/// The JSON lines of stderr (status lines start with `audit:`).
fn error_lines(stderr: &[u8]) -> BoxResult<Vec<serde_json::Value>> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| Ok(serde_json::from_str(l)?))
        .collect()
}

/// The fixture topic: A (schema id 1 = 1.0.2), B (id 1), garbage, C (id 2, written as 1.0.0).
struct Fixture {
    topic: String,
    a: CreateAuditRecordCommand,
    b: CreateAuditRecordCommand,
    c: CreateAuditRecordCommand,
}

const GARBAGE: &[u8] = b"\x07not an audit command";

fn fixture(name: &str) -> BoxResult<Fixture> {
    let topic = topic(name, 1)?;
    let (a, b, c) = (
        created_by_user()?,
        deleted_by_component()?,
        created_by_component()?,
    );
    produce(
        &topic,
        &[
            confluent::frame(1, &a.to_avro_datum()),
            confluent::frame(1, &b.to_avro_datum()),
            GARBAGE.to_vec(),
            confluent::frame(2, &c.to_avro_datum_as(SchemaVersion::V1_0_0)?),
        ],
        false,
    )?;
    Ok(Fixture { topic, a, b, c })
}

/// `audit tail` on `topic` from the beginning with the fixture's schema ids.
fn tail(topic: &str) -> BoxResult<assert_cmd::Command> {
    let mut cmd = audit()?;
    cmd.args(["tail", "--brokers", &tansu()?.bootstrap(), "--topic", topic])
        .args(["--from", "beginning", "--schema-id", "1=1.0.2"])
        .args(["--schema-id", "2=1.0.0"]);
    Ok(cmd)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn prints_every_decodable_record_and_an_error_line_for_garbage() -> TestResult {
    let f = fixture("all")?;
    let out = tail(&f.topic)?.args(["--timeout", "3"]).output()?;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
    assert_eq!(
        lines(&out.stdout)?,
        vec![expected(&f.a)?, expected(&f.b)?, expected(&f.c)?]
    );
    // the printed line is the AuditRecord's serde rendering
    let first = lines(&out.stdout)?.remove(0);
    assert_eq!(first["systemName"], "BILLING");
    assert_eq!(first["event"]["eventType"], "CREATED");
    assert_eq!(first["trigger"]["user"]["id"], "u1");

    let errors = error_lines(&out.stderr)?;
    assert_eq!(errors.len(), 1, "stderr: {err}");
    assert_eq!(errors[0]["topic"], f.topic.as_str());
    assert_eq!(errors[0]["partition"], 0);
    assert_eq!(errors[0]["offset"], 2);
    assert_eq!(errors[0]["value_len"], GARBAGE.len());
    assert_eq!(errors[0]["value_prefix_hex"], hex::encode(GARBAGE));
    let message = errors[0]["error"].as_str().unwrap_or_default();
    assert!(message.contains("wrong magic byte 0x07"), "{message}");
    assert!(
        err.contains("4 records seen, 3 printed, 0 skipped by filter, 1 undecodable"),
        "stderr: {err}"
    );
    assert!(err.contains("no record for 3 s"), "stderr: {err}");
    Ok(())
}

#[test]
fn filters_select_by_event_type_system_service_and_trigger() -> TestResult {
    let f = fixture("filters")?;
    let (a, b, c) = (expected(&f.a)?, expected(&f.b)?, expected(&f.c)?);
    let cases: Vec<(Vec<&str>, Vec<&serde_json::Value>)> = vec![
        (vec!["--event-type", "CREATED"], vec![&a, &c]),
        (
            vec!["--event-type", "deleted", "--event-type", "READ"],
            vec![&b],
        ),
        (vec!["--event-type", "CREATED,DELETED"], vec![&a, &b, &c]),
        (vec!["--system", "HR"], vec![&b]),
        (
            vec!["--system", "HR", "--system", "BILLING"],
            vec![&a, &b, &c],
        ),
        (vec!["--service", "invoice-service"], vec![&a, &c]),
        (vec!["--trigger", "user"], vec![&a]),
        (vec!["--trigger", "user:u1"], vec![&a]),
        (vec!["--trigger", "user:nobody"], vec![]),
        (vec!["--trigger", "component"], vec![&b, &c]),
        (vec!["--trigger", "component:nightly-job"], vec![&b]),
        (
            vec!["--trigger", "component:importer", "--trigger", "user:u1"],
            vec![&a, &c],
        ),
        (
            vec!["--event-type", "CREATED", "--trigger", "component"],
            vec![&c],
        ),
        (
            vec!["--system", "BILLING", "--event-type", "DELETED"],
            vec![],
        ),
    ];
    for (filter, want) in cases {
        let out = tail(&f.topic)?
            .args(["--timeout", "2"])
            .args(&filter)
            .output()?;
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{filter:?}: {err}");
        let got = lines(&out.stdout)?;
        assert_eq!(got.iter().collect::<Vec<_>>(), want, "{filter:?}");
        let summary = format!(
            "4 records seen, {} printed, {} skipped by filter, 1 undecodable",
            want.len(),
            3 - want.len()
        );
        assert!(err.contains(&summary), "{filter:?}: {err}");
    }
    Ok(())
}

#[test]
fn max_stops_after_n_printed_records() -> TestResult {
    let f = fixture("max")?;
    // no --timeout: --max alone must end the command
    let out = tail(&f.topic)?.args(["--max", "2"]).output()?;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
    assert_eq!(lines(&out.stdout)?, vec![expected(&f.a)?, expected(&f.b)?]);
    assert!(err.contains("--max reached"), "stderr: {err}");
    assert!(error_lines(&out.stderr)?.is_empty(), "stderr: {err}");

    // --max counts printed records, not filtered ones
    let out = tail(&f.topic)?
        .args(["--max", "1", "--trigger", "component:importer"])
        .output()?;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(lines(&out.stdout)?, vec![expected(&f.c)?]);
    assert!(stderr(&out).contains("4 records seen, 1 printed, 2 skipped by filter"));
    Ok(())
}

#[test]
fn fail_on_error_stops_at_the_garbage_record_with_exit_2() -> TestResult {
    let f = fixture("fail")?;
    let out = tail(&f.topic)?
        .args(["--timeout", "10", "--fail-on-error"])
        .output()?;
    assert_fails(&out, 2, "record ");
    let err = stderr(&out);
    assert!(err.contains(&format!("{}/0@2", f.topic)), "stderr: {err}");
    assert!(
        err.contains("caused by: wrong magic byte 0x07"),
        "stderr: {err}"
    );
    assert_eq!(lines(&out.stdout)?, vec![expected(&f.a)?, expected(&f.b)?]);
    assert_eq!(error_lines(&out.stderr)?.len(), 1, "stderr: {err}");
    Ok(())
}

#[test]
fn unknown_schema_ids_are_error_lines() -> TestResult {
    let f = fixture("unknown-id")?;
    let out = audit()?
        .args([
            "tail",
            "--brokers",
            &tansu()?.bootstrap(),
            "--topic",
            &f.topic,
        ])
        .args([
            "--from",
            "beginning",
            "--schema-id",
            "1=1.0.2",
            "--timeout",
            "2",
        ])
        .output()?;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
    assert_eq!(lines(&out.stdout)?, vec![expected(&f.a)?, expected(&f.b)?]);
    let errors = error_lines(&out.stderr)?;
    assert_eq!(errors.len(), 2, "stderr: {err}");
    assert_eq!(errors[1]["offset"], 3);
    assert_eq!(errors[1]["error"], "unknown writer schema id 2");
    Ok(())
}

#[test]
fn envelope_adds_the_kafka_coordinates() -> TestResult {
    let f = fixture("envelope")?;
    let out = tail(&f.topic)?
        .args(["--max", "2", "--envelope", "--quiet"])
        .output()?;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    // --quiet: no status lines
    assert!(out.stderr.is_empty(), "stderr: {}", stderr(&out));
    let got = lines(&out.stdout)?;
    assert_eq!(got.len(), 2);
    for (i, (line, cmd)) in got.iter().zip([&f.a, &f.b]).enumerate() {
        assert_eq!(line["topic"], f.topic.as_str());
        assert_eq!(line["partition"], 0);
        assert_eq!(line["offset"], i);
        assert_eq!(line["key"], format!("k{i}"));
        assert!(line["timestamp"].is_i64());
        assert_eq!(line["record"], expected(cmd)?);
    }
    Ok(())
}

#[test]
fn reads_every_partition() -> TestResult {
    let topic = topic("partitions", 3)?;
    let commands: Vec<CreateAuditRecordCommand> = (0..12)
        .map(|i| {
            AuditCommandBuilder::new("svc", "SYS", at(1_700_000_000_000 + i))
                .user(format!("u{i}"), "idp")
                .build()
        })
        .collect::<Result<_, _>>()?;
    let values: Vec<Vec<u8>> = commands
        .iter()
        .map(|c| confluent::frame(5, &c.to_avro_datum()))
        .collect();
    produce(&topic, &values, true)?;
    let out = audit()?
        .args([
            "tail",
            "--brokers",
            &tansu()?.bootstrap(),
            "--topic",
            &topic,
        ])
        .args([
            "--from",
            "beginning",
            "--schema-id",
            "5=1.0.2",
            "--max",
            "12",
        ])
        .output()?;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let mut got = lines(&out.stdout)?;
    let mut want: Vec<serde_json::Value> =
        commands.iter().map(expected).collect::<Result<_, _>>()?;
    let by_user = |v: &serde_json::Value| v["trigger"]["user"]["id"].to_string();
    got.sort_by_key(by_user);
    want.sort_by_key(by_user);
    assert_eq!(got, want);
    assert!(stderr(&out).contains("(3 partitions)"));
    Ok(())
}

/// Spawns `audit` with `args` (stdout and stderr piped) and returns once the start line is on
/// stderr; the thread returns the rest of stderr.
fn spawn_tail(args: &[&str]) -> BoxResult<(Child, std::thread::JoinHandle<String>)> {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("audit"))
        .current_dir(crate::workspace_root())
        .env_remove("AUDIT_REGISTRY_URL")
        .env_remove("AUDIT_BROKERS")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut reader = BufReader::new(stderr);
    let mut first = String::new();
    reader.read_line(&mut first)?;
    if !first.starts_with("audit: tailing") {
        let _ = child.kill();
        return Err(format!("unexpected start: {first}").into());
    }
    let rest = std::thread::spawn(move || {
        let mut rest = first;
        let _ = reader.read_to_string(&mut rest);
        rest
    });
    Ok((child, rest))
}

fn finish(
    child: Child,
    stderr: std::thread::JoinHandle<String>,
) -> BoxResult<(Option<i32>, Vec<u8>, String)> {
    let out = child.wait_with_output()?;
    let err = stderr.join().map_err(|_| "stderr reader panicked")?;
    Ok((out.status.code(), out.stdout, err))
}

#[test]
fn from_end_prints_only_records_produced_after_the_start() -> TestResult {
    let f = fixture("from-end")?;
    let bootstrap = tansu()?.bootstrap();
    let (child, stderr) = spawn_tail(&[
        "tail",
        "--brokers",
        &bootstrap,
        "--topic",
        &f.topic,
        "--schema-id",
        "1=1.0.2",
        "--max",
        "1",
        "--timeout",
        "60",
    ])?;
    let d = AuditCommandBuilder::new("late-service", "LATE", at(1_700_000_000_004))
        .event_type(AuditEventType::Read)
        .user("u4", "idp")
        .build()?;
    produce(&f.topic, &[confluent::frame(1, &d.to_avro_datum())], false)?;
    let (code, stdout, err) = finish(child, stderr)?;
    assert_eq!(code, Some(0), "stderr: {err}");
    assert_eq!(lines(&stdout)?, vec![expected(&d)?]);
    assert!(err.contains("from the end"), "stderr: {err}");
    assert!(err.contains("1 records seen, 1 printed"), "stderr: {err}");
    Ok(())
}

#[test]
fn ctrl_c_stops_cleanly_with_a_summary() -> TestResult {
    let f = fixture("sigint")?;
    let bootstrap = tansu()?.bootstrap();
    for (signal, reason) in [("-INT", "interrupted"), ("-TERM", "terminated")] {
        let (child, stderr) = spawn_tail(&[
            "tail",
            "--brokers",
            &bootstrap,
            "--topic",
            &f.topic,
            "--schema-id",
            "1=1.0.2",
            "--schema-id",
            "2=1.0.0",
        ])?;
        let status = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()?;
        assert!(status.success());
        let (code, stdout, err) = finish(child, stderr)?;
        assert_eq!(code, Some(0), "{signal}: stderr: {err}");
        assert!(stdout.is_empty(), "{signal}");
        assert!(
            err.contains(&format!("tail stopped ({reason})")),
            "{signal}: stderr: {err}"
        );
        assert!(!err.contains("panicked"), "{signal}: stderr: {err}");
    }
    Ok(())
}

#[test]
fn a_group_commits_what_it_handled_and_continues_there() -> TestResult {
    let f = fixture("group")?;
    let group = format!("{}-group", f.topic);
    let run = |extra: &[&str]| -> BoxResult<std::process::Output> {
        Ok(tail(&f.topic)?
            .args(["--group", &group])
            .args(extra)
            .output()?)
    };
    let out = run(&["--max", "2"])?;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(lines(&out.stdout)?, vec![expected(&f.a)?, expected(&f.b)?]);
    assert!(stderr(&out).contains(&format!("(group {group})")));

    // the second run starts after B: the garbage record, then C
    let out = run(&["--timeout", "3"])?;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
    assert_eq!(lines(&out.stdout)?, vec![expected(&f.c)?]);
    let errors = error_lines(&out.stderr)?;
    assert_eq!(errors.len(), 1, "stderr: {err}");
    assert_eq!(errors[0]["offset"], 2);

    // everything is committed now: nothing more
    let out = run(&["--timeout", "2"])?;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("0 records seen"));
    Ok(())
}

#[test]
fn writer_schemas_from_the_registry() -> TestResult {
    let registry = SchemaRegistry::shared()?;
    let url = registry.url();
    let topic = topic("registry", 1)?;
    let (old_id, new_id) = runtime()?.block_on(async {
        let client =
            audit_registry::RegistryClient::new(audit_registry::RegistryConfig::new(url.clone()))?;
        let subject = client.command_subject(&topic);
        // another subject: rivven-schema 0.0.22's compatibility checker rejects the logical types
        let old = client
            .register(&format!("{topic}-old"), SchemaVersion::V1_0_0.schema_json())
            .await?;
        let new = client
            .register(&subject, SchemaVersion::V1_0_2.schema_json())
            .await?;
        Ok::<_, Box<dyn std::error::Error>>((old, new))
    })?;
    assert_ne!(old_id, new_id);
    let (a, c) = (created_by_user()?, created_by_component()?);
    produce(
        &topic,
        &[
            confluent::frame(new_id, &a.to_avro_datum()),
            confluent::frame(old_id, &c.to_avro_datum_as(SchemaVersion::V1_0_0)?),
            confluent::frame(999_999, &a.to_avro_datum()),
        ],
        false,
    )?;
    let out = audit()?
        .args([
            "tail",
            "--brokers",
            &tansu()?.bootstrap(),
            "--topic",
            &topic,
        ])
        .args(["--from", "beginning", "--registry", &url, "--timeout", "3"])
        .output()?;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
    assert_eq!(lines(&out.stdout)?, vec![expected(&a)?, expected(&c)?]);
    let errors = error_lines(&out.stderr)?;
    assert_eq!(errors.len(), 1, "stderr: {err}");
    assert_eq!(errors[0]["offset"], 2);
    assert_eq!(errors[0]["error"], "unknown writer schema id 999999");
    assert!(
        err.contains(&format!("schemas from registry {url}")),
        "stderr: {err}"
    );
    Ok(())
}

#[test]
fn an_unreachable_registry_is_exit_3_with_fail_on_error() -> TestResult {
    let f = fixture("registry-down")?;
    let port = audit_testkit::free_port()?;
    let out = audit()?
        .args([
            "tail",
            "--brokers",
            &tansu()?.bootstrap(),
            "--topic",
            &f.topic,
        ])
        .args(["--from", "beginning", "--timeout", "10", "--fail-on-error"])
        .args(["--registry", &format!("http://127.0.0.1:{port}")])
        .output()?;
    assert_fails(&out, 3, "looking up writer schema id 1 failed");
    assert!(out.stdout.is_empty());

    // --schema-id pins answer without the registry; the other id's lookup is an error line
    let out = audit()?
        .args([
            "tail",
            "--brokers",
            &tansu()?.bootstrap(),
            "--topic",
            &f.topic,
        ])
        .args([
            "--from",
            "beginning",
            "--timeout",
            "3",
            "--schema-id",
            "1=1.0.2",
        ])
        .args(["--registry", &format!("http://127.0.0.1:{port}")])
        .output()?;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
    assert_eq!(lines(&out.stdout)?, vec![expected(&f.a)?, expected(&f.b)?]);
    let errors = error_lines(&out.stderr)?;
    assert_eq!(errors.len(), 2, "stderr: {err}");
    assert_eq!(errors[1]["offset"], 3);
    let message = errors[1]["error"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("looking up writer schema id 2 failed: schema registry unreachable"),
        "{message}"
    );
    Ok(())
}

#[test]
fn bad_setups_fail_with_the_documented_exit_codes() -> TestResult {
    let bootstrap = tansu()?.bootstrap();
    // no writer schemas
    let out = audit()?
        .args(["tail", "--brokers", &bootstrap, "--topic", "whatever"])
        .output()?;
    assert_fails(&out, 2, "pass --registry URL, or --schema-id");
    // unknown topic
    let out = audit()?
        .args([
            "tail",
            "--brokers",
            &bootstrap,
            "--topic",
            "tail-no-such-topic",
        ])
        .args(["--schema-id", "1=1.0.2", "--timeout", "5"])
        .output()?;
    assert_fails(&out, 2, "topic \"tail-no-such-topic\" does not exist");
    // no broker listening
    let port = audit_testkit::free_port()?;
    let out = audit()?
        .args([
            "tail",
            "--brokers",
            &format!("127.0.0.1:{port}"),
            "--topic",
            "t",
        ])
        .args(["--schema-id", "1=1.0.2", "--timeout", "1"])
        .output()?;
    assert_fails(&out, 3, "cannot reach the Kafka brokers");
    // bad arguments
    for args in [
        vec!["--schema-id", "1=9.9.9"],
        vec!["--schema-id", "one=1.0.2"],
        vec!["--schema-id", "1=1.0.2", "--event-type", "EXPLODED"],
        vec!["--schema-id", "1=1.0.2", "--trigger", "robot:r2"],
        vec!["--schema-id", "1=1.0.2", "--max", "0"],
        vec!["--schema-id", "1=1.0.2", "--from", "middle"],
    ] {
        let out = audit()?
            .args(["tail", "--brokers", &bootstrap, "--topic", "t"])
            .args(&args)
            .output()?;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    Ok(())
}

#[test]
fn brokers_come_from_the_environment() -> TestResult {
    let f = fixture("env")?;
    let out = audit()?
        .env("AUDIT_BROKERS", tansu()?.bootstrap())
        .args(["tail", "--topic", &f.topic, "--from", "beginning"])
        .args(["--schema-id", "1=1.0.2", "--max", "1"])
        .output()?;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(lines(&out.stdout)?, vec![expected(&f.a)?]);
    Ok(())
}

#[test]
fn tombstones_are_error_lines() -> TestResult {
    let topic = topic("tombstone", 1)?;
    let a = created_by_user()?;
    produce(&topic, &[confluent::frame(1, &a.to_avro_datum())], false)?;
    runtime()?.block_on(async {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", tansu()?.bootstrap())
            .create()?;
        producer
            .send(
                FutureRecord::<str, [u8]>::to(&topic)
                    .key("gone")
                    .partition(0),
                Duration::from_secs(30),
            )
            .await
            .map_err(|(e, _)| e)?;
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    let out = audit()?
        .args([
            "tail",
            "--brokers",
            &tansu()?.bootstrap(),
            "--topic",
            &topic,
        ])
        .args([
            "--from",
            "beginning",
            "--schema-id",
            "1=1.0.2",
            "--timeout",
            "2",
        ])
        .output()?;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
    assert_eq!(lines(&out.stdout)?, vec![expected(&a)?]);
    let errors = error_lines(&out.stderr)?;
    assert_eq!(errors.len(), 1, "stderr: {err}");
    assert_eq!(errors[0]["offset"], 1);
    assert_eq!(errors[0]["error"], "the record has no value (tombstone)");
    assert!(errors[0]["value_len"].is_null());
    Ok(())
}
