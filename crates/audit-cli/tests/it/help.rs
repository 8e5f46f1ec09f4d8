//! `--help` has examples for every command.

use crate::{TestResult, audit};

#[test]
fn every_command_has_examples_in_its_help() -> TestResult {
    for args in [
        vec!["--help"],
        vec!["schema", "check", "--help"],
        vec!["encode", "--help"],
        vec!["decode", "--help"],
        vec!["registry", "check", "--help"],
        vec!["registry", "register", "--help"],
        vec!["registry", "subjects", "--help"],
        vec!["tail", "--help"],
    ] {
        let out = audit()?.args(&args).output()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{args:?}");
        assert!(stdout.contains("Examples:"), "{args:?}: {stdout}");
        assert!(stdout.contains("Exit codes"), "{args:?}: {stdout}");
    }
    Ok(())
}

#[test]
fn usage_errors_exit_2() -> TestResult {
    let out = audit()?
        .args(["schema", "check", "--format", "yaml"])
        .output()?;
    assert_eq!(out.status.code(), Some(2));
    let out = audit()?.arg("frobnicate").output()?;
    assert_eq!(out.status.code(), Some(2));
    Ok(())
}
