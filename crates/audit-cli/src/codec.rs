//! `audit encode` and `audit decode`.

use std::io::{Read, Write};
use std::path::PathBuf;

use audit_schema::{CreateAuditRecordCommand, SchemaVersion};
use clap::{Args, ValueEnum};

use crate::connect::{RegistryFlags, client, registry_error, runtime};
use crate::error::CliError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Framing {
    /// The bare Avro datum.
    None,
    /// Confluent wire format: magic byte 0, 4-byte big-endian schema id, datum.
    Confluent,
    /// Avro single-object encoding: C3 01, 8-byte little-endian CRC-64-AVRO fingerprint, datum.
    SingleObject,
}

/// Parses `--writer-version` / `--schema-version` (default: the newest).
pub(crate) fn parse_version(v: Option<&str>) -> Result<SchemaVersion, CliError> {
    match v {
        None => Ok(SchemaVersion::LATEST),
        Some(s) => SchemaVersion::parse(s).ok_or_else(|| {
            let known: Vec<&str> = SchemaVersion::ALL.iter().map(|v| v.as_str()).collect();
            CliError::input(format!(
                "unknown schema version {s:?} (known: {})",
                known.join(", ")
            ))
        }),
    }
}

fn read_input(path: Option<&PathBuf>) -> Result<Vec<u8>, CliError> {
    match path {
        Some(p) if p.as_os_str() != "-" => std::fs::read(p)
            .map_err(|e| CliError::io_from(format!("cannot read {}", p.display()), e)),
        _ => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| CliError::io_from("cannot read stdin", e))?;
            Ok(buf)
        }
    }
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  audit encode command.json > command.avro                     # bare datum, newest schema
  audit encode command.json --framing confluent --schema-id 7 --hex
  audit encode command.json --writer-version 1.0.1 --framing single-object -o out.bin
  audit decode command.avro | audit encode                     # round trip via stdin

The input is the JSON rendering printed by `audit decode` (Avro field names; unions as
{\"AuditUser\": {...}}; timestamps RFC 3339; bytes as {\"json\": ...}, {\"text\": ...} or {\"base64\": ...}).

Exit codes: 0 encoded, 2 invalid JSON or arguments, 3 I/O error.")]
pub(crate) struct EncodeArgs {
    /// JSON file to read ('-' or none: stdin).
    input: Option<PathBuf>,
    /// Framing of the output.
    #[arg(long, value_enum, default_value_t = Framing::None)]
    framing: Framing,
    /// Schema registry id written into the Confluent header (required with --framing confluent).
    #[arg(long, value_name = "N")]
    schema_id: Option<u32>,
    /// Write with this schema version's layout (default: the newest).
    #[arg(long, value_name = "1.0.x")]
    writer_version: Option<String>,
    /// Write the bytes to this file (default: stdout).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Write lowercase hex text instead of raw bytes.
    #[arg(long)]
    hex: bool,
}

pub(crate) fn encode(args: EncodeArgs) -> Result<(), CliError> {
    let version = parse_version(args.writer_version.as_deref())?;
    match (args.framing, args.schema_id) {
        (Framing::Confluent, None) => {
            return Err(CliError::input(
                "--framing confluent needs --schema-id N (the writer schema's registry id)",
            ));
        }
        (Framing::None | Framing::SingleObject, Some(_)) => {
            return Err(CliError::input(
                "--schema-id only applies to --framing confluent",
            ));
        }
        _ => {}
    }
    let input = read_input(args.input.as_ref())?;
    let text = String::from_utf8(input)
        .map_err(|e| CliError::input_from("the JSON input is not UTF-8", e))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| CliError::input_from("the input is not valid JSON", e))?;
    let command = audit_schema::json::from_json_value(&value)
        .map_err(|e| CliError::input_from("the JSON is not a CreateAuditRecordCommand", e))?;
    let datum = command.to_avro_datum_as(version).map_err(|e| {
        CliError::input_from(
            format!(
                "the command cannot be written as schema {}",
                version.as_str()
            ),
            e,
        )
    })?;
    let bytes = match (args.framing, args.schema_id) {
        (Framing::Confluent, Some(id)) => audit_schema::confluent::frame(id, &datum),
        (Framing::SingleObject, _) => {
            let mut out = Vec::with_capacity(10 + datum.len());
            audit_schema::single_object::write_header(version.fingerprint(), &mut out);
            out.extend_from_slice(&datum);
            out
        }
        _ => datum,
    };
    let payload = if args.hex {
        let mut h = hex::encode(&bytes).into_bytes();
        h.push(b'\n');
        h
    } else {
        bytes
    };
    match &args.output {
        Some(path) => std::fs::write(path, &payload)
            .map_err(|e| CliError::io_from(format!("cannot write {}", path.display()), e)),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&payload)
                .and_then(|()| out.flush())
                .map_err(|e| CliError::io_from("cannot write stdout", e))
        }
    }
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  audit decode command.avro                                    # bare datum of the newest schema
  audit decode --hex 0a4142... --writer-version 1.0.0
  audit decode msg.bin --framing confluent --writer-version 1.0.2   # id not looked up
  audit decode msg.bin --framing confluent --registry http://localhost:8081
  audit decode msg.bin --framing single-object                 # version from the fingerprint
  kafka-console-consumer ... | audit decode --framing confluent --registry $SR
  audit decode error.bin --error-event --framing confluent    # jEAP error-topic record value

