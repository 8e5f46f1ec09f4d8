//! Query parameters, their mapping to [`RecordFilter`], and the JSON/CSV views of records.

use audit_consumer::AuditEventType;
use audit_store::{RecordFilter, SortOrder, Source, StoredRecord, StoredTrigger, TriggerKind};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// Longest value of a text parameter.
pub const MAX_PARAM_LEN: usize = 512;

/// The query parameters of `GET /v1/audit/records` and of the export. Every set filter must
/// match; strings compare exactly.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecordParams {
    /// Event time at or after (RFC 3339).
    pub from: Option<String>,
    /// Event time strictly before (RFC 3339).
    pub until: Option<String>,
    /// Event types, comma-separated (`CREATED,READ`).
    pub event_type: Option<String>,
    /// Auditing service.
    pub service: Option<String>,
    /// Auditing system.
    pub system: Option<String>,
    /// Triggering user id.
    pub user_id: Option<String>,
    /// Triggering user's identity provider.
    pub identity_provider: Option<String>,
    /// Audited object type.
    pub object_type: Option<String>,
    /// Audited object id.
    pub object_id: Option<String>,
    /// Process id.
    pub process_id: Option<String>,
    /// Use case.
    pub use_case: Option<String>,
    /// `USER` or `SYSTEM_COMPONENT`.
    pub trigger_kind: Option<String>,
    /// `desc` (newest first, default) or `asc`.
    pub order: Option<String>,
    /// Page size (list only).
    pub limit: Option<String>,
    /// The previous page's `next` (list only).
    pub cursor: Option<String>,
    /// `ndjson` (default) or `csv` (export only).
    pub format: Option<String>,
}

/// A parameter the API refuses (answered 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParam {
    /// The parameter.
    pub name: &'static str,
    /// Why.
    pub reason: String,
}

fn bad(name: &'static str, reason: impl Into<String>) -> BadParam {
    BadParam {
        name,
        reason: reason.into(),
    }
}

/// Refuses overlong values and control characters in a text parameter.
pub fn check_text(name: &'static str, value: &str) -> Result<(), BadParam> {
    if value.len() > MAX_PARAM_LEN {
        return Err(bad(name, format!("longer than {MAX_PARAM_LEN} bytes")));
    }
    if value.chars().any(char::is_control) {
        return Err(bad(name, "contains control characters"));
    }
    Ok(())
}

fn time(name: &'static str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, BadParam> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| bad(name, "not an RFC 3339 timestamp (2026-05-28T08:00:00Z)"))
        })
        .transpose()
}

impl RecordParams {
    /// The store filter these parameters describe.
    ///
    /// # Errors
    /// The first bad parameter (its name and why).
    pub fn filter(&self) -> Result<RecordFilter, BadParam> {
        let texts: [(&'static str, &Option<String>); 16] = [
            ("from", &self.from),
            ("until", &self.until),
            ("eventType", &self.event_type),
            ("service", &self.service),
            ("system", &self.system),
            ("userId", &self.user_id),
            ("identityProvider", &self.identity_provider),
            ("objectType", &self.object_type),
            ("objectId", &self.object_id),
            ("processId", &self.process_id),
            ("useCase", &self.use_case),
            ("triggerKind", &self.trigger_kind),
            ("order", &self.order),
            ("limit", &self.limit),
            ("cursor", &self.cursor),
            ("format", &self.format),
        ];
        for (name, value) in texts {
            if let Some(v) = value {
                check_text(name, v)?;
            }
        }
        let mut event_types = Vec::new();
        if let Some(types) = &self.event_type {
            for symbol in types.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                event_types.push(AuditEventType::from_symbol(symbol).ok_or_else(|| {
                    bad("eventType", "unknown event type (CREATED, READ, LISTED, MODIFIED, DISCLOSED, DESTROYED, DELETED, UNKNOWN)")
                })?);
            }
        }
        let trigger_kind = self
            .trigger_kind
            .as_deref()
            .map(|k| {
                TriggerKind::from_symbol(k)
                    .ok_or_else(|| bad("triggerKind", "must be USER or SYSTEM_COMPONENT"))
            })
            .transpose()?;
        let order = match self.order.as_deref() {
            None | Some("desc") => SortOrder::NewestFirst,
            Some("asc") => SortOrder::OldestFirst,
            Some(_) => return Err(bad("order", "must be asc or desc")),
        };
        Ok(RecordFilter {
            from: time("from", self.from.as_deref())?,
            until: time("until", self.until.as_deref())?,
            event_types,
            service: self.service.clone(),
            system: self.system.clone(),
            user_id: self.user_id.clone(),
            identity_provider: self.identity_provider.clone(),
            object_type: self.object_type.clone(),
            object_id: self.object_id.clone(),
            process_id: self.process_id.clone(),
            use_case: self.use_case.clone(),
            trigger_kind,
            order,
        })
    }

