//! `audit registry check|register|subjects`.

use std::time::Duration;

use audit_registry::{RegistryConfig, SubjectStrategy};
use audit_schema::SchemaVersion;
use clap::{Args, Subcommand, ValueEnum};

use crate::connect::{RegistryFlags, client, registry_error, runtime};
use crate::error::CliError;

/// How to reach the registry: the shared flags (`--registry` made required by each subcommand)
/// and the request timeout.
#[derive(Debug, Clone, Args)]
pub(crate) struct Connection {
    #[command(flatten)]
    flags: RegistryFlags,
    /// Request timeout in seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

impl Connection {
    fn url(&self) -> &str {
        self.flags.registry.as_deref().unwrap_or_default()
    }

    fn config(&self) -> Result<RegistryConfig, CliError> {
        let config = self
            .flags
            .config()?
            .ok_or_else(|| CliError::input("--registry URL is required"))?;
        Ok(config.timeout(Duration::from_secs(self.timeout)))
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
// The names are Confluent's strategy names.
#[allow(clippy::enum_variant_names)]
pub(crate) enum Strategy {
    /// `{topic}-{record full name}` (jEAP's default).
    TopicRecordName,
    /// `{topic}-value`.
    TopicName,
    /// `{record full name}`.
    RecordName,
}

impl From<Strategy> for SubjectStrategy {
    fn from(s: Strategy) -> Self {
        match s {
            Strategy::TopicRecordName => SubjectStrategy::TopicRecordName,
            Strategy::TopicName => SubjectStrategy::TopicName,
            Strategy::RecordName => SubjectStrategy::RecordName,
        }
    }
}

/// Which subject and which local schema.
#[derive(Debug, Args)]
pub(crate) struct Target {
    /// Topic; the subject follows from --strategy.
    #[arg(long, required_unless_present_any = ["subject"])]
    topic: Option<String>,
    /// The subject itself (instead of --topic and --strategy).
    #[arg(long, conflicts_with = "topic")]
    subject: Option<String>,
    /// Subject naming strategy.
    #[arg(long, value_enum, default_value_t = Strategy::TopicRecordName)]
    strategy: Strategy,
    /// The local schema version (default: the newest).
    #[arg(long = "schema-version", value_name = "1.0.x")]
    version: Option<String>,
}

impl Target {
    fn subject(&self) -> String {
        match (&self.subject, &self.topic) {
            (Some(s), _) => s.clone(),
            (None, Some(topic)) => SubjectStrategy::from(self.strategy).command_subject(topic),
            (None, None) => SubjectStrategy::from(self.strategy).command_subject(""),
        }
    }

    fn version(&self) -> Result<SchemaVersion, CliError> {
        crate::codec::parse_version(self.version.as_deref())
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum RegistryCommand {
    /// Ask the registry whether the local schema is compatible with the latest version of a subject.
    #[command(after_help = "\
Examples:
  audit registry check --registry http://localhost:8081 --topic audit-commands
  audit registry check --registry http://localhost:8081 --subject my-subject --schema-version 1.0.1

Exit codes: 0 compatible, 1 incompatible, 2 unknown subject or bad input, 3 registry unreachable or failing.")]
    #[command(mut_arg("registry", |a| a.required(true)))]
    Check {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        target: Target,
    },
    /// Register the local schema under a subject (or get its existing id) and print the id.
    #[command(after_help = "\
Examples:
  audit registry register --registry http://localhost:8081 --topic audit-commands
  audit registry register --registry https://sr.example --user KEY --password SECRET --subject s --keep-compatibility

A subject that does not exist yet first gets compatibility NONE, as jEAP's serializers do (the
design-time `audit schema check` is the gate); --keep-compatibility turns that off.

Exit codes: 0 registered, 2 rejected by the registry or bad input, 3 registry unreachable or failing.")]
    #[command(mut_arg("registry", |a| a.required(true)))]
    Register {
        #[command(flatten)]
        connection: Connection,
        #[command(flatten)]
        target: Target,
        /// Do not set a new subject's compatibility to NONE.
        #[arg(long)]
        keep_compatibility: bool,
    },
    /// List the registry's subjects (and their versions).
    #[command(after_help = "\
Examples:
  audit registry subjects --registry http://localhost:8081
  AUDIT_REGISTRY_URL=http://localhost:8081 audit registry subjects --versions

Exit codes: 0 listed, 3 registry unreachable or failing.")]
    #[command(mut_arg("registry", |a| a.required(true)))]
    Subjects {
        #[command(flatten)]
        connection: Connection,
        /// Also list each subject's versions.
        #[arg(long)]
        versions: bool,
    },
}

pub(crate) fn run(cmd: RegistryCommand) -> Result<(), CliError> {
    let rt = runtime()?;
    match cmd {
        RegistryCommand::Check { connection, target } => {
            let client = client(connection.config()?)?;
            let subject = target.subject();
            let version = target.version()?;
            // Confluent answers 404 for an unknown subject, rivven-schema says "compatible":
            // ask for the versions first so both give the same clear error.
            let versions = rt.block_on(client.versions(&subject)).map_err(|e| {
                registry_error(
                    format!("compatibility check of subject {subject} failed"),
                    e,
                )
            })?;
            if versions.is_empty() {
                return Err(CliError::input(format!(
                    "compatibility check of subject {subject} failed: the subject has no versions at {}",
                    connection.url()
                )));
            }
            let answer = rt
                .block_on(client.check_compatibility(&subject, version.schema_json()))
                .map_err(|e| {
                    registry_error(
                        format!("compatibility check of subject {subject} failed"),
                        e,
                    )
                })?;
            if answer.is_compatible {
                println!(
                    "compatible: schema {} with the latest version of {subject}",
                    version.as_str()
                );
                Ok(())
            } else {
                println!(
                    "INCOMPATIBLE: schema {} with the latest version of {subject}",
                    version.as_str()
                );
                for m in &answer.messages {
                    println!("  {m}");
                }
                Err(CliError::CheckFailed(format!(
                    "the registry at {} says schema {} is incompatible with {subject}",
                    connection.url(),
                    version.as_str()
                )))
            }
        }
        RegistryCommand::Register {
            connection,
            target,
            keep_compatibility,
        } => {
            let config = connection
                .config()?
                .auto_register(true)
                .set_compatibility_none(!keep_compatibility);
            let client = client(config)?;
            let subject = target.subject();
            let version = target.version()?;
            let id = rt
                .block_on(client.schema_id(&subject, version.schema_json()))
                .map_err(|e| registry_error(format!("registering under {subject} failed"), e))?;
            println!("{id}");
            eprintln!(
                "audit: schema {} is id {id} under subject {subject}",
                version.as_str()
            );
            Ok(())
        }
        RegistryCommand::Subjects {
            connection,
            versions,
        } => {
            let client = client(connection.config()?)?;
            let mut subjects = rt
                .block_on(client.subjects())
                .map_err(|e| registry_error("listing subjects failed".to_owned(), e))?;
            subjects.sort();
            for s in subjects {
                if versions {
                    let v = rt.block_on(client.versions(&s)).map_err(|e| {
                        registry_error(format!("listing versions of {s} failed"), e)
                    })?;
                    let v: Vec<String> = v.iter().map(u32::to_string).collect();
                    println!("{s}\t{}", v.join(","));
                } else {
                    println!("{s}");
                }
            }
            Ok(())
        }
    }
}
