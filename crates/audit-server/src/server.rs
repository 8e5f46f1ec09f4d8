//! [`AuditServer`]: the router, its handlers and the background tasks.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use audit_builder::{AuditCommandBuilder, AuditEventType, AuditedObject};
use audit_consumer::AuditRecord;
use audit_store::{AuditStore, Cursor, IncomingRecord, Source, WriteOutcome};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use futures::StreamExt as _;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::auth::{AuthFailure, Authenticator, Principal, Scope};
use crate::config::Config;
use crate::error::Error;
use crate::ingest::{Ingestor, Rejection, parse_item};
use crate::kafka::{KafkaMonitor, KafkaStatus};
use crate::query::{
    BadParam, CSV_HEADER, PageView, RecordParams, RecordView, check_text, csv_line,
};

/// The shared state of the handlers.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    store: AuditStore,
    auth: Authenticator,
    ingestor: Ingestor,
    metrics: PrometheusHandle,
    kafka: Option<KafkaMonitor>,
}

/// The audit service: build it with [`AuditServer::new`], run it with [`AuditServer::serve`].
#[derive(Debug)]
pub struct AuditServer {
    state: AppState,
    writer: JoinHandle<()>,
    retention: Option<JoinHandle<()>>,
    #[cfg(feature = "kafka")]
    kafka: Option<crate::kafka::KafkaIngest>,
}

static METRICS: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// The process-wide Prometheus recorder (installed on first use).
fn metrics_handle() -> Result<PrometheusHandle, Error> {
    METRICS
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets(&[
                    0.000_5, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
                ])
                .map_err(|e| e.to_string())?
                .install_recorder()
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(Error::Metrics)
}

impl AuditServer {
    /// Opens (and migrates) the configured store, loads the JWT keys, installs the Prometheus
    /// recorder and starts the writer task (and the retention task when a retention is set).
    /// With a [`kafka`](Config::kafka) section it also creates the Kafka consumer and starts
    /// consuming right away (see [`kafka`](Self::kafka)); records are stored even before
    /// [`serve`](Self::serve) is called. Dropping the server without serving stops the consumer.
    ///
    /// # Errors
    /// A configuration variant of [`Error`] ([`Error::Invalid`], [`Error::Key`], ...),
    /// [`Error::Store`], [`Error::Metrics`], [`Error::Kafka`].
    pub async fn new(config: Config) -> Result<Self, Error> {
        config.validate()?;
        let store = AuditStore::connect(&config.store_url).await?;
        Self::with_store(config, store).await
    }

    /// As [`new`](Self::new) with an already connected store (migrated here).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub async fn with_store(config: Config, store: AuditStore) -> Result<Self, Error> {
        config.validate()?;
        store.migrate().await?;
        let auth = Authenticator::new(&config.auth)?;
        let metrics = metrics_handle()?;
        let (ingestor, writer) = Ingestor::start(
            store.clone(),
            config.ingest.queue_capacity,
            config.ingest.writer_batch,
            config.ingest.writers,
        );
        #[cfg(feature = "kafka")]
        let kafka = match &config.kafka {
            Some(k) => Some(crate::kafka::KafkaIngest::start(
                k,
                &config.service_name,
                ingestor.clone(),
            )?),
            None => None,
        };
        #[cfg(feature = "kafka")]
        let monitor = kafka.as_ref().map(|k| k.monitor.clone());
        #[cfg(not(feature = "kafka"))]
        let monitor = None;
        let retention = config.retention.days.map(|days| {
            tokio::spawn(retention_task(
                store.clone(),
                days,
                Duration::from_secs(config.retention.interval_secs),
                config.retention.page_size,
            ))
        });
        Ok(Self {
            state: AppState {
                inner: Arc::new(Inner {
                    config,
                    store,
                    auth,
                    ingestor,
                    metrics,
                    kafka: monitor,
                }),
            },
            writer,
            retention,
            #[cfg(feature = "kafka")]
            kafka,
        })
    }

    /// The store the server writes to.
    #[must_use]
    pub fn store(&self) -> &AuditStore {
        &self.state.inner.store
    }

    /// The Kafka ingestion's monitor when a [`kafka`](Config::kafka) section is configured:
    /// [`KafkaMonitor::status`] (ingested, duplicates, lag), [`KafkaMonitor::ready`]. A clone
    /// stays usable after the server moved into [`serve`](Self::serve).
    #[must_use]
    pub fn kafka(&self) -> Option<KafkaMonitor> {
        self.state.inner.kafka.clone()
    }

    /// The HTTP router (every route of [`route_table`]).
    pub fn router(&self) -> Router {
        router(self.state.clone())
    }

    /// Serves on `listener` until SIGINT or SIGTERM, then shuts down gracefully (see
    /// [`serve_with_shutdown`](Self::serve_with_shutdown)).
    ///
    /// # Errors
    /// [`Error::Io`].
    pub async fn serve(self, listener: TcpListener) -> Result<(), Error> {
        self.serve_with_shutdown(listener, shutdown_signal()).await
    }

    /// Serves on `listener` until `signal` completes; then stops accepting, lets running
    /// requests finish, stops the Kafka consumer (its records in flight are stored, then their
    /// offsets committed) and waits until every queued record is written.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub async fn serve_with_shutdown(
        self,
        listener: TcpListener,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let Self {
            state,
            writer,
            retention,
            #[cfg(feature = "kafka")]
            kafka,
        } = self;
        let app = router(state);
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(signal)
            .await;
        // stopped (or failed) serving: the consumer stops too, before the writer drains
        #[cfg(feature = "kafka")]
        if let Some(kafka) = kafka {
            kafka.shutdown().await;
        }
        served?;
        if let Some(task) = retention {
            task.abort();
        }
        // every sender is gone with the router: the writer drains the queue and ends
        if tokio::time::timeout(Duration::from_secs(30), writer)
            .await
            .is_err()
        {
            tracing::warn!("the ingestion queue was not drained within 30 s of shutdown");
        }
        tracing::info!("audit server stopped");
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received");
}