    /// The filter as `name=value` pairs (for the audit record of the read; cursor, limit and
    /// format are not part of it).
    #[must_use]
    pub fn described(&self) -> Vec<(&'static str, String)> {
        let pairs: [(&'static str, &Option<String>); 13] = [
            ("from", &self.from),
            ("until", &self.until),
            ("eventType", &self.event_type),
            ("service", &self.service),
            ("system", &self.system),
            ("userId", &self.user_id),
            ("identityProvider", &self.identity_provider),
            ("objectType", &self.object_type),
            ("objectId", &self.object_id),
            ("processId", &self.process_id),
            ("useCase", &self.use_case),
            ("triggerKind", &self.trigger_kind),
            ("order", &self.order),
        ];
        pairs
            .into_iter()
            .filter_map(|(n, v)| v.as_ref().map(|v| (n, v.clone())))
            .collect()
    }
}

/// One stored record as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordView {
    /// The store's row id.
    pub id: i64,
    /// The message id.
    pub message_id: String,
    /// The idempotence id.
    pub idempotence_id: String,
    /// Event time (RFC 3339).
    pub event_timestamp: String,
    /// When the store received it (RFC 3339).
    pub received: String,
    /// Auditing service.
    pub service: String,
    /// Auditing system.
    pub system: String,
    /// Event type symbol.
    pub event_type: String,
    /// Schema version stored with the record.
    pub schema_version: String,
    /// `KAFKA` or `HTTP`.
    pub source: String,
    /// The whole `AuditRecord` as JSON.
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

impl From<StoredRecord> for RecordView {
    fn from(r: StoredRecord) -> Self {
        Self {
            id: r.id,
            message_id: r.message_id,
            idempotence_id: r.idempotence_id,
            event_timestamp: rfc3339(r.event_timestamp),
            received: rfc3339(r.received),
            service: r.service,
            system: r.system,
            event_type: r.event_type.as_str().to_owned(),
            schema_version: r.schema_version,
            source: match r.source {
                Source::Kafka { .. } => "KAFKA".to_owned(),
                Source::Http { .. } => "HTTP".to_owned(),
            },
            record: r.document,
        }
    }
}

/// One page of records.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PageView {
    /// The records.
    pub records: Vec<RecordView>,
    /// The cursor of the next page, absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The CSV header of the export.
pub const CSV_HEADER: &str = "id,messageId,idempotenceId,eventTimestamp,eventType,service,system,triggerKind,userId,identityProvider,objectType,objectId,processId,useCase,record\r\n";

/// One CSV line (RFC 4180 quoting; a cell starting with `=`, `+`, `-` or `@` is prefixed with
/// `'` so spreadsheets do not run it as a formula).
#[must_use]
pub fn csv_line(r: &StoredRecord) -> String {
    fn cell(out: &mut String, value: &str) {
        let guarded = value.starts_with(['=', '+', '-', '@']);
        if guarded || value.contains([',', '"', '\r', '\n']) {
            out.push('"');
            if guarded {
                out.push('\'');
            }
            out.push_str(&value.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(value);
        }
    }
    let (user, idp) = match &r.trigger {
        StoredTrigger::User {
            id,
            identity_provider,
        } => (id.as_str(), identity_provider.as_str()),
        StoredTrigger::SystemComponent { .. } => ("", ""),
    };
    let document = r.document.to_string();
    let id = r.id.to_string();
    let ts = rfc3339(r.event_timestamp);
    let cells: [&str; 15] = [
        &id,
        &r.message_id,
        &r.idempotence_id,
        &ts,
        r.event_type.as_str(),
        &r.service,
        &r.system,
        r.trigger_kind().as_str(),
        user,
        idp,
        r.object.as_ref().map_or("", |o| o.object_type.as_str()),
        r.object.as_ref().map_or("", |o| o.id.as_str()),
        r.process_id.as_deref().unwrap_or(""),
        r.use_case.as_deref().unwrap_or(""),
        &document,
    ];
    let mut out = String::with_capacity(256 + document.len());
    for (i, value) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        cell(&mut out, value);
    }
    out.push_str("\r\n");
    out
}
