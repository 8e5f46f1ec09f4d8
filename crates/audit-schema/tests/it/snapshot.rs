//! The generated code is committed as a snapshot (`tests/snapshots/generated.rs`), so
//! schema-driven API changes show up in review. Refresh with
//! `UPDATE_SNAPSHOT=1 cargo test -p audit-schema --test it snapshot`.

use std::path::PathBuf;

const GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/generated.rs"));

#[test]
fn generated_code_matches_committed_snapshot() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/generated.rs");
    if std::env::var_os("UPDATE_SNAPSHOT").is_some() {
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(&path, GENERATED).expect("write snapshot");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == GENERATED,
        "the generated code differs from {} (review the change, then refresh the snapshot with \
         `UPDATE_SNAPSHOT=1 cargo test -p audit-schema --test it snapshot` and commit it)",
        path.display()
    );
}
