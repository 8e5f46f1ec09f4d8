//! Filters, access scopes, cursors and the SQL they become (values always bound, never in the text).

use std::collections::BTreeSet;

use audit_consumer::AuditEventType;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::record::{StoredRecord, TriggerKind, ceil_micros};

/// The largest page [`query`](crate::AuditStore::query) returns.
pub const MAX_PAGE_SIZE: u32 = 10_000;

/// The sort order on event time (ties broken by the row id in the same direction).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SortOrder {
    /// Newest first (the default).
    #[default]
    NewestFirst,
    /// Oldest first.
    OldestFirst,
}

/// Which records to return: every set field must match (AND); unset fields match everything.
/// String fields compare exactly (no patterns, no case folding).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFilter {
    /// Event time at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Event time strictly before this instant.
    pub until: Option<DateTime<Utc>>,
    /// Any of these event types (empty: all).
    pub event_types: Vec<AuditEventType>,
    /// The auditing service.
    pub service: Option<String>,
    /// The auditing service's system.
    pub system: Option<String>,
    /// The triggering user's id.
    pub user_id: Option<String>,
    /// The triggering user's identity provider.
    pub identity_provider: Option<String>,
    /// The audited object's type.
    pub object_type: Option<String>,
    /// The audited object's id.
    pub object_id: Option<String>,
    /// The process id (the command's, else the context's).
    pub process_id: Option<String>,
    /// The context's use case.
    pub use_case: Option<String>,
    /// User or system-component trigger.
    pub trigger_kind: Option<TriggerKind>,
    /// Sort order (default newest first).
    pub order: SortOrder,
}

/// Whose records a reader may see: enforced in the SQL of every read (list, get, export).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Access {
    /// Every system.
    AllSystems,
    /// Only records whose `system` is one of these (an empty set sees nothing).
    Systems(BTreeSet<String>),
}

impl Access {
    /// Access limited to the given systems.
    pub fn systems<I, S>(systems: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::Systems(systems.into_iter().map(Into::into).collect())
    }

    /// Whether a record of `system` is visible.
    #[must_use]
    pub fn allows(&self, system: &str) -> bool {
        match self {
            Self::AllSystems => true,
            Self::Systems(set) => set.contains(system),
        }
    }
}

/// An opaque position in a query's result: the sort key (event time, id) of the last record
/// returned plus a fingerprint of the filter, sort order and access it belongs to. A cursor
/// only ever moves the start of the same query: presented with another filter or access it is
/// refused ([`Error::CursorMismatch`]), and the access condition is always the caller's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor {
    fingerprint: [u8; 16],
    event_ts_micros: i64,
    id: i64,
}

const CURSOR_VERSION: u8 = 1;
const CURSOR_LEN: usize = 1 + 16 + 8 + 8;

impl Cursor {
    /// The cursor as URL-safe text.
    #[must_use]
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(CURSOR_LEN);
        bytes.push(CURSOR_VERSION);
        bytes.extend_from_slice(&self.fingerprint);
        bytes.extend_from_slice(&self.event_ts_micros.to_be_bytes());
        bytes.extend_from_slice(&self.id.to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Parses a cursor from [`encode`](Self::encode)'s text.
    ///
    /// # Errors
    /// [`Error::InvalidCursor`] when the text is not a cursor.
    pub fn decode(text: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidCursor { reason };
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| invalid("not URL-safe base64"))?;
        let (version, rest) = bytes.split_first().ok_or(invalid("empty"))?;
        if *version != CURSOR_VERSION {
            return Err(invalid("unknown version"));
        }
        let (fingerprint, rest) = rest.split_first_chunk::<16>().ok_or(invalid("too short"))?;
        let (ts, rest) = rest.split_first_chunk::<8>().ok_or(invalid("too short"))?;
        let (id, rest) = rest.split_first_chunk::<8>().ok_or(invalid("too short"))?;
        if !rest.is_empty() {
            return Err(invalid("too long"));
        }
        let event_ts_micros = i64::from_be_bytes(*ts);
        if DateTime::from_timestamp_micros(event_ts_micros).is_none() {
            return Err(invalid("position out of range"));
        }
        Ok(Self {
            fingerprint: *fingerprint,
            event_ts_micros,
            id: i64::from_be_bytes(*id),
        })
    }

    pub(crate) fn after(record: &StoredRecord, fingerprint: [u8; 16]) -> Self {
        Self {
            fingerprint,
            event_ts_micros: record.event_timestamp.timestamp_micros(),
            id: record.id,
        }
    }
}

