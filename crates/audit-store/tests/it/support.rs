//! Stores on both backends, a deterministic record generator and the brute-force filter.

use std::sync::Arc;

use audit_builder::{AuditCommandBuilder, AuditEventType, AuditedObject};
use audit_consumer::{AuditRecord, Trigger};
use audit_store::{
    Access, AuditStore, IncomingRecord, RecordFilter, SortOrder, Source, TriggerKind, WriteOutcome,
};
use audit_testkit::PgDatabase;
use chrono::{DateTime, Duration, TimeZone, Utc};

/// A store and what keeps its database alive.
pub struct TestStore {
    pub store: AuditStore,
    pub name: &'static str,
    _keep: Keep,
}

#[allow(dead_code)]
enum Keep {
    Pg(PgDatabase),
    Dir(tempfile::TempDir),
}

pub async fn postgres() -> TestStore {
    let db = PgDatabase::create()
        .await
        .expect("PostgreSQL test database");
    let store = AuditStore::connect(db.url()).await.unwrap();
    store.migrate().await.unwrap();
    TestStore {
        store,
        name: "postgres",
        _keep: Keep::Pg(db),
    }
}

pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("audit.db").display());
    let store = AuditStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    TestStore {
        store,
        name: "sqlite",
        _keep: Keep::Dir(dir),
    }
}

/// Both backends, for tests that run the same checks on each.
pub async fn both() -> [TestStore; 2] {
    [postgres().await, sqlite().await]
}

/// xorshift64: deterministic data from a seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

pub const SERVICES: &[&str] = &[
    "invoice-service",
    "payment-service",
    "ledger",
    "portal",
    "batch",
];
pub const SYSTEMS: &[&str] = &["BILLING", "PAYMENT", "LEDGER", "PORTAL", "HR", "O'HARA"];
pub const OBJECT_TYPES: &[&str] = &["Invoice", "Payment", "Customer", "Contract", "Document"];
pub const USE_CASES: &[&str] = &["pay", "refund", "view", "export", "close", "open", "merge"];
pub const IDPS: &[&str] = &["idp-a", "idp-b", "idp-c"];
pub const USERS: usize = 300;
pub const OBJECT_IDS: usize = 3_000;
pub const PROCESSES: usize = 800;
/// Event times: whole minutes (many ties) over 30 days, some with milliseconds.
pub const MINUTES: i64 = 30 * 24 * 60;

pub fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

pub fn event_types() -> Vec<AuditEventType> {
    AuditEventType::SYMBOLS
        .iter()
        .map(|s| AuditEventType::from_symbol(s).unwrap())
        .collect()
}

/// Record `i` of the data set seeded by `rng`: unique idempotence id `{prefix}-{i}`.
pub fn record(rng: &mut Rng, prefix: &str, i: usize) -> IncomingRecord {
    let mut ts = base() + Duration::minutes(rng.below(MINUTES as usize) as i64);
    if rng.chance(30) {
        ts += Duration::milliseconds(rng.below(60_000) as i64);
    }
    record_at(rng, prefix, i, ts)
}

/// Record `i` with event time `ts`.
pub fn record_at(rng: &mut Rng, prefix: &str, i: usize, ts: DateTime<Utc>) -> IncomingRecord {
    let types = event_types();
    let mut b = AuditCommandBuilder::new(rng.pick(SERVICES), rng.pick(SYSTEMS), ts)
        .event_type(types[rng.below(types.len())])
        .idempotence_id(format!("{prefix}-{i}"));
    b = if rng.chance(75) {
        b.user(format!("u{}", rng.below(USERS)), rng.pick(IDPS))
    } else {
        b.system_component("dept", rng.pick(SYSTEMS), "component")
    };
    match rng.below(4) {
        0 => {}
        1 => b = b.context(rng.pick(USE_CASES)),
        2 => {
            b = b.context_with_process_id(
                rng.pick(USE_CASES),
                format!("p-{}", rng.below(PROCESSES)),
            );
        }
        _ => b = b.process_id(format!("p-{}", rng.below(PROCESSES))),
    }
    if rng.chance(85) {
        let mut object = AuditedObject::new(
            rng.pick(OBJECT_TYPES),
            format!("ID-{}", rng.below(OBJECT_IDS)),
        );
        if rng.chance(50) {
            object = object.version(format!("{}", rng.below(5)));
        }
        b = b.audited_object(object.value("status", "PAID"));
    }
    let record = AuditRecord::from(b.build().unwrap());
    let source = if rng.chance(80) {
        Source::Kafka {
            topic: "audit".into(),
            partition: rng.below(12) as i32,
            offset: i as i64,
        }
    } else {
        Source::Http {
            client: format!("client-{}", rng.below(10)),
        }
    };
    IncomingRecord::new(record, source)
}

