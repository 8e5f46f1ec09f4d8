//! A rivven-schema 0.0.22 Confluent-API schema registry on loopback.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use crate::Error;
use crate::process::{ServerProcess, free_port, http_get_ok};
use crate::tools::RIVVEN_SCHEMA;

/// How long `start` waits for `GET /` to answer 200.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A rivven-schema server (in-memory storage) on `127.0.0.1:<random port>`, killed on drop.
///
/// Everything lives in memory: ids restart at 1 for every server. Prefer one server per test
/// binary ([`SchemaRegistry::shared`]) with distinct subject names per test; start a private one
/// only when a test needs to stop it (e.g. "registry down").
///
/// # Measured gaps of rivven-schema 0.0.22 and how the workspace designs around them
///
/// | behaviour of rivven-schema 0.0.22 | Confluent | what `audit-registry` does |
/// |---|---|---|
/// | no look-up endpoint `POST /subjects/{s}` (405) | look-up | `RegistryClient::lookup` scans the subject's versions (same JSON first, else same Parsing Canonical Form) only with `RegistryConfig::lookup_by_version_scan(true)`, which every test against rivven turns on; producers use register-or-get, which answers the existing id |
/// | `POST /compatibility/subjects/{s}/versions` (the converter's `is_compatible_schema`) answers 404 | checks all versions | `RegistryClient::check_compatibility` asks `.../versions/latest` (works on both) |
/// | its compatibility checker rejects any logical type, even against the identical schema ("Incompatible types: writer=TimestampMillis, reader=TimestampMillis") | correct | the command is registered under compatibility `NONE` per subject (as jEAP does); live checks are tested with schemas without logical types |
/// | stores a re-serialized schema (keys sorted): `GET /schemas/ids/{id}` does not return the registered text | returns the registered text | writer schemas are matched by fingerprint, so known versions still take the fast path |
/// | registering a schema that already has an id (under another subject) into a non-empty subject returns the id but adds no version to that subject | adds a version | producers are unaffected (the id is right); `versions`/`lookup` of that subject may not show it |
/// | `GET /subjects/{unknown}/versions` answers `200 []` | 404 (40401) | both mean "new subject" before the first registration |
/// | `GET /config/{s}` without a subject level answers the global level | 404 (40408) | `RegistryClient::subject_compatibility` reports what the server says |
/// | compatibility against an unknown subject answers `is_compatible: true` | 404 | reported as is |
/// | incompatible registration: HTTP 409 with `error_code` 409 | 40901 | `audit_registry::Error::Http` carries both |
/// | no authentication | basic auth | basic auth is verified on the wire in the tests |
/// | in memory: ids restart at 1 with every server start | persistent | tests use one shared server per run, private ones where they need exact ids |
#[derive(Debug)]
pub struct SchemaRegistry {
    port: u16,
    process: ServerProcess,
}

impl SchemaRegistry {
    /// Starts a fresh, empty registry.
    pub fn start() -> Result<Self, Error> {
        let binary = RIVVEN_SCHEMA.locate()?;
        let mut last = None;
        for _ in 0..3 {
            let port = free_port()?;
            let args = vec![
                "serve".to_owned(),
                "--host".to_owned(),
                "127.0.0.1".to_owned(),
                "--port".to_owned(),
                port.to_string(),
            ];
            let mut process = ServerProcess::spawn("rivven-schema", &binary, &args, &[])?;
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            match process.wait_ready(addr, READY_TIMEOUT, |a| http_get_ok(a, "/")) {
                Ok(()) => return Ok(Self { port, process }),
                Err(e @ Error::Exited { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(Error::NotReady {
            what: "rivven-schema",
            addr: "127.0.0.1".to_owned(),
            waited: READY_TIMEOUT,
            last_error: "no attempt made".to_owned(),
            log: String::new(),
        }))
    }

    /// One registry shared by every test of this test binary, started on first use and stopped
    /// when the test process exits.
    pub fn shared() -> Result<&'static SchemaRegistry, Error> {
        static SHARED: Mutex<Option<&'static SchemaRegistry>> = Mutex::new(None);
        let mut guard = SHARED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(registry) = *guard {
            return Ok(registry);
        }
        let registry: &'static SchemaRegistry = Box::leak(Box::new(SchemaRegistry::start()?));
        *guard = Some(registry);
        Ok(registry)
    }

    /// Base URL, `"http://127.0.0.1:PORT"` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The listener port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's combined stdout/stderr log file (removed on drop).
    pub fn log_path(&self) -> &Path {
        self.process.log_path()
    }
}
