//! Design-time checks of an Avro schema directory such as `avro/`:
//!
//! * every schema listed in a `*.descriptor.json` parses;
//! * each version is compatible with the version it declares (`compatibleVersion`, else the
//!   previous one by semantic-version order) in its declared mode (`BACKWARD`, `FORWARD`, `FULL`,
//!   `NONE`; a mode is mandatory after the first version), optionally against every earlier
//!   version ([`CheckOptions::transitive`]);
//! * the jEAP command structure rules;
//! * immutability against a git revision ([`CheckOptions::against`]): a published schema file or
//!   descriptor entry never changes and is never deleted.
//!
//! Compatibility follows Apache Avro Java's `SchemaCompatibility.checkReaderWriterCompatibility`
//! (which the Confluent registry uses), see [`check_schemas`].
//!
//! # Quick start
//! ```
//! use audit_compat::{check_dir, CheckOptions};
//! # fn main() -> Result<(), audit_compat::Error> {
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../avro");
//! let report = check_dir(dir, &CheckOptions { transitive: true, ..CheckOptions::default() })?;
//! assert!(report.is_ok(), "{report}");
//! println!("{report}");                                   // human-readable
//! let json = serde_json::to_string_pretty(&report).unwrap_or_default(); // for tools
//! assert!(json.contains("\"findings\": []"));
//! # Ok(()) }
//! ```
//!
//! Reader/writer compatibility of two schema texts:
//! ```
//! # fn main() -> Result<(), audit_compat::Error> {
//! let old = r#"{"type":"record","name":"R","fields":[{"name":"v","type":"string"}]}"#;
//! let new = r#"{"type":"record","name":"R","fields":[{"name":"v","type":["null","string"],"default":null}]}"#;
//! assert!(audit_compat::check_schemas(new, old)?.is_empty()); // new reads old: BACKWARD ok
//! let problems = audit_compat::check_schemas(old, new)?;     // old reads new: FORWARD fails
//! assert_eq!(problems[0].field, "R.v");
//! # Ok(()) }
//! ```

mod avro;
mod compat;
mod descriptor;
mod git;
mod model;
mod report;
mod rules;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use compat::{Incompatibility, IncompatibilityKind};
pub use descriptor::{Direction, Mode};
pub use report::{Finding, PairCheck, Report};
pub use rules::JEAP_BASE_NAMESPACE;

use descriptor::{Descriptor, SemVer};
use model::Model;

/// Errors that stop a check from running (a failing check is a [`Report`], not an error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A schema text given to [`check_schemas`] does not parse.
    #[error("the {role} schema is not a valid Avro schema")]
    InvalidSchema {
        /// `reader` or `writer`.
        role: &'static str,
        /// The parser's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// A file or directory cannot be read.
    #[error("cannot read {path}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The directory has no `*.descriptor.json`.
    #[error("no `*.descriptor.json` in {dir}")]
    NoDescriptor {
        /// The directory.
        dir: PathBuf,
    },
    /// A descriptor is not valid JSON of the expected layout.
    #[error(
        "descriptor {path} is not valid (expected {{\"versions\": [{{\"version\", \"schema\", \"compatibilityMode\"?, \"compatibleVersion\"?}}]}})"
    )]
    Descriptor {
        /// The descriptor file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// `git` could not be started.
    #[error("cannot run `git`")]
    GitSpawn {
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A git command failed (e.g. the directory is not in a git work tree).
    #[error("`git {args}` failed in {dir}: {stderr}")]
    Git {
        /// The directory git ran in.
        dir: PathBuf,
        /// The git arguments.
        args: String,
        /// What git said.
        stderr: String,
    },
    /// The revision given to `--against` does not name a commit.
    #[error("`{rev}` is not a git revision (commit) in {dir}")]
    GitRevision {
        /// The revision.
        rev: String,
        /// The directory.
        dir: PathBuf,
    },
}

impl Error {
    /// `true` for errors in what the user gave (bad descriptor, unknown revision, bad schema
    /// text), `false` for I/O and tool failures.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            Error::InvalidSchema { .. }
                | Error::NoDescriptor { .. }
                | Error::Descriptor { .. }
                | Error::GitRevision { .. }
        )
    }
}