Exit codes: 0 decoded, 2 truncated or invalid bytes, unknown schema id or version, 3 I/O or registry failure.")]
pub(crate) struct DecodeArgs {
    /// File with the bytes ('-' or none: stdin).
    #[arg(conflicts_with = "hex")]
    input: Option<PathBuf>,
    /// The bytes as hex text instead of a file.
    #[arg(long, value_name = "HEX")]
    hex: Option<String>,
    /// Framing of the input.
    #[arg(long, value_enum, default_value_t = Framing::None)]
    framing: Framing,
    /// The writer's schema version (unframed bytes, or a Confluent id without --registry).
    #[arg(long, value_name = "1.0.x")]
    writer_version: Option<String>,
    /// The input is a jEAP error-topic record value (`MessageProcessingFailedEvent`, bare or
    /// Confluent-framed): prints the event and, when the failed record's value is a
    /// `CreateAuditRecordCommand` of a known version, that command decoded.
    #[arg(long, conflicts_with_all = ["writer_version"])]
    error_event: bool,
    #[command(flatten)]
    registry: RegistryFlags,
}

fn parse_hex(text: &str) -> Result<Vec<u8>, CliError> {
    let cleaned: String = text
        .trim()
        .trim_start_matches("0x")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    hex::decode(&cleaned).map_err(|e| CliError::input_from("--hex is not valid hex", e))
}

pub(crate) fn decode(args: DecodeArgs) -> Result<(), CliError> {
    let bytes = match &args.hex {
        Some(h) => parse_hex(h)?,
        None => read_input(args.input.as_ref())?,
    };
    if args.error_event {
        return decode_error_event(&args, &bytes);
    }
    let (command, info) = decode_bytes(&args, &bytes)?;
    eprintln!("audit: {info}");
    println!("{}", audit_schema::json::to_json_string_pretty(&command));
    Ok(())
}

/// `audit decode --error-event`: the event (the schema is built in, so a Confluent id is
/// reported, not looked up) and the failed command when it is one.
fn decode_error_event(args: &DecodeArgs, bytes: &[u8]) -> Result<(), CliError> {
    if bytes.is_empty() {
        return Err(CliError::input("no input bytes"));
    }
    let not_event = |e| CliError::input_from("the bytes are not a MessageProcessingFailedEvent", e);
    let (event, info) = match args.framing {
        Framing::None => (
            audit_error_event::MessageProcessingFailedEvent::from_avro_datum(bytes)
                .map_err(not_event)?,
            "MessageProcessingFailedEvent 1.0.0 (unframed)".to_owned(),
        ),
        Framing::Confluent => {
            let (id, event) = audit_error_event::decode_framed_value(bytes).map_err(not_event)?;
            (
                event,
                format!("MessageProcessingFailedEvent 1.0.0 (schema id {id}, not looked up)"),
            )
        }
        Framing::SingleObject => {
            return Err(CliError::input(
                "--error-event takes an unframed or Confluent-framed value (jEAP sends Confluent)",
            ));
        }
    };
    let rendered = audit_error_event::json::to_json_with_failed_command(&event);
    let failed = match audit_error_event::decode_command(&event.payload.original_message) {
        Ok(d) => format!(
            "failed command: schema id {}, read as version {}",
            d.schema_id,
            d.version.as_str()
        ),
        Err(e) => {
            let mut reason = e.to_string();
            let mut next = std::error::Error::source(&e);
            while let Some(cause) = next {
                reason = format!("{reason}: {cause}");
                next = cause.source();
            }
            format!(
                "the failed record is not a CreateAuditRecordCommand of a known version ({reason})"
            )
        }
    };
    eprintln!("audit: {info}; {failed}");
    println!(
        "{}",
        serde_json::to_string_pretty(&rendered).unwrap_or_default()
    );
    Ok(())
}

