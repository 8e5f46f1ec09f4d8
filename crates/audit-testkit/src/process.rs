//! A server child process that cannot outlive the test process, plus port and readiness helpers.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::Error;

/// Runs the server (`"$@"`) in the background and kills it as soon as our stdin reaches EOF,
/// which happens when the owning `ServerProcess` is dropped *or* when the test process dies for
/// any reason (even SIGKILL: the kernel closes the pipe). The wrapper exits when the server exits,
/// so an early exit (e.g. port taken) is visible through `try_wait`. The log file is removed
/// when the server is killed.
const WATCHDOG: &str = r#"exec 3<&0
"$@" </dev/null &
server=$!
( read -r _line <&3; kill -KILL "$server" 2>/dev/null; rm -f "$AUDIT_TESTKIT_LOG" ) &
reader=$!
wait "$server"
rc=$?
kill "$reader" 2>/dev/null
exit $rc
"#;

static LOG_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A running server child process (behind the watchdog shell), killed on drop.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    what: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    log_path: PathBuf,
}

impl ServerProcess {
    /// Spawns `binary args...`, stdout and stderr going to a fresh log file in the temp dir.
    pub(crate) fn spawn(
        what: &'static str,
        binary: &Path,
        args: &[String],
        env_remove: &[&str],
    ) -> Result<Self, Error> {
        let n = LOG_COUNTER.fetch_add(1, Ordering::Relaxed);
        let log_path = std::env::temp_dir().join(format!(
            "audit-testkit-{what}-{}-{n}.log",
            std::process::id()
        ));
        let io_err = |source| Error::Io {
            what: format!("creating the {what} log file {}", log_path.display()),
            source,
        };
        let log = File::create(&log_path).map_err(io_err)?;
        let log_err = log.try_clone().map_err(io_err)?;
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .arg(binary)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .env("AUDIT_TESTKIT_LOG", &log_path);
        for var in env_remove {
            command.env_remove(var);
        }
        let mut child = command.spawn().map_err(|source| Error::Spawn {
            what,
            binary: binary.to_path_buf(),
            source,
        })?;
        let stdin = child.stdin.take();
        Ok(Self {
            what,
            child,
            stdin,
            log_path,
        })
    }

    /// `Err(Exited)` when the server has already exited.
    pub(crate) fn check_alive(&mut self) -> Result<(), Error> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(Error::Exited {
                what: self.what,
                status: status.to_string(),
                log: self.log_tail(),
            }),
            Err(source) => Err(Error::Io {
                what: format!("checking whether {} is still running", self.what),
                source,
            }),
        }
    }

    /// The last lines of the server's combined stdout/stderr.
    pub(crate) fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(40);
        lines.get(start..).unwrap_or_default().join("\n")
    }

    pub(crate) fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Polls `probe` until it succeeds, the server exits, or `timeout` passes.
    pub(crate) fn wait_ready(
        &mut self,
        addr: SocketAddr,
        timeout: Duration,
        mut probe: impl FnMut(SocketAddr) -> std::io::Result<()>,
    ) -> Result<(), Error> {
        let started = Instant::now();
        loop {
            self.check_alive()?;
            match probe(addr) {
                Ok(()) => return Ok(()),
                Err(e) if started.elapsed() >= timeout => {
                    return Err(Error::NotReady {
                        what: self.what,
                        addr: addr.to_string(),
                        waited: timeout,
                        last_error: e.to_string(),
                        log: self.log_tail(),
                    });
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // EOF on the watchdog's stdin: it SIGKILLs the server and exits.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        let _ = std::fs::remove_file(&self.log_path);
    }
}

/// A currently free TCP port on 127.0.0.1 (bound and released again; callers retry on the rare
/// race with another process).
pub fn free_port() -> Result<u16, Error> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|source| Error::Io {
            what: "finding a free port on 127.0.0.1".to_owned(),
            source,
        })
}

fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    Ok(stream)
}

/// Kafka-level readiness: an `ApiVersions` v0 request must get a well-formed answer with error 0.
pub(crate) fn kafka_api_versions_probe(addr: SocketAddr) -> std::io::Result<()> {
    let mut stream = connect(addr)?;
    let client_id = b"audit-testkit";
    let too_long = |what| std::io::Error::other(format!("ApiVersions request: {what} too long"));
    let mut body = Vec::with_capacity(32);
    body.extend_from_slice(&18_i16.to_be_bytes()); // api key: ApiVersions
    body.extend_from_slice(&0_i16.to_be_bytes()); // api version 0
    body.extend_from_slice(&7_i32.to_be_bytes()); // correlation id
    let client_id_len = i16::try_from(client_id.len()).map_err(|_| too_long("client id"))?;
    body.extend_from_slice(&client_id_len.to_be_bytes());
    body.extend_from_slice(client_id);
    let body_len = i32::try_from(body.len()).map_err(|_| too_long("body"))?;
    let mut request = body_len.to_be_bytes().to_vec();
    request.extend_from_slice(&body);
    stream.write_all(&request)?;
    let mut size = [0_u8; 4];
    stream.read_exact(&mut size)?;
    let size = i32::from_be_bytes(size);
    let len = usize::try_from(size)
        .ok()
        .filter(|len| (6..=1_000_000).contains(len))
        .ok_or_else(|| {
            std::io::Error::other(format!("implausible ApiVersions response size {size}"))
        })?;
    let mut response = vec![0_u8; len];
    stream.read_exact(&mut response)?;
    let correlation = response
        .get(0..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(i32::from_be_bytes);
    let error_code = response
        .get(4..6)
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .map(i16::from_be_bytes);
    match (correlation, error_code) {
        (Some(7), Some(0)) => Ok(()),
        other => Err(std::io::Error::other(format!(
            "unexpected ApiVersions answer (correlation id, error code) = {other:?}"
        ))),
    }
}

/// HTTP readiness: `GET path` must answer 200.
pub(crate) fn http_get_ok(addr: SocketAddr, path: &str) -> std::io::Result<()> {
    let mut stream = connect(addr)?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0_u8; 32];
    let mut read = 0;
    while read < 12 {
        let n = stream.read(head.get_mut(read..).unwrap_or_default())?;
        if n == 0 {
            break;
        }
        read += n;
    }
    let status_line = String::from_utf8_lossy(head.get(..read).unwrap_or_default()).into_owned();
    if status_line.starts_with("HTTP/1.1 200") || status_line.starts_with("HTTP/1.0 200") {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "GET {path} answered {status_line:?}"
        )))
    }
}
