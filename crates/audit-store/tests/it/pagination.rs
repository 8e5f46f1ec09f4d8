//! Acceptance 3, second half: paging through a result while records are being inserted
//! returns every record that matched when paging started exactly once, and never a record
//! twice or one that does not match.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use audit_store::{Access, AuditStore, RecordFilter, SortOrder};
use chrono::Duration;

use crate::support::{self, Model, Rng};

/// Records in a 30-minute window at whole seconds of few distinct values: many ties on the
/// event time, so page boundaries fall inside runs of equal timestamps.
fn window_record(rng: &mut Rng, prefix: &str, i: usize) -> audit_store::IncomingRecord {
    let t = support::base() + Duration::seconds(60 * rng.below(30) as i64);
    support::record_at(rng, prefix, i, t)
}

async fn page_while_inserting(store: &AuditStore, order: SortOrder) {
    let mut rng = Rng(31 + order as u64);
    let prefix = format!("pre-{order:?}");
    let initial: Vec<_> = (0..3_000)
        .map(|i| window_record(&mut rng, &prefix, i))
        .collect();
    let before = support::load(store, &initial, 500).await;
    let filter = RecordFilter {
        from: Some(support::base() + Duration::minutes(3)),
        until: Some(support::base() + Duration::minutes(27)),
        order,
        ..RecordFilter::default()
    };
    let access = Access::systems(["BILLING", "PAYMENT", "O'HARA"]);
    let expected: HashSet<i64> = support::brute_force(&before, &filter, &access)
        .into_iter()
        .collect();
    assert!(expected.len() > 1_000);

    // concurrent writer: batches of 20 records in the same window, counted
    let inserted = Arc::new(AtomicUsize::new(0));
    let writer = {
        let store = store.clone();
        let inserted = inserted.clone();
        let mut rng = Rng(77 + order as u64);
        let prefix = format!("live-{order:?}");
        tokio::spawn(async move {
            let mut models = Vec::new();
            for b in 0..150 {
                let batch: Vec<_> = (0..20)
                    .map(|i| window_record(&mut rng, &prefix, b * 20 + i))
                    .collect();
                models.extend(support::load(&store, &batch, 20).await);
                inserted.fetch_add(20, Ordering::Relaxed);
                tokio::task::yield_now().await;
            }
            models
        })
    };

    let mut seen: HashMap<i64, usize> = HashMap::new();
    let mut cursor = None;
    let mut pages = 0;
    let mut inserted_at_start = None;
    loop {
        let page = store
            .query(&filter, &access, cursor.as_ref(), 13)
            .await
            .unwrap();
        inserted_at_start.get_or_insert(inserted.load(Ordering::Relaxed));
        pages += 1;
        for r in &page.records {
            *seen.entry(r.id).or_default() += 1;
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
        tokio::task::yield_now().await;
    }
    let inserted_during = inserted.load(Ordering::Relaxed) - inserted_at_start.unwrap_or(0);
    let live: Vec<Model> = writer.await.unwrap();
    assert!(
        inserted_during > 0,
        "{order:?}: records were inserted while paging ({pages} pages)"
    );

    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{order:?}: records returned twice: {twice:?}"
    );
    let missing: Vec<_> = expected
        .iter()
        .filter(|id| !seen.contains_key(id))
        .collect();
    assert!(
        missing.is_empty(),
        "{order:?}: {} pre-existing records missed",
        missing.len()
    );
    let all: HashMap<i64, &Model> = before.iter().chain(&live).map(|m| (m.id, m)).collect();
    for id in seen.keys() {
        assert!(
            all[id].matches(&filter, &access),
            "{order:?}: returned a non-matching record"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_during_inserts_returns_each_matching_record_once() {
    for order in [SortOrder::NewestFirst, SortOrder::OldestFirst] {
        for s in support::both().await {
            page_while_inserting(&s.store, order).await;
        }
    }
}
