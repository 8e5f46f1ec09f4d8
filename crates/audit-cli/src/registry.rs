//! `audit registry check|register|subjects`, and the registry options shared with `decode`.

use std::path::PathBuf;
use std::time::Duration;

use audit_registry::{RegistryClient, RegistryConfig, SubjectStrategy};
use audit_schema::SchemaVersion;
use clap::{Args, Subcommand, ValueEnum};

use crate::error::CliError;

/// How to reach the registry.
#[derive(Debug, Clone, Args)]
pub(crate) struct Connection {
    /// Schema registry base URL.
    #[arg(long, env = "AUDIT_REGISTRY_URL", value_name = "URL")]
    pub(crate) registry: String,
    /// Basic-auth user (Confluent Cloud: API key).
    #[arg(long, env = "AUDIT_REGISTRY_USER")]
    user: Option<String>,
    /// Basic-auth password (Confluent Cloud: API secret).
    #[arg(long, env = "AUDIT_REGISTRY_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Extra trusted root certificate (PEM) for https:// (needs the `native-tls` or `rustls` feature).
    #[arg(long, value_name = "PEM")]
    ca_cert: Option<PathBuf>,
    /// Request timeout in seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

impl Connection {
    pub(crate) fn config(&self) -> Result<RegistryConfig, CliError> {
        let mut config =
            RegistryConfig::new(self.registry.clone()).timeout(Duration::from_secs(self.timeout));
        if let Some(user) = &self.user {
            config = config.basic_auth(user.clone(), self.password.as_deref());
        }
        if let Some(path) = &self.ca_cert {
            config = add_ca(config, path)?;
        }
        Ok(config)
    }
}

#[cfg(any(feature = "native-tls", feature = "rustls"))]
pub(crate) fn add_ca(
    config: RegistryConfig,
    path: &std::path::Path,
) -> Result<RegistryConfig, CliError> {
    let pem = std::fs::read(path)
        .map_err(|e| CliError::io_from(format!("cannot read {}", path.display()), e))?;
    Ok(config.add_root_certificate_pem(pem))
}

#[cfg(not(any(feature = "native-tls", feature = "rustls")))]
pub(crate) fn add_ca(
    _config: RegistryConfig,
    path: &std::path::Path,
) -> Result<RegistryConfig, CliError> {
    Err(CliError::input(format!(
        "--ca-cert {} needs TLS support: build audit-cli with the feature `native-tls` or `rustls`",
        path.display()
    )))
}

/// Maps a registry error: an HTTP 4xx answer (unknown subject or id, invalid schema) or a bad
/// configuration is the user's input; unreachable or 5xx is a service failure.
pub(crate) fn registry_error(context: String, e: audit_registry::Error) -> CliError {
    let input = matches!(e.status(), Some(400..=499))
        || matches!(
            e,
            audit_registry::Error::Config { .. } | audit_registry::Error::NotRegistered { .. }
        );
    if input {
        CliError::input_from(context, e)
    } else {
        CliError::io_from(context, e)
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::io_from("cannot start the async runtime", e))
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
                    connection.registry
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
                    connection.registry,
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

pub(crate) fn client(config: RegistryConfig) -> Result<RegistryClient, CliError> {
    RegistryClient::new(config).map_err(|e| registry_error("bad registry settings".to_owned(), e))
}