/// What the brute force knows of a stored record: computed from the `AuditRecord`'s getters,
/// independently of the store's column mapping.
#[derive(Debug, Clone)]
pub struct Model {
    pub id: i64,
    pub message_id: String,
    pub ts: DateTime<Utc>,
    pub event_type: AuditEventType,
    pub service: String,
    pub system: String,
    pub user_id: Option<String>,
    pub identity_provider: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub process_id: Option<String>,
    pub use_case: Option<String>,
    pub trigger_kind: TriggerKind,
}

impl Model {
    pub fn of(id: i64, incoming: &IncomingRecord) -> Self {
        let r = incoming.record();
        let (user_id, idp, kind) = match r.trigger() {
            Trigger::User(u) => (
                Some(u.id().to_owned()),
                Some(u.identity_provider().to_owned()),
                TriggerKind::User,
            ),
            Trigger::SystemComponent(_) => (None, None, TriggerKind::SystemComponent),
        };
        let context = r.event().context();
        Self {
            id,
            message_id: r.metadata().message_id().to_owned(),
            ts: r.timestamp(),
            event_type: r.event().event_type(),
            service: r.service_name().to_owned(),
            system: r.system_name().to_owned(),
            user_id,
            identity_provider: idp,
            object_type: r.audited_object().map(|o| o.object_type().to_owned()),
            object_id: r.audited_object().map(|o| o.id().to_owned()),
            process_id: r
                .metadata()
                .process_id()
                .or_else(|| context.and_then(|c| c.process_id()))
                .map(str::to_owned),
            use_case: context.map(|c| c.use_case().to_owned()),
            trigger_kind: kind,
        }
    }

    pub fn matches(&self, f: &RecordFilter, access: &Access) -> bool {
        fn eq(want: Option<&String>, have: Option<&String>) -> bool {
            want.is_none_or(|w| have == Some(w))
        }
        access.allows(&self.system)
            && f.from.is_none_or(|from| self.ts >= from)
            && f.until.is_none_or(|until| self.ts < until)
            && (f.event_types.is_empty() || f.event_types.contains(&self.event_type))
            && eq(f.service.as_ref(), Some(&self.service))
            && eq(f.system.as_ref(), Some(&self.system))
            && eq(f.user_id.as_ref(), self.user_id.as_ref())
            && eq(
                f.identity_provider.as_ref(),
                self.identity_provider.as_ref(),
            )
            && eq(f.object_type.as_ref(), self.object_type.as_ref())
            && eq(f.object_id.as_ref(), self.object_id.as_ref())
            && eq(f.process_id.as_ref(), self.process_id.as_ref())
            && eq(f.use_case.as_ref(), self.use_case.as_ref())
            && f.trigger_kind.is_none_or(|k| k == self.trigger_kind)
    }
}

/// The ids of the matching records in the filter's order (event time, then id).
pub fn brute_force(models: &[Model], f: &RecordFilter, access: &Access) -> Vec<i64> {
    let mut hits: Vec<&Model> = models.iter().filter(|m| m.matches(f, access)).collect();
    hits.sort_by_key(|m| (m.ts, m.id));
    if f.order == SortOrder::NewestFirst {
        hits.reverse();
    }
    hits.into_iter().map(|m| m.id).collect()
}

/// Writes `records` in batches; returns the models of the stored ones.
pub async fn load(store: &AuditStore, records: &[IncomingRecord], batch: usize) -> Vec<Model> {
    let mut models = Vec::with_capacity(records.len());
    for chunk in records.chunks(batch) {
        let outcomes = store.write_batch(chunk).await.unwrap();
        for (outcome, r) in outcomes.iter().zip(chunk) {
            match outcome {
                WriteOutcome::Stored { id } => models.push(Model::of(*id, r)),
                WriteOutcome::Duplicate => panic!("generated records are unique"),
            }
        }
    }
    models
}

/// Generates and loads `n` records seeded by `seed`.
pub async fn generated(store: &AuditStore, seed: u64, n: usize) -> Arc<Vec<Model>> {
    let mut rng = Rng(seed);
    let mut models = Vec::with_capacity(n);
    let mut start = 0;
    while start < n {
        let end = (start + 2_000).min(n);
        let records: Vec<_> = (start..end).map(|i| record(&mut rng, "gen", i)).collect();
        models.extend(load(store, &records, 1_000).await);
        start = end;
    }
    Arc::new(models)
}

/// Every page of a query, concatenated (ids).
pub async fn all_pages(
    store: &AuditStore,
    filter: &RecordFilter,
    access: &Access,
    page: u32,
) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut cursor = None;
    loop {
        let p = store
            .query(filter, access, cursor.as_ref(), page)
            .await
            .unwrap();
        assert!(p.records.len() <= page as usize);
        ids.extend(p.records.iter().map(|r| r.id));
        match p.next {
            Some(next) => cursor = Some(next),
            None => return ids,
        }
    }
}
