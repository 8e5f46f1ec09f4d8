//! Acceptance 3: a process killed (SIGKILL) with commands in its queue loses at most the queue's
//! unflushed part, and exactly that: what SQLite holds is the accepted commands' prefix (the
//! writer writes in queue order, one transaction per batch); the test reports how many were lost.

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use audit_publisher::open_sqlite;

use crate::support::*;

const COUNT: u64 = 20_000;
const QUEUE: u64 = 50_000;
const BATCH: u64 = 500;

/// One round: the child publishes `COUNT` commands, reports them accepted and is killed at once.
/// Returns (accepted, rows in SQLite).
/// The child is killed right after it reports a first committed batch.
async fn round(dir: &tempfile::TempDir) -> Result<(u64, u64), BoxError> {
    let db = dir.path().join("crash.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_publisher-crash-child"))
        .env("PUBLISHER_DB", &db)
        .env("PUBLISHER_COUNT", COUNT.to_string())
        .env("PUBLISHER_QUEUE", QUEUE.to_string())
        .env("PUBLISHER_BATCH", BATCH.to_string())
        .env("PUBLISHER_FLUSH_MS", "10")
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut stdout = BufReader::new(stdout);
    let mut line = String::new();
    stdout.read_line(&mut line)?;
    let accepted: u64 = line
        .trim()
        .strip_prefix("accepted ")
        .ok_or_else(|| format!("child said {line:?}"))?
        .parse()?;
    // Kill it as soon as the writer has committed something (or everything: then the round
    // is repeated).
    let mut reported = 0;
    while reported == 0 {
        line.clear();
        if stdout.read_line(&mut line)? == 0 {
            return Err("the child ended before it was killed".into());
        }
        reported = line
            .trim()
            .strip_prefix("written ")
            .ok_or_else(|| format!("child said {line:?}"))?
            .parse()?;
    }
    child.kill()?; // SIGKILL
    let status = child.wait()?;
    assert_eq!(status.signal(), Some(9), "the child was killed: {status:?}");
    let outbox = open_sqlite(&db).await?;
    let ids: Vec<String> = sqlx::query_scalar("SELECT message_id FROM audit_outbox ORDER BY id")
        .fetch_all(outbox.pool())
        .await?;
    let stored = ids.len() as u64;
    let expected: Vec<String> = (0..stored).map(|i| format!("crash-{i}")).collect();
    assert!(
        ids == expected,
        "SQLite holds exactly the first {stored} accepted commands, in order"
    );
    assert!(
        stored >= reported,
        "committed commands survive: {stored} < {reported} reported"
    );
    Ok((accepted, stored))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_process_loses_only_the_unflushed_queue() -> TestResult {
    // A round whose kill came after the writer had written everything is repeated (at most 5).
    for attempt in 1..=5 {
        let dir = tempfile::tempdir()?;
        let (accepted, stored) = round(&dir).await?;
        assert_eq!(accepted, COUNT, "every command was accepted");
        let lost = accepted - stored;
        eprintln!(
            "round {attempt}: accepted {accepted}, in SQLite {stored}, lost {lost} (the unflushed \
             part; bound: queue {QUEUE} + batch {BATCH})"
        );
        assert!(stored <= accepted);
        assert!(lost <= QUEUE + BATCH, "lost more than the queue could hold");
        if lost > 0 && stored > 0 {
            return Ok(());
        }
    }
    Err("in 5 rounds the kill never came while commands were in the queue".into())
}
