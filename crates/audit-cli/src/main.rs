//! The `audit` command line tool: design-time schema checks, Confluent Schema Registry commands,
//! Avro encoding/decoding of jEAP's `CreateAuditRecordCommand`, and `audit tail`, which consumes
//! a Kafka topic and prints the decoded records as JSON lines (with filters), and
//! `audit verify-signature`, which checks a record's jEAP signature headers.
//!
//! Exit codes: 0 success; 1 a check failed (incompatible schema, finding, registry says
//! incompatible); 2 usage or input error (bad arguments, invalid JSON, truncated bytes, unknown
//! schema id, version or topic); 3 I/O or service error (file system, git, schema registry or
//! Kafka unreachable or failing).

mod codec;
mod connect;
mod error;
mod registry;
mod schema;
mod tail;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::CliError;

macro_rules! exit_codes {
    () => {
        "Exit codes:
  0  success
  1  check failed (incompatible schema, structure or immutability finding)
  2  usage or input error (bad arguments, invalid JSON, truncated bytes, unknown schema id/version/topic)
  3  I/O or service error (files, git, schema registry or Kafka unreachable or answering an error)"
    };
}

const TOP_EXAMPLES: &str = concat!(
    "Examples:
  audit schema check --dir avro --transitive
  audit schema check --against origin/main --format json
  audit encode command.json --framing confluent --schema-id 7 --output command.bin
  audit decode command.bin --framing confluent --registry http://localhost:8081
  audit registry check --registry http://localhost:8081 --topic audit-commands
  audit registry subjects --registry http://localhost:8081 --versions
  audit tail --brokers localhost:9092 --topic audit-commands --registry http://localhost:8081
  audit tail --topic audit-commands --schema-id 1=1.0.2 --from beginning --event-type DELETED --max 10
  audit verify-signature record.bin --header jeap-sign=@record.sign --header jeap-cert=hex:01e241 --chain invoice-service=chain.pem

",
    exit_codes!()
);

/// Schema checks, registry commands, Avro encode/decode and a Kafka tail for jEAP's CreateAuditRecordCommand.
#[derive(Debug, Parser)]
#[command(name = "audit", version, after_help = TOP_EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Design-time checks of a schema directory (avro/).
    #[command(subcommand)]
    Schema(schema::SchemaCommand),
    /// Encode a command from JSON to Avro binary (optionally framed).
    Encode(codec::EncodeArgs),
    /// Decode Avro binary (unframed, Confluent or single-object framed) to pretty JSON.
    Decode(codec::DecodeArgs),
    /// Talk to a Confluent Schema Registry.
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
    /// Consume a Kafka topic and print the decoded audit records as JSON lines (with filters).
    Tail(Box<tail::TailArgs>),
    /// Check a record's jEAP signature headers (jeap-sign, jeap-sign-key, jeap-cert) against
    /// trusted certificate chains, with jEAP's subscriber rules.
    VerifySignature(verify::VerifyArgs),
}

fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Schema(c) => schema::run(c),
        Command::Encode(a) => codec::encode(a),
        Command::Decode(a) => codec::decode(a),
        Command::Registry(c) => registry::run(c),
        Command::Tail(a) => tail::run(*a),
        Command::VerifySignature(a) => verify::run(a),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", error::render(&e));
            ExitCode::from(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn exit_codes_are_listed_in_the_help() {
        assert!(super::TOP_EXAMPLES.contains("3  I/O or service error"));
    }
}