/// The newest schema version the caller expects (e.g. the one its Rust types were generated from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedLatest {
    /// The record full name this applies to; other descriptors are not compared.
    pub record_name: String,
    /// The expected newest version, e.g. `1.0.2`.
    pub version: String,
    /// The schema JSON of that version (compared as JSON values).
    pub schema_json: String,
}

/// What [`check_dir`] checks besides the declared modes and the structure rules.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Check every version against all earlier versions, not only the declared/previous one.
    pub transitive: bool,
    /// A git revision: published files and descriptor entries must be unchanged since then.
    pub against: Option<String>,
    /// Compare the newest version with this one.
    pub expected_latest: Option<ExpectedLatest>,
    /// Skip the jEAP command structure rules (for directories of other record types).
    pub skip_structure_rules: bool,
}

/// Checks whether `reader_schema` can read data written with `writer_schema`, with the semantics
/// of Java's `SchemaCompatibility.checkReaderWriterCompatibility`. Empty means compatible.
pub fn check_schemas(
    reader_schema: &str,
    writer_schema: &str,
) -> Result<Vec<Incompatibility>, Error> {
    let reader = avro::parse(reader_schema).map_err(|e| Error::InvalidSchema {
        role: "reader",
        source: Box::new(e),
    })?;
    let writer = avro::parse(writer_schema).map_err(|e| Error::InvalidSchema {
        role: "writer",
        source: Box::new(e),
    })?;
    Ok(compat::check(&reader, &writer))
}

/// Checks whether the schema in the file `reader` can read data written with the schema in the
/// file `writer` (any two schemas: no descriptor, no record-name rule), as a [`Report`] with one
/// check in the format of [`check_dir`]'s reports. The verdict is [`check_schemas`]'.
///
/// ```
/// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/compat-corpus");
/// let case = dir.join("06-promotion-int-to-long");
/// let report = audit_compat::check_pair(case.join("reader.avsc"), case.join("writer.avsc"))?;
/// assert!(report.is_ok(), "{report}");
/// # Ok::<(), audit_compat::Error>(())
/// ```
///
/// # Errors
/// [`Error::Io`] when a file cannot be read, [`Error::InvalidSchema`] when one does not parse.
pub fn check_pair(reader: impl AsRef<Path>, writer: impl AsRef<Path>) -> Result<Report, Error> {
    let (reader, writer) = (reader.as_ref(), writer.as_ref());
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    let incompatibilities = check_schemas(&read(reader)?, &read(writer)?)?;
    let (reader, writer) = (reader.display().to_string(), writer.display().to_string());
    let compatible = incompatibilities.is_empty();
    let findings = if compatible {
        Vec::new()
    } else {
        vec![Finding::Incompatible {
            descriptor: "pair".to_owned(),
            version: reader.clone(),
            against: writer.clone(),
            mode: Mode::Backward,
            direction: Direction::Backward,
            reader: reader.clone(),
            writer: writer.clone(),
            incompatibilities,
        }]
    };
    Ok(Report {
        dir: format!("{reader} (reader) and {writer} (writer)"),
        transitive: false,
        against: None,
        checks: vec![PairCheck {
            descriptor: "pair".to_owned(),
            version: reader.clone(),
            against: writer.clone(),
            mode: Mode::Backward,
            direction: Direction::Backward,
            reader,
            writer,
            compatible,
        }],
        findings,
    })
}

/// Checks a descriptor directory; see the crate docs. Same as [`check_dir_with_progress`]
/// without progress messages.
pub fn check_dir(dir: impl AsRef<Path>, options: &CheckOptions) -> Result<Report, Error> {
    check_dir_with_progress(dir, options, &mut |_| {})
}