async fn retention_task(store: AuditStore, days: u32, every: Duration, page: u32) {
    let mut interval = tokio::time::interval(every);
    loop {
        interval.tick().await;
        let cutoff = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
        match store.delete_older_than(cutoff, page).await {
            Ok(report) => {
                metrics::counter!("audit_server_retention_deleted_total").increment(report.deleted);
                metrics::counter!("audit_server_retention_runs_total").increment(1);
                tracing::info!(
                    cutoff = %report.cutoff,
                    deleted = report.deleted,
                    pages = report.pages,
                    "retention run"
                );
            }
            Err(e) => {
                metrics::counter!("audit_server_retention_failures_total").increment(1);
                tracing::warn!(error = %e, "retention run failed");
            }
        }
    }
}

/// One route: method, path (OpenAPI syntax, which axum shares) and handler.
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// The path.
    pub path: &'static str,
    handler: MethodRouter<AppState>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// Every route the server serves; [`AuditServer::router`] is built from exactly this table.
#[must_use]
pub fn route_table(max_body_bytes: usize) -> Vec<Route> {
    let r = |method: Method, path, handler: MethodRouter<AppState>| Route {
        method,
        path,
        handler,
    };
    let f = |m: &Method| MethodFilter::try_from(m.clone()).unwrap_or(MethodFilter::GET);
    let get = Method::GET;
    vec![
        r(get.clone(), "/healthz", on(f(&get), healthz)),
        r(get.clone(), "/readyz", on(f(&get), readyz)),
        r(get.clone(), "/metrics", on(f(&get), metrics_endpoint)),
        r(get.clone(), "/openapi.json", on(f(&get), openapi)),
        r(get.clone(), "/v1/audit/status", on(f(&get), status)),
        r(get.clone(), "/v1/audit/records", on(f(&get), list_records)),
        r(
            Method::POST,
            "/v1/audit/records",
            on(MethodFilter::POST, ingest).layer(DefaultBodyLimit::max(max_body_bytes)),
        ),
        r(get.clone(), "/v1/audit/records/export", on(f(&get), export)),
        r(
            get.clone(),
            "/v1/audit/records/{messageId}",
            on(f(&get), get_record),
        ),
    ]
}

fn router(state: AppState) -> Router {
    let mut app: Router<AppState> = Router::new();
    for route in route_table(state.inner.config.ingest.max_body_bytes) {
        app = app.route(route.path, route.handler);
    }
    app.fallback(|| async {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_route",
            "no such route".to_owned(),
        )
    })
    .with_state(state)
}