/// One page of a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The records, in the filter's sort order.
    pub records: Vec<StoredRecord>,
    /// Where the next page starts; `None` when this page is the last one.
    pub next: Option<Cursor>,
}

/// Length-prefixed, tagged canonical bytes of everything that defines a query's result.
pub(crate) fn fingerprint(filter: &RecordFilter, access: &Access) -> [u8; 16] {
    fn field(h: &mut Sha256, tag: u8, value: Option<&str>) {
        h.update([tag]);
        match value {
            None => h.update([0]),
            Some(v) => {
                h.update([1]);
                h.update((v.len() as u64).to_be_bytes());
                h.update(v.as_bytes());
            }
        }
    }
    let mut h = Sha256::new();
    h.update(b"audit-store cursor v1");
    let ts = |t: Option<DateTime<Utc>>| {
        t.map(|t| format!("{}.{:09}", t.timestamp(), t.timestamp_subsec_nanos()))
    };
    field(&mut h, 1, ts(filter.from).as_deref());
    field(&mut h, 2, ts(filter.until).as_deref());
    let mut types: Vec<&str> = filter.event_types.iter().map(|t| t.as_str()).collect();
    types.sort_unstable();
    types.dedup();
    h.update([3]);
    h.update((types.len() as u64).to_be_bytes());
    for t in types {
        field(&mut h, 4, Some(t));
    }
    field(&mut h, 5, filter.service.as_deref());
    field(&mut h, 6, filter.system.as_deref());
    field(&mut h, 7, filter.user_id.as_deref());
    field(&mut h, 8, filter.identity_provider.as_deref());
    field(&mut h, 9, filter.object_type.as_deref());
    field(&mut h, 10, filter.object_id.as_deref());
    field(&mut h, 11, filter.process_id.as_deref());
    field(&mut h, 12, filter.use_case.as_deref());
    field(&mut h, 13, filter.trigger_kind.map(TriggerKind::as_str));
    field(
        &mut h,
        14,
        Some(match filter.order {
            SortOrder::NewestFirst => "desc",
            SortOrder::OldestFirst => "asc",
        }),
    );
    match access {
        Access::AllSystems => h.update([15, 0]),
        Access::Systems(set) => {
            h.update([15, 1]);
            h.update((set.len() as u64).to_be_bytes());
            for s in set {
                field(&mut h, 16, Some(s));
            }
        }
    }
    let digest = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(digest.get(..16).unwrap_or(&[0u8; 16]));
    out
}

/// The SQL dialect of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Postgres,
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Sqlite,
}

/// A bound value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Param {
    Text(String),
    /// Microseconds since the epoch (a `timestamptz` on PostgreSQL, an integer on SQLite).
    Micros(i64),
    Int(i64),
    /// PostgreSQL only (`= ANY($n)`); SQLite statements expand lists into `IN (?, ...)`.
    TextList(Vec<String>),
}

/// A statement under construction: the text only ever grows by `&'static str` fragments and
/// placeholders; every value goes to `params`.
#[derive(Debug)]
pub(crate) struct Sql {
    dialect: Dialect,
    text: String,
    params: Vec<Param>,
}

impl Sql {
    pub(crate) fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            text: String::with_capacity(512),
            params: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, fragment: &'static str) {
        self.text.push_str(fragment);
    }

    pub(crate) fn bind(&mut self, param: Param) {
        self.params.push(param);
        match self.dialect {
            Dialect::Postgres => {
                self.text.push('$');
                self.text.push_str(&self.params.len().to_string());
            }
            Dialect::Sqlite => self.text.push('?'),
        }
    }

    /// `column IN (values)`: `= ANY($n)` on PostgreSQL (one statement shape for any count),
    /// `IN (?, ?, ...)` on SQLite. An empty list matches nothing.
    pub(crate) fn bind_in(&mut self, column: &'static str, values: Vec<String>) {
        if values.is_empty() {
            self.push("1 = 0");
            return;
        }
        self.push(column);
        match self.dialect {
            Dialect::Postgres => {
                self.push(" = ANY(");
                self.bind(Param::TextList(values));
                self.push(")");
            }
            Dialect::Sqlite => {
                self.push(" IN (");
                for (i, v) in values.into_iter().enumerate() {
                    if i > 0 {
                        self.push(", ");
                    }
                    self.bind(Param::Text(v));
                }
                self.push(")");
            }
        }
    }

    /// Appends another statement of the same dialect (its placeholders are renumbered only
    /// when this one has none yet: used to prefix `EXPLAIN`).
    pub(crate) fn append(&mut self, other: Sql) {
        debug_assert!(self.params.is_empty());
        self.text.push_str(&other.text);
        self.params.extend(other.params);
    }

    pub(crate) fn into_parts(self) -> (String, Vec<Param>) {
        (self.text, self.params)
    }
}

