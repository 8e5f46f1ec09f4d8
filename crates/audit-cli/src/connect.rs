//! The schema-registry flags every command that talks to a registry shares (`registry ...`,
//! `decode`, `tail`), the client they build, and how registry errors map to exit codes.

use std::path::PathBuf;

use audit_registry::{RegistryClient, RegistryConfig};
use clap::Args;

use crate::error::CliError;

/// How to reach the registry. `--registry` is optional here (`decode`, `tail`); the `registry`
/// subcommands make it required.
#[derive(Debug, Clone, Args)]
pub(crate) struct RegistryFlags {
    /// Schema registry base URL (decode, tail: look Confluent schema ids up there).
    #[arg(long, env = "AUDIT_REGISTRY_URL", value_name = "URL")]
    pub(crate) registry: Option<String>,
    /// Basic-auth user for --registry (Confluent Cloud: API key).
    #[arg(long, env = "AUDIT_REGISTRY_USER", requires = "registry")]
    user: Option<String>,
    /// Basic-auth password for --registry (Confluent Cloud: API secret).
    #[arg(
        long,
        env = "AUDIT_REGISTRY_PASSWORD",
        hide_env_values = true,
        requires = "registry"
    )]
    password: Option<String>,
    /// Extra trusted root certificate (PEM) for an https:// --registry (needs the `native-tls` or
    /// `rustls` feature).
    #[arg(long, value_name = "PEM", requires = "registry")]
    ca_cert: Option<PathBuf>,
}

impl RegistryFlags {
    /// The registry configuration (URL, basic auth, root certificate), `None` without --registry.
    pub(crate) fn config(&self) -> Result<Option<RegistryConfig>, CliError> {
        let Some(url) = &self.registry else {
            return Ok(None);
        };
        let mut config = RegistryConfig::new(url.clone());
        if let Some(user) = &self.user {
            config = config.basic_auth(user.clone(), self.password.as_deref());
        }
        if let Some(path) = &self.ca_cert {
            config = add_ca(config, path)?;
        }
        Ok(Some(config))
    }
}

#[cfg(any(feature = "native-tls", feature = "rustls"))]
fn add_ca(config: RegistryConfig, path: &std::path::Path) -> Result<RegistryConfig, CliError> {
    let pem = std::fs::read(path)
        .map_err(|e| CliError::io_from(format!("cannot read {}", path.display()), e))?;
    Ok(config.add_root_certificate_pem(pem))
}

#[cfg(not(any(feature = "native-tls", feature = "rustls")))]
fn add_ca(_config: RegistryConfig, path: &std::path::Path) -> Result<RegistryConfig, CliError> {
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

pub(crate) fn client(config: RegistryConfig) -> Result<RegistryClient, CliError> {
    RegistryClient::new(config).map_err(|e| registry_error("bad registry settings".to_owned(), e))
}
