//! Finding (and, when missing, installing) the cached tool binaries.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use crate::Error;

/// A tool built with `cargo install` into the cache outside the clone.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    /// Human-readable name, e.g. `"tansu"`.
    pub name: &'static str,
    /// Environment variable that overrides the binary path.
    pub env_var: &'static str,
    /// Directory under the tool cache (`cargo install --root` of it).
    pub cache_dir: &'static str,
    /// Binary name.
    pub binary: &'static str,
    /// Script (relative to the workspace root) that builds it into the cache.
    pub script: &'static str,
}

/// Tansu 0.6.0, the Kafka-protocol broker.
pub const TANSU: Tool = Tool {
    name: "tansu",
    env_var: "AUDIT_TANSU_BIN",
    cache_dir: "tansu-0.6.0",
    binary: "tansu",
    script: "scripts/ensure-tansu.sh",
};

/// rivven-schema 0.0.22, the Confluent-API schema registry.
pub const RIVVEN_SCHEMA: Tool = Tool {
    name: "rivven-schema",
    env_var: "AUDIT_RIVVEN_SCHEMA_BIN",
    cache_dir: "rivven-schema-0.0.22",
    binary: "rivven-schema",
    script: "scripts/ensure-rivven.sh",
};

/// The tool cache: `$AUDIT_TOOLS_DIR`, else `$HOME/.cache/jeap-audit-tools`.
pub fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("AUDIT_TOOLS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
    home.join(".cache").join("jeap-audit-tools")
}

/// The workspace root (where `scripts/` lives).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

fn is_executable(path: &Path) -> bool {
    path.is_file()
}

impl Tool {
    /// The binary path in the cache (may not exist).
    pub fn cache_path(&self) -> PathBuf {
        tools_dir()
            .join(self.cache_dir)
            .join("bin")
            .join(self.binary)
    }

    /// Finds the binary without installing: the env override, else the cache, else `PATH`.
    pub fn find(&self) -> Result<Option<PathBuf>, Error> {
        if let Some(value) = std::env::var_os(self.env_var).filter(|v| !v.is_empty()) {
            let path = PathBuf::from(value);
            return if is_executable(&path) {
                Ok(Some(path))
            } else {
                Err(Error::ToolMissing {
                    tool: self.name,
                    detail: format!(
                        "{} points to {}, which does not exist",
                        self.env_var,
                        path.display()
                    ),
                    script: self.script,
                })
            };
        }
        let cached = self.cache_path();
        if is_executable(&cached) {
            return Ok(Some(cached));
        }
        let on_path = std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(self.binary))
                .find(|candidate| is_executable(candidate))
        });
        Ok(on_path)
    }

    /// Finds the binary; when it is missing and `AUDIT_TESTKIT_NO_INSTALL` is not set, runs the
    /// install script once per process (it serialises concurrent builds with `flock`).
    pub fn locate(&self) -> Result<PathBuf, Error> {
        static INSTALL: Mutex<()> = Mutex::new(());
        if let Some(path) = self.find()? {
            return Ok(path);
        }
        if std::env::var_os("AUDIT_TESTKIT_NO_INSTALL").is_some() {
            return Err(Error::ToolMissing {
                tool: self.name,
                detail: format!(
                    "not found via {}, in {}, or on PATH (and AUDIT_TESTKIT_NO_INSTALL is set)",
                    self.env_var,
                    self.cache_path().display()
                ),
                script: self.script,
            });
        }
        let _guard = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(path) = self.find()? {
            return Ok(path);
        }
        let script = workspace_root().join(self.script);
        eprintln!(
            "audit-testkit: {} missing, running {} (a one-time build)",
            self.name,
            script.display()
        );
        let output = Command::new("bash")
            .arg(&script)
            .output()
            .map_err(|source| Error::Spawn {
                what: self.script,
                binary: script.clone(),
                source,
            })?;
        if !output.status.success() {
            return Err(Error::CommandFailed {
                command: script.display().to_string(),
                status: output.status.to_string(),
                output: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        match self.find()? {
            Some(path) => Ok(path),
            None => Err(Error::ToolMissing {
                tool: self.name,
                detail: format!(
                    "{} succeeded but {} is still missing",
                    script.display(),
                    self.cache_path().display()
                ),
                script: self.script,
            }),
        }
    }
}
