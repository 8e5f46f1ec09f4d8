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
/// Lines of `written W` (one a millisecond) the test reads at most before it gives up.
const MAX_REPORTS: u32 = 20_000;

/// One round: the child publishes `count` commands in one burst, reports them accepted, then
/// every millisecond what it has committed; it is killed (SIGKILL) as soon as a report says
/// `kill_when(written)`. Returns (accepted, last written count read before the kill, rows in
/// SQLite), after checking that SQLite holds exactly the accepted commands' prefix.
async fn round(
    dir: &tempfile::TempDir,
    count: u64,
    kill_when: impl Fn(u64) -> bool,
) -> Result<(u64, u64, u64), BoxError> {
    let db = dir.path().join("crash.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_publisher-crash-child"))
        .env("PUBLISHER_DB", &db)
        .env("PUBLISHER_COUNT", count.to_string())
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
    let mut reported = 0;
    let mut reports = 0u32;
    while !kill_when(reported) {
        reports += 1;
        if reports > MAX_REPORTS {
            child.kill()?;
            child.wait()?;
            return Err(format!(
                "the child never reached the kill point: {reported} of {accepted} written"
            )
            .into());
        }
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
    assert!(stored <= accepted, "{stored} stored, {accepted} accepted");
    Ok((accepted, reported, stored))
}

/// Killed with most of a burst still queued: what is lost is exactly `accepted - stored`
/// (reported), and at most the part that was not committed when the child last reported
/// (`accepted - written`): every batch it reported committed survives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_process_loses_only_the_unflushed_queue() -> TestResult {
    // A round whose kill came after the writer had written everything is repeated (at most 5).
    for attempt in 1..=5 {
        let dir = tempfile::tempdir()?;
        let (accepted, reported, stored) = round(&dir, COUNT, |written| written > 0).await?;
        assert_eq!(accepted, COUNT, "every command was accepted");
        let lost = accepted - stored;
        let unflushed = accepted - reported;
        eprintln!(
            "round {attempt}: accepted {accepted}, reported committed {reported} (unflushed \
             {unflushed}) before the kill, in SQLite {stored}: lost exactly {lost}"
        );
        assert!(
            lost <= unflushed,
            "lost {lost}, more than the {unflushed} commands not yet committed: a reported batch \
             did not survive"
        );
        if lost > 0 && stored > 0 {
            return Ok(());
        }
    }
    Err("in 5 rounds the kill never came while commands were in the queue".into())
}

/// Fewer commands than a batch: the flush interval (10 ms) commits them without more input, so
/// a process killed once they are reported written loses none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_interval_commits_a_partial_batch_before_the_kill() -> TestResult {
    let count = BATCH / 10;
    let dir = tempfile::tempdir()?;
    let (accepted, reported, stored) = round(&dir, count, |written| written == count).await?;
    eprintln!("accepted {accepted}, reported {reported}, in SQLite {stored}");
    assert_eq!((accepted, stored), (count, count), "nothing lost");
    Ok(())
}