/// Appends ` WHERE <access> AND <filter> [AND <after cursor>]`.
pub(crate) fn push_where(
    sql: &mut Sql,
    filter: &RecordFilter,
    access: &Access,
    after: Option<(i64, i64)>,
) -> Result<()> {
    sql.push(" WHERE ");
    push_access(sql, access);
    if let Some(from) = filter.from {
        sql.push(" AND event_ts >= ");
        sql.bind(Param::Micros(ceil_micros(from, "filter.from")?));
    }
    if let Some(until) = filter.until {
        sql.push(" AND event_ts < ");
        sql.bind(Param::Micros(ceil_micros(until, "filter.until")?));
    }
    if !filter.event_types.is_empty() {
        sql.push(" AND ");
        let mut types: Vec<String> = filter
            .event_types
            .iter()
            .map(|t| t.as_str().to_owned())
            .collect();
        types.sort_unstable();
        types.dedup();
        sql.bind_in("event_type", types);
    }
    let equals: [(&'static str, Option<&str>); 9] = [
        (" AND service = ", filter.service.as_deref()),
        (" AND system = ", filter.system.as_deref()),
        (" AND user_id = ", filter.user_id.as_deref()),
        (
            " AND identity_provider = ",
            filter.identity_provider.as_deref(),
        ),
        (" AND object_type = ", filter.object_type.as_deref()),
        (" AND object_id = ", filter.object_id.as_deref()),
        (" AND process_id = ", filter.process_id.as_deref()),
        (" AND use_case = ", filter.use_case.as_deref()),
        (
            " AND trigger_kind = ",
            filter.trigger_kind.map(TriggerKind::as_str),
        ),
    ];
    for (fragment, value) in equals {
        if let Some(value) = value {
            sql.push(fragment);
            sql.bind(Param::Text(value.to_owned()));
        }
    }
    if let Some((ts, id)) = after {
        match filter.order {
            SortOrder::NewestFirst => sql.push(" AND (event_ts, id) < ("),
            SortOrder::OldestFirst => sql.push(" AND (event_ts, id) > ("),
        }
        sql.bind(Param::Micros(ts));
        sql.push(", ");
        sql.bind(Param::Int(id));
        sql.push(")");
    }
    Ok(())
}

pub(crate) fn push_access(sql: &mut Sql, access: &Access) {
    match access {
        Access::AllSystems => sql.push("1 = 1"),
        Access::Systems(set) => sql.bind_in("system", set.iter().cloned().collect()),
    }
}

/// The page query: `SELECT <columns> FROM audit_record WHERE ... ORDER BY ... LIMIT n`.
pub(crate) fn page_sql(
    dialect: Dialect,
    columns: &'static str,
    filter: &RecordFilter,
    access: &Access,
    cursor: Option<&Cursor>,
    limit: u32,
) -> Result<Sql> {
    if limit == 0 || limit > MAX_PAGE_SIZE {
        return Err(Error::InvalidPageSize {
            size: limit,
            max: MAX_PAGE_SIZE,
        });
    }
    let after = match cursor {
        None => None,
        Some(c) => {
            if c.fingerprint != fingerprint(filter, access) {
                return Err(Error::CursorMismatch);
            }
            Some((c.event_ts_micros, c.id))
        }
    };
    let mut sql = Sql::new(dialect);
    sql.push("SELECT ");
    sql.push(columns);
    sql.push(" FROM audit_record");
    push_where(&mut sql, filter, access, after)?;
    match filter.order {
        SortOrder::NewestFirst => sql.push(" ORDER BY event_ts DESC, id DESC LIMIT "),
        SortOrder::OldestFirst => sql.push(" ORDER BY event_ts ASC, id ASC LIMIT "),
    }
    // one more than asked: tells whether a next page exists
    sql.bind(Param::Int(i64::from(limit) + 1));
    Ok(sql)
}

/// Cuts the extra row off and computes the next cursor.
pub(crate) fn into_page(
    mut records: Vec<StoredRecord>,
    limit: u32,
    filter: &RecordFilter,
    access: &Access,
) -> Page {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = records.len() > limit;
    records.truncate(limit);
    let next = if more {
        records
            .last()
            .map(|last| Cursor::after(last, fingerprint(filter, access)))
    } else {
        None
    };
    Page { records, next }
}
