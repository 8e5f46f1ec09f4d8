//! Acceptance 5: retention deletes exactly the records older than the cut-off (golden test on
//! both backends), in bounded pages, and never a record at or after it.

use std::collections::BTreeSet;

use audit_store::{Access, RecordFilter};
use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::support::{self, Rng};

/// Event times around the cut-off and whether retention deletes them.
fn golden(cutoff: DateTime<Utc>) -> Vec<(DateTime<Utc>, bool)> {
    let ms = Duration::milliseconds;
    vec![
        (cutoff - Duration::days(400), true),
        (cutoff - Duration::days(1), true),
        (cutoff - Duration::minutes(1), true),
        (cutoff - ms(2), true),
        (cutoff - ms(1), true),
        (cutoff - ms(1), true),
        (cutoff, false),
        (cutoff, false),
        (cutoff + ms(1), false),
        (cutoff + Duration::minutes(1), false),
        (cutoff + Duration::days(1), false),
        (cutoff + Duration::days(4000), false),
    ]
}

async fn message_ids(store: &audit_store::AuditStore) -> BTreeSet<String> {
    use futures::TryStreamExt as _;
    store
        .export(&RecordFilter::default(), &Access::AllSystems)
        .map_ok(|r| r.message_id)
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn retention_deletes_exactly_the_records_older_than_the_cut_off() {
    let cutoff = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    for s in support::both().await {
        let mut rng = Rng(21);
        let mut records = Vec::new();
        let mut keep = BTreeSet::new();
        let mut expect_deleted = 0u64;
        // the golden cases, plus a spread of 200 around the cut-off (some at exactly it)
        let mut times = golden(cutoff);
        for _ in 0..200 {
            let offset = rng.below(20_001) as i64 - 10_000;
            let t = cutoff + Duration::milliseconds(offset);
            times.push((t, t < cutoff));
        }
        for (i, (t, deleted)) in times.into_iter().enumerate() {
            let r = support::record_at(&mut rng, "ret", i, t);
            if deleted {
                expect_deleted += 1;
            } else {
                keep.insert(r.record().metadata().message_id().to_owned());
            }
            records.push(r);
        }
        assert!(
            records
                .iter()
                .filter(|r| r.record().timestamp() == cutoff)
                .count()
                >= 2
        );
        support::load(&s.store, &records, 50).await;

        let report = s.store.delete_older_than(cutoff, 7).await.unwrap();
        assert_eq!(report.deleted, expect_deleted, "{}", s.name);
        assert_eq!(
            report.pages,
            expect_deleted.div_ceil(7),
            "{}: bounded pages",
            s.name
        );
        assert_eq!(
            message_ids(&s.store).await,
            keep,
            "{}: exactly the younger records remain",
            s.name
        );

        // a second run finds nothing; a cut-off just past the boundary records takes exactly them
        assert_eq!(
            s.store.delete_older_than(cutoff, 7).await.unwrap().deleted,
            0
        );
        let at_cutoff = records
            .iter()
            .filter(|r| r.record().timestamp() == cutoff)
            .count() as u64;
        let report = s
            .store
            .delete_older_than(cutoff + Duration::nanoseconds(1), 1_000)
            .await
            .unwrap();
        assert_eq!(
            report.deleted, at_cutoff,
            "{}: sub-millisecond cut-off",
            s.name
        );
        assert_eq!(report.pages, 1);
        assert!(
            s.store.delete_older_than(cutoff, 0).await.is_err(),
            "page size 0 is refused"
        );
    }
}
