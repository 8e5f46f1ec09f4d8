//! An HTTP/1.1 forwarder on loopback that records every request it passes on.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use crate::Error;

/// One request that went through an [`HttpRecorder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The method, e.g. `"POST"`.
    pub method: String,
    /// The request target as sent (path and query), e.g. `"/subjects/s/versions"`.
    pub target: String,
}

/// Forwards HTTP/1.1 requests from `127.0.0.1:<random port>` to a server on loopback and records
/// each one, so a test can count the requests a client really sent (not what it says it sent).
///
/// Every request gets its own connection: the forwarder asks the server to close the connection
/// after its answer (`Connection: close`), so a client cannot reuse it and each request is seen
/// here. Request bodies must carry a `Content-Length` (chunked requests are refused). Stops on drop.
#[derive(Debug)]
pub struct HttpRecorder {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl HttpRecorder {
    /// Starts forwarding to `127.0.0.1:target_port`.
    ///
    /// # Errors
    /// [`Error::Io`] if the listener cannot be bound.
    pub fn start(target_port: u16) -> Result<Self, Error> {
        Self::serve(Upstream::Forward(SocketAddr::from((
            Ipv4Addr::LOCALHOST,
            target_port,
        ))))
    }

    /// Records the requests like [`HttpRecorder::start`] but answers them itself: `answer` gets
    /// the method and the target and returns the status code and the JSON body. A real HTTP
    /// server for clients that need only a few fixed answers.
    ///
    /// # Errors
    /// [`Error::Io`] if the listener cannot be bound.
    pub fn answering(
        answer: impl Fn(&str, &str) -> (u16, String) + Send + Sync + 'static,
    ) -> Result<Self, Error> {
        Self::serve(Upstream::Answer(Arc::new(answer)))
    }

    fn serve(upstream: Upstream) -> Result<Self, Error> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|source| Error::Io {
            what: "binding the HTTP recorder".to_owned(),
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| Error::Io {
            what: "reading the HTTP recorder's address".to_owned(),
            source,
        })?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let accept = std::thread::spawn({
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            move || {
                for inbound in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(inbound) = inbound else { continue };
                    let requests = Arc::clone(&requests);
                    let upstream = upstream.clone();
                    std::thread::spawn(move || {
                        // A failed exchange is the client's to see (its connection is closed).
                        let _ = exchange(inbound, &upstream, &requests);
                    });
                }
            }
        });
        Ok(Self {
            addr,
            requests,
            stop,
            accept: Some(accept),
        })
    }

    /// Base URL, `"http://127.0.0.1:PORT"`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests forwarded so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for HttpRecorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop up so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// An answer function: method and target to status and JSON body.
type Answer = dyn Fn(&str, &str) -> (u16, String) + Send + Sync;

/// Where an [`HttpRecorder`] gets its answers.
#[derive(Clone)]
enum Upstream {
    /// From a server on this address.
    Forward(SocketAddr),
    /// From this function of method and target: status and JSON body.
    Answer(Arc<Answer>),
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

/// Reads one request from `inbound`, records it, and answers it: sends it to the server with
/// `Connection: close` and copies the answer back until the server closes, or writes the
/// answer function's response.
fn exchange(
    inbound: TcpStream,
    upstream: &Upstream,
    requests: &Mutex<Vec<RecordedRequest>>,
) -> io::Result<()> {
    let mut reader = BufReader::new(inbound.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(request_target)) = (parts.next(), parts.next()) else {
        return Err(invalid("no request line"));
    };
    let mut head = request_line.clone();
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(invalid("connection closed inside the request head"));
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((line.as_str(), ""));
        let name = name.trim().to_ascii_lowercase();
        match name.as_str() {
            "connection" | "keep-alive" => continue,
            "transfer-encoding" => return Err(invalid("chunked requests are not supported")),
            "content-length" => {
                content_length = value
                    .trim()
                    .parse()
                    .map_err(|_| invalid("bad Content-Length"))?;
            }
            _ => {}
        }
        head.push_str(&line);
    }
    head.push_str("Connection: close\r\n\r\n");
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body)?;
    requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(RecordedRequest {
            method: method.to_owned(),
            target: request_target.to_owned(),
        });

    let mut client = inbound;
    match upstream {
        Upstream::Forward(target) => {
            let mut outbound = TcpStream::connect(target)?;
            outbound.write_all(head.as_bytes())?;
            outbound.write_all(&body)?;
            outbound.flush()?;
            io::copy(&mut outbound, &mut client)?;
        }
        Upstream::Answer(answer) => {
            let (status, body) = answer(method, request_target);
            write!(
                client,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
        }
    }
    client.flush()?;
    client.shutdown(Shutdown::Both)
}
