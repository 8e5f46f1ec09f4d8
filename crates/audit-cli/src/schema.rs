//! `audit schema check` and `audit schema compat`.

use std::path::PathBuf;

use audit_compat::{CheckOptions, ExpectedLatest};
use audit_schema::SchemaVersion;
use clap::{Args, Subcommand, ValueEnum};

use crate::error::CliError;

/// The record whose newest version the Rust types were generated from.
const COMMAND_RECORD: &str = "ch.admin.bit.jeap.audit.record.create.CreateAuditRecordCommand";

#[derive(Debug, Subcommand)]
pub(crate) enum SchemaCommand {
    /// Check every descriptor in a directory: schemas parse, each version is compatible with the
    /// declared (or previous) one in its mode, jEAP command structure rules, and optionally
    /// transitive compatibility and immutability against a git revision.
    #[command(after_help = "\
Examples:
  audit schema check                          # avro/ in the current directory
  audit schema check --dir path/to/avro --transitive
  audit schema check --against origin/main    # published files must be unchanged
  audit schema check --format json > report.json

Exit codes: 0 all checks pass, 1 a finding, 2 bad descriptor or revision, 3 I/O or git failure.")]
    Check(CheckArgs),
    /// Judge any two schema files: can READER read data written with WRITER? (Java's
    /// SchemaCompatibility semantics; no descriptor, so renamed records are judged too.)
    #[command(after_help = "\
Examples:
  audit schema compat new.avsc old.avsc         # backward: the new schema reads old data
  audit schema compat old.avsc new.avsc         # forward
  audit schema compat reader.avsc writer.avsc --format json

Exit codes: 0 compatible, 1 incompatible, 2 a schema does not parse, 3 a file cannot be read.")]
    Compat(CompatArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CompatArgs {
    /// The schema that reads.
    reader: PathBuf,
    /// The schema that wrote the data.
    writer: PathBuf,
    /// Report format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    /// Human-readable report.
    Text,
    /// The report as JSON (for tools).
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Directory with the `*.descriptor.json` and the `.avsc` files.
    #[arg(long, default_value = "avro")]
    dir: PathBuf,
    /// Check each version against every earlier version, not only the declared/previous one.
    #[arg(long)]
    transitive: bool,
    /// A git revision: published schema files and descriptor entries must be unchanged since.
    #[arg(long, value_name = "REV")]
    against: Option<String>,
    /// Report format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Do not compare the newest version with the schema this binary's types were generated from.
    #[arg(long)]
    no_generated_check: bool,
    /// Skip the jEAP command structure rules (for directories of other record types).
    #[arg(long)]
    no_structure_rules: bool,
    /// No progress messages on stderr.
    #[arg(short, long)]
    quiet: bool,
}

pub(crate) fn run(cmd: SchemaCommand) -> Result<(), CliError> {
    match cmd {
        SchemaCommand::Check(args) => check(args),
        SchemaCommand::Compat(args) => compat(args),
    }
}

fn compat(args: CompatArgs) -> Result<(), CliError> {
    let report = audit_compat::check_pair(&args.reader, &args.writer).map_err(|e| {
        not_run(
            format!(
                "compatibility of {} (reader) with {} (writer) could not be judged",
                args.reader.display(),
                args.writer.display()
            ),
            e,
        )
    })?;
    finish(&report, args.format, || {
        format!(
            "{} cannot read data written with {}",
            args.reader.display(),
            args.writer.display()
        )
    })
}

/// A check that could not run: exit 2 for bad input, 3 for I/O and tool failures.
fn not_run(message: String, e: audit_compat::Error) -> CliError {
    if e.is_input_error() {
        CliError::input_from(message, e)
    } else {
        CliError::io_from(message, e)
    }
}

/// Prints the report; a report with findings fails with `failure()` (exit 1).
fn finish(
    report: &audit_compat::Report,
    format: Format,
    failure: impl FnOnce() -> String,
) -> Result<(), CliError> {
    print_report(report, format)?;
    if report.is_ok() {
        Ok(())
    } else {
        Err(CliError::CheckFailed(failure()))
    }
}

fn print_report(report: &audit_compat::Report, format: Format) -> Result<(), CliError> {
    match format {
        Format::Text => print!("{report}"),
        Format::Json => {
            let json = serde_json::to_string_pretty(report)
                .map_err(|e| CliError::io_from("cannot render the report as JSON", e))?;
            println!("{json}");
        }
    }
    Ok(())
}

fn check(args: CheckArgs) -> Result<(), CliError> {
    let latest = SchemaVersion::LATEST;
    let options = CheckOptions {
        transitive: args.transitive,
        against: args.against.clone(),
        expected_latest: (!args.no_generated_check).then(|| ExpectedLatest {
            record_name: COMMAND_RECORD.to_owned(),
            version: latest.as_str().to_owned(),
            schema_json: latest.schema_json().to_owned(),
        }),
        skip_structure_rules: args.no_structure_rules,
    };
    let quiet = args.quiet;
    let mut progress = |msg: &str| {
        if !quiet {
            eprintln!("audit: {msg}");
        }
    };
    let report = audit_compat::check_dir_with_progress(&args.dir, &options, &mut progress)
        .map_err(|e| {
            not_run(
                format!("schema check of {} could not run", args.dir.display()),
                e,
            )
        })?;
    finish(&report, args.format, || {
        format!(
            "schema check of {} failed with {} finding(s)",
            args.dir.display(),
            report.findings.len()
        )
    })
}
