//! Running Python (`avro` 1.12 and `fastavro`), as the other interop tests of the workspace do:
//! the interpreter comes from `AUDIT_PYTHON` or `<repo>/.venv/bin/python`, which
//! `scripts/ensure-python.sh` (run by `make prep` / `make test`) creates. Without it these tests
//! fail; they never skip.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python interpreter with `avro` and `fastavro`: `AUDIT_PYTHON`, else `<repo>/.venv/bin/python`.
pub(crate) fn python() -> PathBuf {
    let (path, origin) = match std::env::var_os("AUDIT_PYTHON") {
        Some(p) => (PathBuf::from(p), "AUDIT_PYTHON"),
        None => (
            repo_root().join(".venv/bin/python"),
            "the default <repo>/.venv",
        ),
    };
    assert!(
        path.is_file(),
        "no Python interpreter at {} ({origin}): run `bash scripts/ensure-python.sh` (or `make prep`) \
         to create the venv with avro 1.12 and fastavro, or set AUDIT_PYTHON",
        path.display()
    );
    path
}

fn run(mut command: Command, what: &str, stdin: &str) -> String {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start Python for {what}: {e}"));
    if let Some(mut input) = child.stdin.take() {
        input
            .write_all(stdin.as_bytes())
            .unwrap_or_else(|e| panic!("cannot feed {what}: {e}"));
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{what} did not finish: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap_or_else(|e| panic!("{what} printed non-UTF-8: {e}"))
}

/// Runs `scripts/python/<script>` with `args`, feeding `stdin`; panics with stderr on failure.
pub(crate) fn run_python(script: &str, args: &[&str], stdin: &str) -> String {
    let mut command = Command::new(python());
    command
        .arg(repo_root().join("scripts/python").join(script))
        .args(args);
    run(command, &format!("{script} {args:?}"), stdin)
}

/// Runs the Python program `code` with `args`.
pub(crate) fn run_python_code(code: &str, args: &[&str]) -> String {
    let mut command = Command::new(python());
    command.arg("-c").arg(code).args(args);
    run(command, &format!("python -c .. {args:?}"), "")
}