/// An error answer: `{"error": code, "message": text}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    /// A stable code (`unauthorized`, `forbidden`, `bad_request`, ...).
    error: &'static str,
    /// A human-readable message.
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: String) -> Self {
        Self {
            status,
            code,
            message,
            retry_after: None,
        }
    }

    fn bad_request(message: String) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    fn unavailable(message: &str, retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                message.to_owned(),
            )
        }
    }

    fn from_store(e: &audit_store::Error) -> Self {
        match e {
            audit_store::Error::InvalidCursor { .. }
            | audit_store::Error::CursorMismatch
            | audit_store::Error::InvalidPageSize { .. }
            | audit_store::Error::TimestampOutOfRange { .. } => Self::bad_request(e.to_string()),
            _ => {
                tracing::warn!(error = %e, "store operation failed");
                Self::unavailable("the audit store is unavailable", 1)
            }
        }
    }
}

impl From<BadParam> for ApiError {
    fn from(p: BadParam) -> Self {
        Self::bad_request(format!("invalid parameter {}: {}", p.name, p.reason))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            axum::Json(ErrorBody {
                error: self.code,
                message: self.message,
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The authenticated caller of a request.
#[derive(Debug)]
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        state
            .inner
            .auth
            .authenticate(header)
            .map(Caller)
            .map_err(|failure| {
                let reason = match failure {
                    AuthFailure::Missing => "missing",
                    AuthFailure::Invalid => "invalid",
                    AuthFailure::Expired => "expired",
                    AuthFailure::WrongAudience => "audience",
                    AuthFailure::WrongIssuer => "issuer",
                    AuthFailure::BadSystemsClaim => "systems_claim",
                };
                metrics::counter!("audit_server_auth_failures_total", "reason" => reason)
                    .increment(1);
                tracing::debug!(reason, path = %parts.uri.path(), "request not authenticated");
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    failure.reason().to_owned(),
                )
            })
    }
}

impl Caller {
    fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.0.has(scope) {
            Ok(())
        } else {
            metrics::counter!("audit_server_forbidden_total", "scope" => scope.as_str())
                .increment(1);
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("the token lacks the scope {}", scope.as_str()),
            ))
        }
    }
}

/// `{"status": ...}`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// `ok`, `ready` or `unready`.
    status: &'static str,
    /// Why unready.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is up", body = Health)))]
pub(crate) async fn healthz() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok",
        reason: None,
    })
}

/// Readiness: the database answers within the configured timeout and, with Kafka ingestion,
/// the consumer runs and has at least one partition assigned.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "Ready", body = Health),
    (status = 503, description = "The database is unreachable or the Kafka consumer is not assigned", body = Health)))]
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    let timeout = Duration::from_secs(state.inner.config.ready_timeout_secs);
    let db = matches!(
        tokio::time::timeout(timeout, state.inner.store.ping()).await,
        Ok(Ok(()))
    );
    let reason = if db {
        state.inner.kafka.as_ref().and_then(|k| k.ready().err())
    } else {
        Some("database unreachable")
    };
    let ok = reason.is_none();
    metrics::gauge!("audit_server_ready").set(if ok { 1.0 } else { 0.0 });
    if ok {
        axum::Json(Health {
            status: "ready",
            reason: None,
        })
        .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(Health {
                status: "unready",
                reason,
            }),
        )
            .into_response()
    }
}

/// Prometheus metrics (text exposition format). Scope `audit:admin`.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(("bearer" = [])), responses(
    (status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn metrics_endpoint(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(Scope::Admin)?;
    state.inner.metrics.run_upkeep();
    let text = state.inner.metrics.render();
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        text,
    )
        .into_response())
}

/// The OpenAPI document of this API. Any valid token.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", security(("bearer" = [])), responses(
    (status = 200, description = "OpenAPI 3.1 document", body = Object),
    (status = 401, body = ErrorBody)))]
pub(crate) async fn openapi(_caller: Caller) -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(crate::openapi::document())
}

/// Store counts and the ingestion queue.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Status {
    /// Stored records.
    records: u64,
    /// When the last record was received (RFC 3339), absent for an empty store.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_ingested: Option<String>,
    /// Records queued or being written.
    queue_in_use: usize,
    /// The queue's capacity in records.
    queue_capacity: usize,
    /// The retention in days, absent when records are kept forever.
    #[serde(skip_serializing_if = "Option::is_none")]
    retention_days: Option<u32>,
    /// Kafka ingestion (absent when not configured): ingested, duplicates, committed offsets
    /// and lag per partition.
    #[serde(skip_serializing_if = "Option::is_none")]
    kafka: Option<KafkaStatus>,
}

