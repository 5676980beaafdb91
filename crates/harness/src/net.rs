//! Loopback networking for the launchers: a free port to start a server on,
//! and an HTTP GET (plain, or over TLS) to ask a server whether it is ready.
//!
//! The probe is a few lines over a TCP stream rather than an HTTP client, so
//! the harness stays light: it only ever sends one `GET` to loopback.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long one [`http_get`] may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// A loopback address (`127.0.0.1:PORT`) that was free a moment ago.
///
/// Another process may take the port before the server binds it: the
/// launchers retry a start that failed that way on a new address.
pub fn free_loopback_address() -> io::Result<SocketAddr> {
    TcpListener::bind(("127.0.0.1", 0))?.local_addr()
}

/// What a server answered to [`http_get`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpAnswer {
    /// The status code, e.g. 200.
    pub status: u16,
    /// What follows the headers, as sent (a chunked body keeps its framing).
    pub body: String,
}

/// `GET path` over plain HTTP/1.1 on `address`; `None` when nothing answers
/// within two seconds or the answer is not HTTP.
pub async fn http_get(address: SocketAddr, path: &str) -> Option<HttpAnswer> {
    let get = async {
        let stream = TcpStream::connect(address).await.ok()?;
        get_on(stream, address, path).await
    };
    tokio::time::timeout(PROBE_TIMEOUT, get)
        .await
        .ok()
        .flatten()
}

/// [`http_get`] over TLS with `config` (see [`crate::tls::client_config`]),
/// the server verified for `address`'s IP; `None` also when the handshake
/// fails.
pub async fn https_get(
    address: SocketAddr,
    path: &str,
    config: &std::sync::Arc<rustls::ClientConfig>,
) -> Option<HttpAnswer> {
    let get = async {
        let stream = crate::tls::connect(address, config).await.ok()?;
        get_on(stream, address, path).await
    };
    tokio::time::timeout(PROBE_TIMEOUT, get)
        .await
        .ok()
        .flatten()
}

async fn get_on<S>(mut stream: S, address: SocketAddr, path: &str) -> Option<HttpAnswer>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    // A TLS peer that closes without close_notify still sent its answer.
    let _ = stream.read_to_end(&mut response).await;
    parse_answer(&String::from_utf8_lossy(&response))
}

fn parse_answer(response: &str) -> Option<HttpAnswer> {
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((response, ""));
    let mut status_line = head.lines().next()?.split_whitespace();
    if !status_line.next()?.starts_with("HTTP/") {
        return None;
    }
    let status = status_line.next()?.parse().ok()?;
    Some(HttpAnswer {
        status,
        body: body.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_parsed_and_other_bytes_are_not() {
        let ok = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        assert_eq!(
            parse_answer(ok),
            Some(HttpAnswer {
                status: 200,
                body: "ok".into()
            })
        );
        let unavailable = "HTTP/1.1 503 Service Unavailable\r\n\r\n";
        assert_eq!(parse_answer(unavailable).map(|a| a.status), Some(503));
        for junk in ["", "SSH-2.0-OpenSSH\r\n", "HTTP/1.1 abc\r\n\r\n"] {
            assert_eq!(parse_answer(junk), None, "{junk:?}");
        }
    }

    #[tokio::test]
    async fn nothing_listening_is_no_answer() {
        let address = free_loopback_address().expect("a free port");
        assert_eq!(http_get(address, "/readyz").await, None);
    }
}
