//! Immutability of published files against a git revision.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::Error;

/// Runs git in `dir`; `Ok(None)` when git ran but failed (e.g. the path does not exist at REV).
fn git(dir: &Path, args: &[&str]) -> Result<Option<Vec<u8>>, Error> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|source| Error::GitSpawn { source })?;
    Ok(out.status.success().then_some(out.stdout))
}

fn git_required(dir: &Path, args: &[&str]) -> Result<Vec<u8>, Error> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|source| Error::GitSpawn { source })?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(Error::Git {
            dir: dir.to_path_buf(),
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

/// What was published at `rev` for one directory.
pub(crate) struct Published {
    prefix: String,
    rev: String,
}

impl Published {
    /// Verifies `rev` names a commit and `dir` is inside a git work tree.
    pub(crate) fn open(dir: &Path, rev: &str) -> Result<Published, Error> {
        let prefix = git_required(dir, &["rev-parse", "--show-prefix"])?;
        let spec = format!("{rev}^{{commit}}");
        if git(dir, &["rev-parse", "--verify", "--quiet", &spec])?.is_none() {
            return Err(Error::GitRevision {
                rev: rev.to_owned(),
                dir: dir.to_path_buf(),
            });
        }
        Ok(Published {
            prefix: String::from_utf8_lossy(&prefix).trim().to_owned(),
            rev: rev.to_owned(),
        })
    }

    /// The descriptor file names in the directory at `rev`.
    pub(crate) fn descriptors(&self, dir: &Path) -> Result<Vec<String>, Error> {
        let mut args = vec!["ls-tree", "--name-only", "--full-tree", self.rev.as_str()];
        if !self.prefix.is_empty() {
            args.push(self.prefix.as_str());
        }
        let out = git_required(dir, &args)?;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .map(|l| l.strip_prefix(self.prefix.as_str()).unwrap_or(l).to_owned())
            .filter(|n| !n.contains('/') && n.ends_with(".descriptor.json"))
            .collect())
    }

    /// The bytes of `file` (relative to the directory) at `rev`, `None` when absent.
    pub(crate) fn file(&self, dir: &Path, file: &str) -> Result<Option<Vec<u8>>, Error> {
        let spec = format!("{}:{}{}", self.rev, self.prefix, file);
        git(dir, &["show", &spec])
    }
}

/// Compares the published state of one descriptor with the current one.
pub(crate) fn compare(
    dir: &Path,
    published: &Published,
    descriptor_file: &str,
    rev: &str,
) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let Some(old_bytes) = published.file(dir, descriptor_file)? else {
        return Ok(out);
    };
    let current_path = dir.join(descriptor_file);
    if !current_path.exists() {
        out.push(format!(
            "descriptor `{descriptor_file}` was published at {rev} and has been deleted"
        ));
        return Ok(out);
    }
    let old: Value = match serde_json::from_slice(&old_bytes) {
        Ok(v) => v,
        Err(e) => {
            out.push(format!(
                "descriptor `{descriptor_file}` at {rev} is not valid JSON ({e}); cannot compare"
            ));
            return Ok(out);
        }
    };
    let current_text = std::fs::read(&current_path).map_err(|source| Error::Io {
        path: current_path.clone(),
        source,
    })?;
    let current: Value =
        serde_json::from_slice(&current_text).map_err(|source| Error::Descriptor {
            path: current_path.clone(),
            source,
        })?;
    let entries = |v: &Value| -> Vec<Value> {
        v.get("versions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let now = entries(&current);
    for entry in entries(&old) {
        let version = entry.get("version").and_then(Value::as_str).unwrap_or("?");
        match now
            .iter()
            .find(|e| e.get("version").and_then(Value::as_str) == Some(version))
        {
            None => out.push(format!(
                "version {version} was published at {rev} and has been removed from `{descriptor_file}`"
            )),
            Some(e) if *e != entry => out.push(format!(
                "the descriptor entry of published version {version} changed since {rev}: was {entry}, now {e}"
            )),
            Some(_) => {}
        }
        let Some(file) = entry.get("schema").and_then(Value::as_str) else {
            continue;
        };
        let Some(old_file) = published.file(dir, file)? else {
            continue;
        };
        let path = dir.join(file);
        match std::fs::read(&path) {
            Ok(bytes) if bytes == old_file => {}
            Ok(_) => out.push(format!(
                "published schema file `{file}` (version {version}) changed since {rev}"
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => out.push(format!(
                "published schema file `{file}` (version {version}) has been deleted since {rev}"
            )),
            Err(source) => return Err(Error::Io { path, source }),
        }
    }
    Ok(out)
}