/// Counts, last ingestion and queue fill. Scope `audit:admin`.
#[utoipa::path(get, path = "/v1/audit/status", tag = "operations", security(("bearer" = [])), responses(
    (status = 200, body = Status), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 503, body = ErrorBody)))]
pub(crate) async fn status(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Status>, ApiError> {
    caller.require(Scope::Admin)?;
    let stats = state
        .inner
        .store
        .stats()
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    Ok(axum::Json(Status {
        records: stats.records,
        last_ingested: stats
            .last_received
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        queue_in_use: state.inner.ingestor.in_use(),
        queue_capacity: state.inner.ingestor.capacity(),
        retention_days: state.inner.config.retention.days,
        kafka: state.inner.kafka.as_ref().map(|k| {
            let status = k.status();
            metrics::gauge!("audit_server_kafka_assigned_partitions").set(f64::from(
                u32::try_from(status.assigned_partitions).unwrap_or(u32::MAX),
            ));
            status
        }),
    }))
}

fn query_params(
    params: Result<Query<RecordParams>, QueryRejection>,
) -> Result<RecordParams, ApiError> {
    params
        .map(|Query(p)| p)
        .map_err(|e| ApiError::bad_request(format!("invalid query: {}", e.body_text())))
}

/// Stores the READ/LISTED record of a read of the trail (who, which filter) before the
/// answer leaves: a read that cannot be audited is not answered.
async fn audit_read(
    state: &AppState,
    caller: &Principal,
    event_type: AuditEventType,
    endpoint: &'static str,
    filter: Vec<(&'static str, String)>,
    message_id: Option<&str>,
    returned: Option<usize>,
) -> Result<(), ApiError> {
    let config = &state.inner.config;
    let subject = if caller.subject.trim().is_empty() {
        "<no subject>"
    } else {
        &caller.subject
    };
    let issuer = if caller.issuer.trim().is_empty() {
        "<no issuer>"
    } else {
        &caller.issuer
    };
    let mut builder = AuditCommandBuilder::new(
        config.service_name.as_str(),
        config.system_name.as_str(),
        chrono::Utc::now(),
    )
    .event_type(event_type)
    .user(subject, issuer)
    .context("audit-trail-read")
    .idempotence_id(uuid::Uuid::new_v4().to_string())
    .event_data("endpoint", endpoint);
    match &caller.access {
        audit_store::Access::AllSystems => builder = builder.event_data("access", "*"),
        audit_store::Access::Systems(set) => {
            builder =
                builder.event_data("access", set.iter().cloned().collect::<Vec<_>>().join(","));
        }
    }
    for (name, value) in filter {
        builder = builder.event_data(format!("filter.{name}"), value);
    }
    if let Some(n) = returned {
        builder = builder.event_data("returned", n.to_string());
    }
    if let Some(id) = message_id {
        builder = builder.audited_object(AuditedObject::new("AuditRecord", id));
    }
    let command = builder.build().map_err(|e| {
        tracing::warn!(error = %e, "cannot build the audit record of a read");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "cannot audit this read".to_owned(),
        )
    })?;
    let record = IncomingRecord::new(
        AuditRecord::from(command),
        Source::Http {
            client: config.service_name.clone(),
        },
    );
    state
        .inner
        .store
        .write_batch(std::slice::from_ref(&record))
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    metrics::counter!("audit_server_reads_audited_total").increment(1);
    Ok(())
}

/// Lists records: filters, newest first by default, keyset pagination. Scope `audit:read`;
/// a reader limited to some systems sees only theirs. Each call is stored as a `LISTED` record.
#[utoipa::path(get, path = "/v1/audit/records", tag = "records", params(RecordParams),
    security(("bearer" = [])), responses(
    (status = 200, body = PageView), (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn list_records(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<RecordParams>, QueryRejection>,
) -> Result<axum::Json<PageView>, ApiError> {
    caller.require(Scope::Read)?;
    let params = query_params(params)?;
    if params.format.is_some() {
        return Err(ApiError::bad_request(
            "invalid parameter format: only for /v1/audit/records/export".to_owned(),
        ));
    }
    let filter = params.filter()?;
    let q = &state.inner.config.query;
    let limit = match params.limit.as_deref() {
        None => q.default_limit,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=q.max_limit).contains(l))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "invalid parameter limit: must be a whole number between 1 and {}",
                    q.max_limit
                ))
            })?,
    };
    let cursor = params
        .cursor
        .as_deref()
        .map(Cursor::decode)
        .transpose()
        .map_err(|e| ApiError::from_store(&e))?;
    let started = Instant::now();
    let page = state
        .inner
        .store
        .query(&filter, &caller.0.access, cursor.as_ref(), limit)
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    metrics::histogram!("audit_server_query_duration_seconds", "endpoint" => "list")
        .record(started.elapsed());
    audit_read(
        &state,
        &caller.0,
        AuditEventType::Listed,
        "list",
        params.described(),
        None,
        Some(page.records.len()),
    )
    .await?;
    Ok(axum::Json(PageView {
        next: page.next.map(|c| c.encode()),
        records: page.records.into_iter().map(RecordView::from).collect(),
    }))
}