/// Checks a descriptor directory, calling `progress` with a short message before each step.
pub fn check_dir_with_progress(
    dir: impl AsRef<Path>,
    options: &CheckOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<Report, Error> {
    let dir = dir.as_ref();
    let mut descriptor_files = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".descriptor.json") {
            descriptor_files.push(name);
        }
    }
    descriptor_files.sort();
    let mut report = Report {
        dir: dir.display().to_string(),
        transitive: options.transitive,
        against: options.against.clone(),
        checks: Vec::new(),
        findings: Vec::new(),
    };
    let published = match &options.against {
        Some(rev) => {
            progress(&format!("opening git revision {rev}"));
            let p = git::Published::open(dir, rev)?;
            for old in p.descriptors(dir)? {
                if !descriptor_files.contains(&old) {
                    report.findings.push(Finding::Immutability {
                        descriptor: old.clone(),
                        message: format!(
                            "descriptor `{old}` was published at {rev} and has been deleted"
                        ),
                    });
                }
            }
            Some((p, rev.clone()))
        }
        None => None,
    };
    if descriptor_files.is_empty() {
        return Err(Error::NoDescriptor {
            dir: dir.to_path_buf(),
        });
    }
    for file in &descriptor_files {
        check_descriptor(dir, file, options, progress, &mut report)?;
        if let Some((p, rev)) = &published {
            progress(&format!("{file}: comparing with {rev}"));
            for message in git::compare(dir, p, file, rev)? {
                report.findings.push(Finding::Immutability {
                    descriptor: file.clone(),
                    message,
                });
            }
        }
    }
    Ok(report)
}

fn cause_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

struct Loaded {
    version: String,
    semver: SemVer,
    mode: Option<Mode>,
    compatible_version: Option<String>,
    file: String,
    model: Option<Model>,
    json: Option<serde_json::Value>,
}

