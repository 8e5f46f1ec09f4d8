//! Acceptance 3: each filter and combinations of them, over a store of 100,000 generated
//! records, give exactly what a brute-force filter over the same data gives (every page
//! concatenated, in order). The store is built once per backend; `AUDIT_STORE_RECORDS` and
//! `AUDIT_STORE_CASES` make the run bigger.

use std::sync::Arc;

use audit_store::{Access, AuditStore, RecordFilter, SortOrder, TriggerKind};
use chrono::Duration;
use futures::TryStreamExt as _;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::support::{self, Model};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn text(pool: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(0.3, prop::sample::select(pool).prop_map(str::to_owned))
}

fn numbered(prefix: &'static str, n: usize, p: f64) -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(p, (0..n).prop_map(move |i| format!("{prefix}{i}")))
}

fn filter() -> impl Strategy<Value = (RecordFilter, Access, u32)> {
    let time = (
        prop::option::weighted(0.4, 0..support::MINUTES),
        prop::option::weighted(0.4, 1..support::MINUTES),
        any::<bool>(),
    );
    let who = (
        text(support::SERVICES),
        text(support::SYSTEMS),
        numbered("u", support::USERS + 3, 0.25),
        text(support::IDPS),
        prop::option::weighted(
            0.15,
            prop_oneof![Just(TriggerKind::User), Just(TriggerKind::SystemComponent)],
        ),
    );
    let what = (
        text(support::OBJECT_TYPES),
        numbered("ID-", support::OBJECT_IDS, 0.2),
        numbered("p-", support::PROCESSES, 0.15),
        text(support::USE_CASES),
        prop::sample::subsequence(support::event_types(), 0..=3),
    );
    let access = prop_oneof![
        3 => Just(Access::AllSystems),
        2 => prop::sample::subsequence(support::SYSTEMS, 0..=3).prop_map(Access::systems),
    ];
    let page = prop::sample::select(&[7u32, 100, 1_000, 10_000][..]);
    (time, who, what, access, page).prop_map(
        |(
            (from, span, newest),
            (service, system, user_id, idp, kind),
            (ot, oid, pid, uc, types),
            access,
            page,
        )| {
            let from_ts = from.map(|m| support::base() + Duration::minutes(m));
            let until = span.map(|s| from_ts.unwrap_or(support::base()) + Duration::minutes(s));
            let filter = RecordFilter {
                from: from_ts,
                until,
                event_types: types,
                service,
                system,
                user_id,
                identity_provider: idp,
                object_type: ot,
                object_id: oid,
                process_id: pid,
                use_case: uc,
                trigger_kind: kind,
                order: if newest {
                    SortOrder::NewestFirst
                } else {
                    SortOrder::OldestFirst
                },
            };
            (filter, access, page)
        },
    )
}

async fn check(
    store: &AuditStore,
    models: &[Model],
    filter: &RecordFilter,
    access: &Access,
    page: u32,
) -> Result<usize, TestCaseError> {
    let expected = support::brute_force(models, filter, access);
    // bound the number of round trips for the large results
    let page = page
        .max((expected.len() / 8) as u32 + 1)
        .min(audit_store::MAX_PAGE_SIZE);
    let got = support::all_pages(store, filter, access, page).await;
    let hits = expected.len();
    prop_assert_eq!(got.len(), hits, "count for {:?} {:?}", filter, access);
    prop_assert_eq!(got, expected, "records for {:?} {:?}", filter, access);
    Ok(hits)
}

async fn run(store: &AuditStore) {
    let n = env("AUDIT_STORE_RECORDS", 100_000);
    let cases = env("AUDIT_STORE_CASES", 48);
    let started = std::time::Instant::now();
    let models: Arc<Vec<Model>> = support::generated(store, 0x5eed_0001, n).await;
    eprintln!("loaded {n} records in {:?}", started.elapsed());
    assert_eq!(models.len(), n);

    // each filter on its own (within one day of event time, so the results stay small; the
    // random combinations below also use every filter without a time range)
    let day = |f: RecordFilter| RecordFilter {
        from: Some(support::base() + Duration::days(10)),
        until: Some(support::base() + Duration::days(11)),
        ..f
    };
    let d = RecordFilter::default;
    let m = &models[n / 2];
    let singles = [
        RecordFilter {
            from: Some(support::base() + Duration::days(29)),
            ..d()
        },
        RecordFilter {
            until: Some(support::base() + Duration::days(1)),
            ..d()
        },
        day(RecordFilter {
            event_types: vec![m.event_type],
            ..d()
        }),
        day(RecordFilter {
            service: Some(m.service.clone()),
            ..d()
        }),
        day(RecordFilter {
            system: Some(m.system.clone()),
            ..d()
        }),
        RecordFilter {
            user_id: Some("u7".into()),
            ..d()
        },
        day(RecordFilter {
            identity_provider: Some("idp-b".into()),
            ..d()
        }),
        day(RecordFilter {
            object_type: Some("Invoice".into()),
            ..d()
        }),
        RecordFilter {
            object_id: Some("ID-17".into()),
            ..d()
        },
        RecordFilter {
            process_id: Some("p-5".into()),
            ..d()
        },
        day(RecordFilter {
            use_case: Some("refund".into()),
            ..d()
        }),
        day(RecordFilter {
            trigger_kind: Some(TriggerKind::SystemComponent),
            ..d()
        }),
    ];
    for f in &singles {
        let hits = check(store, &models, f, &Access::AllSystems, 1_000)
            .await
            .unwrap();
        assert!(hits > 0, "single filter {f:?} matches something");
    }
    eprintln!("single filters done at {:?}", started.elapsed());
    // export streams the same records as the pages
    let f = RecordFilter {
        system: Some("O'HARA".into()),
        ..RecordFilter::default()
    };
    let exported: Vec<i64> = store
        .export(&f, &Access::AllSystems)
        .map_ok(|r| r.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        exported,
        support::brute_force(&models, &f, &Access::AllSystems)
    );
    assert!(
        exported.len() > 1_000,
        "export spans several internal pages"
    );

    // random combinations (proptest, shrinking on failure)
    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config {
        cases: cases as u32,
        failure_persistence: None,
        ..Config::default()
    });
    let nonempty = std::sync::atomic::AtomicUsize::new(0);
    let result = tokio::task::block_in_place(|| {
        runner.run(&filter(), |(f, access, page)| {
            let hits = handle.block_on(check(store, &models, &f, &access, page))?;
            nonempty.fetch_add(usize::from(hits > 0), std::sync::atomic::Ordering::Relaxed);
            Ok(())
        })
    });
    result.unwrap();
    eprintln!("{cases} random filters done at {:?}", started.elapsed());
    let nonempty = nonempty.into_inner();
    assert!(
        nonempty > cases / 4,
        "the random filters mostly find something ({nonempty} of {cases})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_filters_match_brute_force_over_100k_records() {
    let s = support::postgres().await;
    run(&s.store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_filters_match_brute_force_over_100k_records() {
    let s = support::sqlite().await;
    run(&s.store).await;
}