/// One record by message id (404 also when it belongs to a system the reader may not see).
/// Scope `audit:read`. Each call is stored as a `READ` record.
#[utoipa::path(get, path = "/v1/audit/records/{messageId}", tag = "records",
    params(("messageId" = String, Path, description = "The record's message id")),
    security(("bearer" = [])), responses(
    (status = 200, body = RecordView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn get_record(
    State(state): State<AppState>,
    caller: Caller,
    Path(message_id): Path<String>,
) -> Result<axum::Json<RecordView>, ApiError> {
    caller.require(Scope::Read)?;
    check_text("messageId", &message_id)?;
    let started = Instant::now();
    let found = state
        .inner
        .store
        .get(&message_id, &caller.0.access)
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    metrics::histogram!("audit_server_query_duration_seconds", "endpoint" => "get")
        .record(started.elapsed());
    audit_read(
        &state,
        &caller.0,
        AuditEventType::Read,
        "get",
        Vec::new(),
        Some(&message_id),
        Some(usize::from(found.is_some())),
    )
    .await?;
    found
        .map(|r| axum::Json(RecordView::from(r)))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such record".to_owned(),
            )
        })
}

/// Streams every matching record as NDJSON (one record view per line) or CSV, read from the
/// store in bounded pages. Scope `audit:read`. Each call is stored as a `LISTED` record.
#[utoipa::path(get, path = "/v1/audit/records/export", tag = "records", params(RecordParams),
    security(("bearer" = [])), responses(
    (status = 200, description = "NDJSON or CSV stream", body = String, content_type = "application/x-ndjson"),
    (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn export(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<RecordParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    let params = query_params(params)?;
    if params.cursor.is_some() || params.limit.is_some() {
        return Err(ApiError::bad_request(
            "invalid parameter cursor/limit: the export returns the whole result".to_owned(),
        ));
    }
    let csv = match params.format.as_deref() {
        None | Some("ndjson") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid parameter format: must be ndjson or csv".to_owned(),
            ));
        }
    };
    let filter = params.filter()?;
    let mut described = params.described();
    described.push(("format", if csv { "csv" } else { "ndjson" }.to_owned()));
    audit_read(
        &state,
        &caller.0,
        AuditEventType::Listed,
        "export",
        described,
        None,
        None,
    )
    .await?;
    metrics::counter!("audit_server_exports_total").increment(1);
    let records = state.inner.store.export(&filter, &caller.0.access);
    let lines = records.map(move |item| match item {
        Ok(record) => {
            if csv {
                Ok(Bytes::from(csv_line(&record)))
            } else {
                let mut line =
                    serde_json::to_vec(&RecordView::from(record)).map_err(std::io::Error::other)?;
                line.push(b'\n');
                Ok(Bytes::from(line))
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "export aborted by a store error");
            Err(std::io::Error::other("export aborted by a store error"))
        }
    });
    let (content_type, body) = if csv {
        let header = futures::stream::once(async { Ok(Bytes::from_static(CSV_HEADER.as_bytes())) });
        (
            "text/csv; charset=utf-8",
            Body::from_stream(header.chain(lines)),
        )
    } else {
        ("application/x-ndjson", Body::from_stream(lines))
    };
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response())
}