fn check_descriptor(
    dir: &Path,
    file: &str,
    options: &CheckOptions,
    progress: &mut dyn FnMut(&str),
    report: &mut Report,
) -> Result<(), Error> {
    let path = dir.join(file);
    let text = std::fs::read(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    let descriptor: Descriptor =
        serde_json::from_slice(&text).map_err(|source| Error::Descriptor {
            path: path.clone(),
            source,
        })?;
    let desc_finding = |version: Option<&str>, message: String| Finding::Descriptor {
        descriptor: file.to_owned(),
        version: version.map(str::to_owned),
        message,
    };
    progress(&format!(
        "{file}: parsing {} schema version(s)",
        descriptor.versions.len()
    ));
    let mut loaded: Vec<Loaded> = Vec::new();
    for entry in &descriptor.versions {
        let Some(semver) = SemVer::parse(&entry.version) else {
            report.findings.push(desc_finding(
                Some(&entry.version),
                "not a semantic version (MAJOR.MINOR.PATCH)".to_owned(),
            ));
            continue;
        };
        if loaded.iter().any(|l| l.semver == semver) {
            report.findings.push(desc_finding(
                Some(&entry.version),
                "listed more than once".to_owned(),
            ));
            continue;
        }
        let mode = match entry.compatibility_mode.as_deref() {
            None => None,
            Some(m) => match Mode::parse(m) {
                Some(mode) => Some(mode),
                None => {
                    report.findings.push(desc_finding(
                        Some(&entry.version),
                        format!(
                            "unknown compatibilityMode `{m}` (expected BACKWARD, FORWARD, FULL or NONE)"
                        ),
                    ));
                    continue;
                }
            },
        };
        let schema_path = dir.join(&entry.schema);
        let (model, json) = match std::fs::read_to_string(&schema_path) {
            Ok(text) => {
                let json = serde_json::from_str(&text).ok();
                match avro::parse(&text) {
                    Ok(m) => (Some(m), json),
                    Err(e) => {
                        report.findings.push(Finding::Schema {
                            descriptor: file.to_owned(),
                            version: entry.version.clone(),
                            file: entry.schema.clone(),
                            message: format!("not a valid Avro schema: {}", cause_chain(&e)),
                        });
                        (None, json)
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                report.findings.push(Finding::Schema {
                    descriptor: file.to_owned(),
                    version: entry.version.clone(),
                    file: entry.schema.clone(),
                    message: "the schema file does not exist".to_owned(),
                });
                (None, None)
            }
            Err(source) => {
                return Err(Error::Io {
                    path: schema_path,
                    source,
                });
            }
        };
        loaded.push(Loaded {
            version: entry.version.clone(),
            semver,
            mode,
            compatible_version: entry.compatible_version.clone(),
            file: entry.schema.clone(),
            model,
            json,
        });
    }
    loaded.sort_by(|a, b| a.semver.cmp(&b.semver));

    // Record name and structure rules.
    for l in &loaded {
        let Some(model) = &l.model else { continue };
        if let (Some(expected), model::Node::Named(i)) = (&descriptor.record_name, &model.root)
            && let Some(named) = model.named(*i)
            && &named.full_name != expected
        {
            report.findings.push(desc_finding(
                Some(&l.version),
                format!(
                    "recordName is `{expected}` but {} defines `{}`",
                    l.file, named.full_name
                ),
            ));
        }
        if !options.skip_structure_rules {
            for (rule, message) in rules::check(model) {
                report.findings.push(Finding::Structure {
                    descriptor: file.to_owned(),
                    version: l.version.clone(),
                    rule: rule.to_owned(),
                    message,
                });
            }
        }
    }

    // Newest version vs the generated types.
    if let (Some(expected), Some(latest)) = (&options.expected_latest, loaded.last())
        && descriptor.record_name.as_deref() == Some(expected.record_name.as_str())
    {
        if latest.version != expected.version {
            report.findings.push(Finding::Generated {
                descriptor: file.to_owned(),
                message: format!(
                    "the newest version is {} but the Rust types were generated from {}",
                    latest.version, expected.version
                ),
            });
        } else if latest.json.as_ref()
            != serde_json::from_str::<serde_json::Value>(&expected.schema_json)
                .ok()
                .as_ref()
        {
            report.findings.push(Finding::Generated {
                descriptor: file.to_owned(),
                message: format!(
                    "{} differs from the schema the Rust types were generated from",
                    latest.file
                ),
            });
        }
    }

    // Compatibility.
    let index: HashMap<&str, usize> = loaded
        .iter()
        .enumerate()
        .map(|(i, l)| (l.version.as_str(), i))
        .collect();
    for (i, l) in loaded.iter().enumerate() {
        if i == 0 {
            continue;
        }
        let Some(mode) = l.mode else {
            report.findings.push(Finding::MissingMode {
                descriptor: file.to_owned(),
                version: l.version.clone(),
            });
            continue;
        };
        let declared = match &l.compatible_version {
            None => Some(i - 1),
            Some(cv) => match index.get(cv.as_str()) {
                Some(&t) if t < i => Some(t),
                Some(_) => {
                    report.findings.push(desc_finding(
                        Some(&l.version),
                        format!("compatibleVersion {cv} is not an earlier version"),
                    ));
                    None
                }
                None => {
                    report.findings.push(desc_finding(
                        Some(&l.version),
                        format!("compatibleVersion {cv} is not listed in the descriptor"),
                    ));
                    None
                }
            },
        };
        let targets: Vec<usize> = if options.transitive {
            (0..i).collect()
        } else {
            declared.into_iter().collect()
        };
        for t in targets {
            let Some(old) = loaded.get(t) else { continue };
            let (Some(new_model), Some(old_model)) = (&l.model, &old.model) else {
                continue;
            };
            for &direction in mode.directions() {
                progress(&format!(
                    "{file}: {} {mode} against {} ({direction})",
                    l.version, old.version
                ));
                let (reader, writer, rm, wm) = match direction {
                    Direction::Backward => (&l.version, &old.version, new_model, old_model),
                    Direction::Forward => (&old.version, &l.version, old_model, new_model),
                };
                let incompatibilities = compat::check(rm, wm);
                report.checks.push(PairCheck {
                    descriptor: file.to_owned(),
                    version: l.version.clone(),
                    against: old.version.clone(),
                    mode,
                    direction,
                    reader: reader.clone(),
                    writer: writer.clone(),
                    compatible: incompatibilities.is_empty(),
                });
                if !incompatibilities.is_empty() {
                    report.findings.push(Finding::Incompatible {
                        descriptor: file.to_owned(),
                        version: l.version.clone(),
                        against: old.version.clone(),
                        mode,
                        direction,
                        reader: reader.clone(),
                        writer: writer.clone(),
                        incompatibilities,
                    });
                }
            }
        }
    }
    Ok(())
}
