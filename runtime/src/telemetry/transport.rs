//! A minimal, blocking HTTP/1.1 `POST` over `std::net::TcpStream`.
//!
//! Why not `reqwest::blocking`: it runs a hidden tokio runtime, panics when it is built or
//! dropped inside an async context ("Cannot drop a runtime in a context where blocking is not
//! allowed", the bug of the upstream Zipkin exporter), and an in-flight request cannot be cut off
//! from another thread. This client needs no runtime at all, so it cannot panic whatever thread
//! runs it; every step is bounded by one deadline (connect, write and read timeouts are
//! recomputed from it); and [`AbortHandle::abort`] shuts the socket down from the thread that
//! shuts the pipeline down, which is what keeps shutdown bounded with a hung collector.
//! It speaks only plain `http` (no TLS), with `Connection: close` (one request per batch, every
//! few seconds, so keep-alive buys little).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::config::Endpoint;

/// The response head and body are read up to this many bytes (Zipkin answers 202 with no body).
const MAX_RESPONSE: usize = 8 * 1024;

/// Cuts off the in-flight request of a transport and fails every later one at once.
#[derive(Clone, Debug, Default)]
pub(crate) struct AbortHandle(Arc<AbortState>);

#[derive(Debug, Default)]
struct AbortState {
    closed: AtomicBool,
    in_flight: Mutex<Option<TcpStream>>,
}

impl AbortHandle {
    pub(crate) fn abort(&self) {
        self.0.closed.store(true, Ordering::SeqCst);
        if let Some(stream) = self.0.in_flight.lock().take() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    fn is_closed(&self) -> bool {
        self.0.closed.load(Ordering::SeqCst)
    }
}

/// Why a POST failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PostError {
    #[error("cannot resolve {0}: {1}")]
    Resolve(String, io::Error),
    #[error("cannot connect to {0}: {1}")]
    Connect(String, io::Error),
    #[error("I/O error talking to {0}: {1}")]
    Io(String, io::Error),
    #[error("no answer from {0} within {1:?}")]
    Timeout(String, Duration),
    #[error("malformed HTTP response from {0}")]
    Malformed(String),
    #[error("{0} answered HTTP {1}: {2}")]
    Status(String, u16, String),
    #[error("the exporter is shut down")]
    Closed,
}

#[derive(Debug)]
pub(crate) struct HttpPost {
    endpoint: Endpoint,
    timeout: Duration,
    abort: AbortHandle,
}

impl HttpPost {
    pub(crate) fn new(endpoint: Endpoint, timeout: Duration, abort: AbortHandle) -> Self {
        Self {
            endpoint,
            timeout,
            abort,
        }
    }

    /// Posts `body` as JSON; `Ok` only for a 2xx answer.
    pub(crate) fn post_json(&self, body: &[u8]) -> Result<u16, PostError> {
        if self.abort.is_closed() {
            return Err(PostError::Closed);
        }
        let deadline = Instant::now() + self.timeout;
        let url = self.endpoint.url().to_owned();
        let mut stream = self.connect(deadline)?;
        if let Ok(clone) = stream.try_clone() {
            *self.abort.0.in_flight.lock() = Some(clone);
        }
        let result = self.exchange(&mut stream, body, deadline);
        self.abort.0.in_flight.lock().take();
        if self.abort.is_closed() && result.is_err() {
            return Err(PostError::Closed);
        }
        let (status, rest) = result?;
        if (200..300).contains(&status) {
            Ok(status)
        } else {
            let text = String::from_utf8_lossy(&rest);
            let text: String = text.trim().chars().take(200).collect();
            Err(PostError::Status(url, status, text))
        }
    }

    fn remaining(&self, deadline: Instant) -> Result<Duration, PostError> {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| PostError::Timeout(self.endpoint.url().to_owned(), self.timeout))
    }

    fn connect(&self, deadline: Instant) -> Result<TcpStream, PostError> {
        let url = self.endpoint.url();
        let addrs = (self.endpoint.host(), self.endpoint.port())
            .to_socket_addrs()
            .map_err(|e| PostError::Resolve(url.to_owned(), e))?;
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
        for addr in addrs {
            let remaining = self.remaining(deadline)?;
            match TcpStream::connect_timeout(&addr, remaining) {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                Err(e) => last = e,
            }
        }
        if last.kind() == io::ErrorKind::TimedOut {
            return Err(PostError::Timeout(url.to_owned(), self.timeout));
        }
        Err(PostError::Connect(url.to_owned(), last))
    }

    fn exchange(
        &self,
        stream: &mut TcpStream,
        body: &[u8],
        deadline: Instant,
    ) -> Result<(u16, Vec<u8>), PostError> {
        let url = self.endpoint.url();
        let io_err = |e: io::Error| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                PostError::Timeout(url.to_owned(), self.timeout)
            }
            _ => PostError::Io(url.to_owned(), e),
        };
        let host = if self.endpoint.host().contains(':') {
            format!("[{}]:{}", self.endpoint.host(), self.endpoint.port())
        } else {
            format!("{}:{}", self.endpoint.host(), self.endpoint.port())
        };
        // `b3: 0` asks an instrumented collector not to trace this request (Zipkin's convention
        // against self-tracing loops).
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nAccept: */*\r\nUser-Agent: fusebox/{}\r\nb3: 0\r\n\
             Connection: close\r\n\r\n",
            self.endpoint.path(),
            body.len(),
            env!("CARGO_PKG_VERSION"),
        );
        stream
            .set_write_timeout(Some(self.remaining(deadline)?))
            .map_err(io_err)?;
        stream.write_all(head.as_bytes()).map_err(io_err)?;
        stream
            .set_write_timeout(Some(self.remaining(deadline)?))
            .map_err(io_err)?;
        stream.write_all(body).map_err(io_err)?;
        stream.flush().map_err(io_err)?;

        let mut buf = Vec::with_capacity(512);
        let mut chunk = [0u8; 1024];
        let mut head_end = None;
        loop {
            stream
                .set_read_timeout(Some(self.remaining(deadline)?))
                .map_err(io_err)?;
            let n = match stream.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_err(e)),
            };
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            if head_end.is_none() {
                head_end = find(&buf, b"\r\n\r\n");
                // A 2xx answer needs nothing after the head: stop reading.
                if let Some(end) = head_end
                    && parse_status(&buf[..end]).is_some_and(|s| (200..300).contains(&s))
                {
                    break;
                }
            }
            if buf.len() >= MAX_RESPONSE {
                break;
            }
        }
        let end = head_end
            .or_else(|| find(&buf, b"\r\n\r\n"))
            .unwrap_or(buf.len());
        let status =
            parse_status(&buf[..end]).ok_or_else(|| PostError::Malformed(url.to_owned()))?;
        let rest = buf.get(end + 4..).unwrap_or_default().to_vec();
        Ok((status, rest))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `HTTP/1.1 202 Accepted` → 202.
fn parse_status(head: &[u8]) -> Option<u16> {
    let line = head.split(|&b| b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_ascii_whitespace();
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    let code: u16 = parts.next()?.parse().ok()?;
    (100..1000).contains(&code).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_line_parsing() {
        assert_eq!(parse_status(b"HTTP/1.1 202 Accepted"), Some(202));
        assert_eq!(
            parse_status(b"HTTP/1.0 500 Internal Server Error\r\nx: y"),
            Some(500)
        );
        assert_eq!(parse_status(b"garbage"), None);
        assert_eq!(parse_status(b"HTTP/1.1 abc"), None);
        assert_eq!(parse_status(b""), None);
    }
}