/// The answer for one item of an ingested batch.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ItemResult {
    /// Position in the batch.
    index: usize,
    /// `accepted` (stored now), `duplicate` (its idempotence id is stored already) or
    /// `rejected`.
    status: &'static str,
    /// The message id (accepted and duplicate items).
    #[serde(skip_serializing_if = "Option::is_none")]
    message_id: Option<String>,
    /// Why the item was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Rejection>,
}

/// The answer for an ingested batch.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct IngestResponse {
    /// Items stored now.
    accepted: usize,
    /// Items already stored (by idempotence id).
    duplicates: usize,
    /// Items refused by the validation.
    rejected: usize,
    /// One answer per item, in batch order.
    results: Vec<ItemResult>,
}

/// Ingests a batch of `CreateAuditRecordCommand`s (the JSON of `audit_schema::json`): a JSON
/// array or `{"records": [...]}`. Answered per item once the valid ones are durably stored.
/// Scope `audit:write`.
#[utoipa::path(post, path = "/v1/audit/records", tag = "records", security(("bearer" = [])),
    request_body(content = Object, description = "A JSON array of commands or {\"records\": [...]}"),
    responses(
    (status = 200, body = IngestResponse), (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 413, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn ingest(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<axum::Json<IngestResponse>, ApiError> {
    caller.require(Scope::Write)?;
    let config = &state.inner.config.ingest;
    let body = body.map_err(|e| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                status,
                "payload_too_large",
                format!(
                    "the request body exceeds the limit of {} bytes",
                    config.max_body_bytes
                ),
            )
        } else {
            ApiError::new(status, "bad_request", e.body_text())
        }
    })?;
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON: {e}")))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(mut map) => match map.remove("records") {
            Some(serde_json::Value::Array(items)) if map.is_empty() => items,
            _ => {
                return Err(ApiError::bad_request(
                    "the body must be a JSON array of commands or {\"records\": [...]}".to_owned(),
                ));
            }
        },
        _ => {
            return Err(ApiError::bad_request(
                "the body must be a JSON array of commands or {\"records\": [...]}".to_owned(),
            ));
        }
    };
    if items.len() > config.max_batch {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!(
                "the batch has {} records, at most {} are accepted per request",
                items.len(),
                config.max_batch
            ),
        ));
    }
    let mut results: Vec<ItemResult> = Vec::with_capacity(items.len());
    let mut valid = Vec::with_capacity(items.len());
    let mut valid_at = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        match parse_item(item) {
            Ok(record) => {
                valid_at.push(index);
                valid.push(IncomingRecord::new(
                    record,
                    Source::Http {
                        client: caller.0.subject.clone(),
                    },
                ));
            }
            Err(rejection) => results.push(ItemResult {
                index,
                status: "rejected",
                message_id: None,
                error: Some(rejection),
            }),
        }
    }
    let rejected = results.len();
    metrics::counter!("audit_server_rejected_total").increment(rejected as u64);
    let mut accepted = 0;
    let mut duplicates = 0;
    if !valid.is_empty() {
        let message_ids: Vec<String> = valid
            .iter()
            .map(|r| r.record().metadata().message_id().to_owned())
            .collect();
        let answer = state.inner.ingestor.submit(valid).map_err(|_| {
            metrics::counter!("audit_server_queue_full_total").increment(1);
            ApiError {
                retry_after: Some(config.retry_after_secs),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "queue_full",
                    "the ingestion queue is full: retry later".to_owned(),
                )
            }
        })?;
        let outcomes = answer
            .await
            .map_err(|_| ApiError::unavailable("the writer stopped", config.retry_after_secs))?
            .map_err(|e| ApiError::from_store(&e))?;
        for ((index, message_id), outcome) in valid_at.into_iter().zip(message_ids).zip(outcomes) {
            let status = match outcome {
                WriteOutcome::Stored { .. } => {
                    accepted += 1;
                    "accepted"
                }
                WriteOutcome::Duplicate => {
                    duplicates += 1;
                    "duplicate"
                }
            };
            results.push(ItemResult {
                index,
                status,
                message_id: Some(message_id),
                error: None,
            });
        }
        results.sort_by_key(|r| r.index);
    }
    Ok(axum::Json(IngestResponse {
        accepted,
        duplicates,
        rejected,
        results,
    }))
}
