//! The descriptor file (`*.descriptor.json`) and semantic-version ordering.

use serde::{Deserialize, Serialize};

/// A descriptor as found on disk.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Descriptor {
    #[serde(default)]
    pub(crate) record_name: Option<String>,
    pub(crate) versions: Vec<VersionEntry>,
}

/// One entry of `versions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VersionEntry {
    pub(crate) version: String,
    pub(crate) schema: String,
    #[serde(default)]
    pub(crate) compatibility_mode: Option<String>,
    #[serde(default)]
    pub(crate) compatible_version: Option<String>,
}

/// A declared compatibility mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Mode {
    /// The new schema can read data written with the old one.
    Backward,
    /// The old schema can read data written with the new one.
    Forward,
    /// Both.
    Full,
    /// No check.
    None,
}

impl Mode {
    /// Parses `BACKWARD`, `FORWARD`, `FULL` or `NONE`.
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "BACKWARD" => Some(Mode::Backward),
            "FORWARD" => Some(Mode::Forward),
            "FULL" => Some(Mode::Full),
            "NONE" => Some(Mode::None),
            _ => None,
        }
    }

    /// The directions this mode requires.
    pub fn directions(self) -> &'static [Direction] {
        match self {
            Mode::Backward => &[Direction::Backward],
            Mode::Forward => &[Direction::Forward],
            Mode::Full => &[Direction::Backward, Direction::Forward],
            Mode::None => &[],
        }
    }

    /// The descriptor spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Backward => "BACKWARD",
            Mode::Forward => "FORWARD",
            Mode::Full => "FULL",
            Mode::None => "NONE",
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which way data flows in one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// New schema as reader, old schema as writer.
    Backward,
    /// Old schema as reader, new schema as writer.
    Forward,
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Direction::Backward => "backward (new reader, old writer)",
            Direction::Forward => "forward (old reader, new writer)",
        })
    }
}

/// A parsed `MAJOR.MINOR.PATCH[-PRE]` version; ordering follows semantic versioning
/// (a pre-release sorts before its release; pre-release identifiers compare numerically when numeric).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SemVer {
    core: [u64; 3],
    pre: Vec<String>,
}

impl SemVer {
    pub(crate) fn parse(s: &str) -> Option<SemVer> {
        let (main, pre) = match s.split_once('-') {
            Some((m, p)) => (m, Some(p)),
            None => (s, None),
        };
        let main = main.split_once('+').map_or(main, |(m, _)| m);
        let mut parts = main.split('.');
        let mut core = [0u64; 3];
        for slot in &mut core {
            let p = parts.next()?;
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            *slot = p.parse().ok()?;
        }
        if parts.next().is_some() {
            return None;
        }
        let pre = match pre {
            Some(p) => {
                let p = p.split_once('+').map_or(p, |(p, _)| p);
                if p.is_empty() {
                    return None;
                }
                p.split('.').map(str::to_owned).collect()
            }
            None => Vec::new(),
        };
        Some(SemVer { core, pre })
    }
}

impl PartialOrd for SemVer {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SemVer {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        self.core
            .cmp(&other.core)
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (a, b) in self.pre.iter().zip(&other.pre) {
                        let ord = match (a.parse::<u64>(), b.parse::<u64>()) {
                            (Ok(x), Ok(y)) => x.cmp(&y),
                            (Ok(_), Err(_)) => Ordering::Less,
                            (Err(_), Ok(_)) => Ordering::Greater,
                            (Err(_), Err(_)) => a.cmp(b),
                        };
                        if ord != Ordering::Equal {
                            return ord;
                        }
                    }
                    self.pre.len().cmp(&other.pre.len())
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::SemVer;

    #[test]
    fn semver_order() {
        let v = |s: &str| SemVer::parse(s);
        assert!(v("1.0.10") > v("1.0.9"));
        assert!(v("1.0.0-rc.1") < v("1.0.0"));
        assert!(v("1.0.0-rc.2") < v("1.0.0-rc.10"));
        assert!(v("2.0.0") > v("1.99.99"));
        assert_eq!(v("1.0"), None);
        assert_eq!(v("1.0.x"), None);
        assert_eq!(v("1.0.0.0"), None);
    }
}
