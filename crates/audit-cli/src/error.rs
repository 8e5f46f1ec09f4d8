//! The CLI's error type and its exit codes.

/// A boxed error source.
pub(crate) use audit_support::BoxError;

/// Everything that ends a command with a non-zero exit code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum CliError {
    /// A check ran and failed (exit code 1); the report was already printed.
    #[error("{0}")]
    CheckFailed(String),
    /// Bad input: arguments, JSON, bytes, unknown schema id or version (exit code 2).
    #[error("{message}")]
    Input {
        message: String,
        #[source]
        source: Option<BoxError>,
    },
    /// I/O or a service (git, schema registry) failed (exit code 3).
    #[error("{message}")]
    Io {
        message: String,
        #[source]
        source: Option<BoxError>,
    },
}

impl CliError {
    pub(crate) fn input(message: impl Into<String>) -> Self {
        CliError::Input {
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn input_from(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        CliError::Input {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    pub(crate) fn io_from(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        CliError::Io {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// The documented exit code.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::CheckFailed(_) => 1,
            CliError::Input { .. } => 2,
            CliError::Io { .. } => 3,
        }
    }
}

/// `error: top` and one `caused by:` line per source.
pub(crate) fn render(err: &CliError) -> String {
    let mut out = format!("error: {err}");
    let mut cur = std::error::Error::source(err);
    while let Some(c) = cur {
        out.push_str(&format!("\n  caused by: {c}"));
        cur = c.source();
    }
    out
}
