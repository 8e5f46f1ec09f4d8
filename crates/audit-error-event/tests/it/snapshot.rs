//! The generated code is committed as snapshots (`tests/snapshots/event.rs`, `key.rs`), so
//! schema-driven API changes show up in review. Refresh with
//! `UPDATE_SNAPSHOT=1 cargo test -p audit-error-event --test it snapshot`.

use std::path::PathBuf;

const EVENT: &str = include_str!(concat!(env!("OUT_DIR"), "/event.rs"));
const KEY: &str = include_str!(concat!(env!("OUT_DIR"), "/key.rs"));

fn check(file: &str, generated: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(file);
    if std::env::var_os("UPDATE_SNAPSHOT").is_some() {
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(&path, generated).expect("write snapshot");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "the generated code differs from {} (review the change, then refresh the snapshot with \
         `UPDATE_SNAPSHOT=1 cargo test -p audit-error-event --test it snapshot` and commit it)",
        path.display()
    );
}

#[test]
fn generated_event_code_matches_committed_snapshot() {
    check("event.rs", EVENT);
}

#[test]
fn generated_key_code_matches_committed_snapshot() {
    check("key.rs", KEY);
}