fn decode_as(datum: &[u8], version: SchemaVersion) -> Result<CreateAuditRecordCommand, CliError> {
    CreateAuditRecordCommand::from_avro_datum_as(datum, version).map_err(|e| {
        CliError::input_from(
            format!(
                "the bytes are not a CreateAuditRecordCommand written with schema {}",
                version.as_str()
            ),
            e,
        )
    })
}

fn decode_bytes(
    args: &DecodeArgs,
    bytes: &[u8],
) -> Result<(CreateAuditRecordCommand, String), CliError> {
    if bytes.is_empty() {
        return Err(CliError::input("no input bytes"));
    }
    match args.framing {
        Framing::None => {
            let version = parse_version(args.writer_version.as_deref())?;
            Ok((
                decode_as(bytes, version)?,
                format!("writer schema {} (unframed)", version.as_str()),
            ))
        }
        Framing::SingleObject => {
            let (fingerprint, datum) =
                audit_schema::single_object::unframe(bytes).map_err(|e| {
                    CliError::input_from("the bytes are not in Avro single-object encoding", e)
                })?;
            let version = SchemaVersion::from_fingerprint(fingerprint).ok_or_else(|| {
                let known: Vec<String> = SchemaVersion::ALL
                    .iter()
                    .map(|v| format!("{} = {:016x}", v.as_str(), v.fingerprint()))
                    .collect();
                CliError::input(format!(
                    "fingerprint {fingerprint:016x} is no known schema version ({})",
                    known.join(", ")
                ))
            })?;
            // Versions that differ only in attributes the canonical form drops (1.0.0 and 1.0.1:
            // an enum default) share a fingerprint and have the same binary layout.
            let same: Vec<&str> = SchemaVersion::ALL
                .iter()
                .filter(|v| v.fingerprint() == fingerprint)
                .map(|v| v.as_str())
                .collect();
            Ok((
                decode_as(datum, version)?,
                format!(
                    "writer schema {} (single-object, fingerprint {fingerprint:016x})",
                    same.join(" = ")
                ),
            ))
        }
        Framing::Confluent => {
            let (id, datum) = audit_schema::confluent::unframe(bytes).map_err(|e| {
                CliError::input_from("the bytes are not in the Confluent wire format", e)
            })?;
            if let Some(config) = args.registry.config()? {
                let url = config.url().to_owned();
                let client = client(config)?;
                let rt = runtime()?;
                let writer = rt.block_on(client.writer_schema(id)).map_err(|e| {
                    registry_error(format!("cannot get writer schema id {id} from {url}"), e)
                })?;
                let command = writer.decode(datum).map_err(|e| {
                    CliError::input_from(
                        format!("the datum does not match writer schema id {id}"),
                        e,
                    )
                })?;
                let known = writer.known_version().map_or_else(
                    || "an unknown version".to_owned(),
                    |v| v.as_str().to_owned(),
                );
                Ok((
                    command,
                    format!("writer schema id {id} from {url} ({known})"),
                ))
            } else if let Some(v) = &args.writer_version {
                let version = parse_version(Some(v))?;
                Ok((
                    decode_as(datum, version)?,
                    format!(
                        "schema id {id} read as writer schema {} (--writer-version)",
                        version.as_str()
                    ),
                ))
            } else {
                Err(CliError::input(format!(
                    "schema id {id} is unknown: pass --registry URL to look it up, or --writer-version 1.0.x"
                )))
            }
        }
    }
}
