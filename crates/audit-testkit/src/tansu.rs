//! A Tansu 0.6.0 Kafka-protocol broker on loopback.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use crate::Error;
use crate::process::{ServerProcess, free_port, kafka_api_versions_probe};
use crate::tools::TANSU;

/// How long `start` waits for the broker to answer Kafka requests.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Environment variables Tansu reads that must not leak into the test broker.
const TANSU_ENV: &[&str] = &[
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "DATA_LAKE",
];

/// A Tansu broker with in-memory storage on `127.0.0.1:<random port>`, killed on drop.
///
/// `start` returns once the broker answers a Kafka `ApiVersions` request. Tansu 0.6.0 does not
/// auto-create topics: use [`Tansu::create_topic`] (runs `tansu topic create`), or rdkafka's
/// `AdminClient` from the test.
#[derive(Debug)]
pub struct Tansu {
    port: u16,
    binary: PathBuf,
    process: ServerProcess,
}

impl Tansu {
    /// Starts a fresh broker (its own empty in-memory storage).
    pub fn start() -> Result<Self, Error> {
        let binary = TANSU.locate()?;
        let mut last = None;
        // A free port can be taken between probing and binding: retry on an early exit.
        for _ in 0..3 {
            let port = free_port()?;
            let listener = format!("tcp://127.0.0.1:{port}");
            let args = vec![
                "broker".to_owned(),
                "--cluster-id".to_owned(),
                format!("audit-testkit-{port}"),
                "--listener-url".to_owned(),
                listener.clone(),
                "--advertised-listener-url".to_owned(),
                listener,
                "--storage-engine".to_owned(),
                "memory://tansu/".to_owned(),
            ];
            let mut process = ServerProcess::spawn("tansu", &binary, &args, TANSU_ENV)?;
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            match process.wait_ready(addr, READY_TIMEOUT, kafka_api_versions_probe) {
                Ok(()) => {
                    return Ok(Self {
                        port,
                        binary,
                        process,
                    });
                }
                Err(e @ Error::Exited { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(Error::NotReady {
            what: "tansu",
            addr: "127.0.0.1".to_owned(),
            waited: READY_TIMEOUT,
            last_error: "no attempt made".to_owned(),
            log: String::new(),
        }))
    }

    /// One broker shared by every test of this test binary, started on first use and stopped
    /// when the test process exits. Tests sharing it must use their own topic names.
    pub fn shared() -> Result<&'static Tansu, Error> {
        static SHARED: Mutex<Option<&'static Tansu>> = Mutex::new(None);
        let mut guard = SHARED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tansu) = *guard {
            return Ok(tansu);
        }
        let tansu: &'static Tansu = Box::leak(Box::new(Tansu::start()?));
        *guard = Some(tansu);
        Ok(tansu)
    }

    /// `bootstrap.servers` for clients: `"127.0.0.1:PORT"`.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The listener port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The broker's combined stdout/stderr log file (removed on drop).
    pub fn log_path(&self) -> &Path {
        self.process.log_path()
    }

    /// Creates a topic with `partitions` partitions through `tansu topic create` (the Kafka
    /// CreateTopics API). Creating a topic that already exists is an error.
    pub fn create_topic(&self, name: &str, partitions: u32) -> Result<(), Error> {
        let broker = format!("tcp://127.0.0.1:{}", self.port);
        let partitions = partitions.to_string();
        let args = [
            "topic",
            "create",
            "--broker",
            broker.as_str(),
            "--partitions",
            partitions.as_str(),
            name,
        ];
        let output = Command::new(&self.binary)
            .args(args)
            .output()
            .map_err(|source| Error::Spawn {
                what: "tansu topic create",
                binary: self.binary.clone(),
                source,
            })?;
        if output.status.success() {
            Ok(())
        } else {
            Err(Error::CommandFailed {
                command: format!("{} {}", self.binary.display(), args.join(" ")),
                status: output.status.to_string(),
                output: format!(
                    "{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                ),
            })
        }
    }
}
