//! `audit-server`: runs the audit service.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// The jEAP audit service: HTTP ingestion, queries and export over an audit store.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Configuration file (TOML, or JSON when it ends in .json); AUDIT_SERVER_* variables
    /// override it.
    #[arg(short, long, env = "AUDIT_SERVER_CONFIG")]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut message = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                message.push_str(": ");
                message.push_str(&s.to_string());
                source = s.source();
            }
            eprintln!("audit-server: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), audit_server::Error> {
    let config = audit_server::Config::load(args.config.as_deref())?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    tracing::info!(
        listen = %listener.local_addr()?,
        retention_days = ?config.retention.days,
        "audit server listening"
    );
    audit_server::AuditServer::new(config)
        .await?
        .serve(listener)
        .await
}
