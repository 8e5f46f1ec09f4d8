//! The report: what was checked and every finding, as text (`Display`) and serde JSON.

use std::fmt;

use serde::Serialize;

use crate::compat::Incompatibility;
use crate::descriptor::{Direction, Mode};

/// The result of checking a directory.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// The checked directory.
    pub dir: String,
    /// Whether the check was transitive.
    pub transitive: bool,
    /// The git revision compared against, if any.
    pub against: Option<String>,
    /// Every compatibility check that ran (also the passing ones).
    pub checks: Vec<PairCheck>,
    /// Everything that is wrong; empty means the directory passes.
    pub findings: Vec<Finding>,
}

/// One reader/writer check between two versions.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PairCheck {
    /// The descriptor file.
    pub descriptor: String,
    /// The version being checked.
    pub version: String,
    /// The earlier version it is checked against.
    pub against: String,
    /// The declared mode.
    pub mode: Mode,
    /// The direction of this check.
    pub direction: Direction,
    /// The version whose schema reads.
    pub reader: String,
    /// The version whose schema wrote.
    pub writer: String,
    /// Whether the reader can read the writer's data.
    pub compatible: bool,
}

/// Something wrong in the checked directory.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Finding {
    /// A version is not compatible with an earlier one in its declared mode.
    Incompatible {
        /// The descriptor file.
        descriptor: String,
        /// The version being checked.
        version: String,
        /// The earlier version.
        against: String,
        /// The declared mode.
        mode: Mode,
        /// The failing direction.
        direction: Direction,
        /// The reading version.
        reader: String,
        /// The writing version.
        writer: String,
        /// Every reason (Java `SchemaCompatibility` semantics).
        incompatibilities: Vec<Incompatibility>,
    },
    /// A version after the first declares no compatibility mode.
    MissingMode {
        /// The descriptor file.
        descriptor: String,
        /// The version.
        version: String,
    },
    /// Something in the descriptor is wrong (unknown mode, bad or duplicate version,
    /// unknown `compatibleVersion`, record name not matching).
    Descriptor {
        /// The descriptor file.
        descriptor: String,
        /// The version concerned, if any.
        version: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A listed schema file is missing or does not parse.
    Schema {
        /// The descriptor file.
        descriptor: String,
        /// The version.
        version: String,
        /// The schema file.
        file: String,
        /// What is wrong, with the cause chain.
        message: String,
    },
    /// A jEAP command structure rule is broken.
    Structure {
        /// The descriptor file.
        descriptor: String,
        /// The version.
        version: String,
        /// The rule (`command-record`, `command-fields`, `base-namespace`, `optional-field`).
        rule: String,
        /// What is wrong.
        message: String,
    },
    /// A published file or descriptor entry changed or disappeared since the git revision.
    Immutability {
        /// The descriptor file.
        descriptor: String,
        /// What changed.
        message: String,
    },
    /// The newest version is not the schema the Rust types were generated from.
    Generated {
        /// The descriptor file.
        descriptor: String,
        /// What differs.
        message: String,
    },
}

impl Report {
    /// `true` when there is no finding.
    pub fn is_ok(&self) -> bool {
        self.findings.is_empty()
    }

    /// Every incompatibility of every finding (convenient for tests and tools).
    pub fn incompatibilities(&self) -> impl Iterator<Item = &Incompatibility> {
        self.findings.iter().flat_map(|f| match f {
            Finding::Incompatible {
                incompatibilities, ..
            } => incompatibilities.as_slice(),
            _ => &[],
        })
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Incompatible {
                descriptor,
                version,
                against,
                mode,
                direction,
                reader,
                writer,
                incompatibilities,
            } => {
                writeln!(
                    f,
                    "INCOMPATIBLE {descriptor}: {version} ({mode}) against {against}, {direction}: reader {reader} cannot read data written by {writer}"
                )?;
                for (i, inc) in incompatibilities.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write_incompat(f, inc, 1)?;
                }
                Ok(())
            }
            Finding::MissingMode {
                descriptor,
                version,
            } => write!(
                f,
                "MISSING MODE {descriptor}: version {version} declares no compatibilityMode (mandatory after the first version: BACKWARD, FORWARD, FULL or NONE)"
            ),
            Finding::Descriptor {
                descriptor,
                version,
                message,
            } => match version {
                Some(v) => write!(f, "DESCRIPTOR {descriptor}: version {v}: {message}"),
                None => write!(f, "DESCRIPTOR {descriptor}: {message}"),
            },
            Finding::Schema {
                descriptor,
                version,
                file,
                message,
            } => write!(
                f,
                "SCHEMA {descriptor}: version {version} ({file}): {message}"
            ),
            Finding::Structure {
                descriptor,
                version,
                rule,
                message,
            } => write!(
                f,
                "STRUCTURE {descriptor}: version {version} [{rule}]: {message}"
            ),
            Finding::Immutability {
                descriptor,
                message,
            } => write!(f, "IMMUTABILITY {descriptor}: {message}"),
            Finding::Generated {
                descriptor,
                message,
            } => write!(f, "GENERATED {descriptor}: {message}"),
        }
    }
}

fn write_incompat(f: &mut fmt::Formatter<'_>, inc: &Incompatibility, depth: usize) -> fmt::Result {
    let indent = "  ".repeat(depth);
    let path = if inc.path.is_empty() {
        "(root)"
    } else {
        inc.path.as_str()
    };
    let field = if inc.field.is_empty() {
        String::new()
    } else {
        format!("{} ", inc.field)
    };
    write!(
        f,
        "{indent}- {field}at {path} [{}, reader {}, writer {}, location {}]: {}",
        inc.kind, inc.reader_type, inc.writer_type, inc.location, inc.message
    )?;
    for c in &inc.causes {
        writeln!(f)?;
        write!(f, "{indent}  because:")?;
        writeln!(f)?;
        write_incompat(f, c, depth + 2)?;
    }
    Ok(())
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "schema check of {}", self.dir)?;
        for c in &self.checks {
            writeln!(
                f,
                "  {} {} {} against {} ({}: {} reads {})",
                if c.compatible { "ok  " } else { "FAIL" },
                c.descriptor,
                c.version,
                c.against,
                c.mode,
                c.reader,
                c.writer
            )?;
        }
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        if self.is_ok() {
            write!(f, "OK: {} compatibility checks passed", self.checks.len())?;
            if let Some(rev) = &self.against {
                write!(f, ", nothing published at {rev} changed")?;
            }
            writeln!(f)
        } else {
            writeln!(f, "FAILED: {} finding(s)", self.findings.len())
        }
    }
}
