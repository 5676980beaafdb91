//! The server's connections as raw clients see them: connections that say
//! nothing or half a request are closed after the header timeout, idle
//! keep-alive ones after the idle timeout while a watch outlives both; at
//! the cap an idle connection makes room, and only when all are busy is a
//! new one answered 429; a body announced over the limit is refused before
//! it is sent; and h2c is still spoken.
//!
//! The timeouts are short by configuration; `PATIENCE` only bounds how
//! long a test waits before it fails instead of hanging.

use std::net::SocketAddr;
use std::time::Duration;

use keelson_apiserver::testing::{self, Backend, Server};
use keelson_apiserver::{Config, ConnectionLimits};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The header and idle timeouts of the tests that wait for them.
const SHORT: Duration = Duration::from_millis(300);
/// Timeouts that do not pass during a test.
const LONG: Duration = Duration::from_secs(600);
/// How long to wait for what the server should do soon.
const PATIENCE: Duration = Duration::from_secs(10);

async fn server(read_header: Duration, idle: Duration, max: usize) -> Server {
    let connections = ConnectionLimits {
        read_header_timeout: read_header,
        idle_timeout: idle,
        max_connections: max,
    };
    let config = Config {
        connections,
        ..Config::default()
    };
    testing::server_with(Backend::Embedded, config).await
}

async fn connect(address: SocketAddr) -> TcpStream {
    TcpStream::connect(address)
        .await
        .unwrap_or_else(|err| panic!("cannot connect to {address}: {err}"))
}

async fn send(stream: &mut TcpStream, bytes: &[u8]) {
    stream.write_all(bytes).await.expect("the request is sent");
}

/// Whether the server closes `stream` within `wait` (what it sends before
/// is skipped).
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let closed = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(wait, closed).await.is_ok()
}

/// A response read off a connection: the status code, the head and the
/// body (as far as `Content-Length` says, or all that came before the
/// connection closed).
struct Answer {
    code: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Reads one response's head, and its body when it has a length.
async fn read_answer(stream: &mut TcpStream) -> Answer {
    let read = async {
        let mut bytes = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            if let Some(answer) = parse(&bytes) {
                return answer;
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    return parse(&bytes).unwrap_or_else(|| panic!("closed mid-answer: {bytes:?}"));
                }
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(PATIENCE, read)
        .await
        .expect("an answer in time")
}

/// A whole response in `bytes`, if there is one: the head and a body as
/// long as `Content-Length` (for a streaming one, only the head).
fn parse(bytes: &[u8]) -> Option<Answer> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let code = head.split_whitespace().nth(1)?.parse().ok()?;
    let mut answer = Answer {
        code,
        head,
        body: Vec::new(),
    };
    let body = &bytes[end + 4..];
    if let Some(length) = answer.header("content-length") {
        let length: usize = length.parse().ok()?;
        if body.len() < length {
            return None;
        }
        answer.body = body[..length].to_vec();
    }
    Some(answer)
}

/// `GET path` on a new connection that the client closes after.
async fn get(address: SocketAddr, path: &str) -> Answer {
    let mut stream = connect(address).await;
    let request = format!("GET {path} HTTP/1.1\r\nHost: keelson\r\nConnection: close\r\n\r\n");
    send(&mut stream, request.as_bytes()).await;
    read_answer(&mut stream).await
}

/// A watch of ConfigMaps in `default`, its response head read: in flight.
async fn watch(address: SocketAddr) -> TcpStream {
    let mut stream = connect(address).await;
    let request =
        "GET /api/v1/namespaces/default/configmaps?watch=true HTTP/1.1\r\nHost: keelson\r\n\r\n";
    send(&mut stream, request.as_bytes()).await;
    let answer = read_answer(&mut stream).await;
    assert_eq!(answer.code, 200, "{}", answer.head);
    stream
}

const HALF_A_HEADER: &[u8] = b"GET /readyz HTTP/1.1\r\nHost: keel";

#[tokio::test]
async fn silent_and_half_header_connections_are_closed_after_the_header_timeout() {
    let server = server(SHORT, LONG, 1000).await;
    let mut sockets = Vec::new();
    for i in 0..40 {
        let mut socket = connect(server.address).await;
        if i % 2 == 1 {
            send(&mut socket, HALF_A_HEADER).await;
        }
        sockets.push(socket);
    }
    let ready = get(server.address, "/readyz").await;
    assert_eq!(ready.code, 200, "{}", ready.head);
    for (i, socket) in sockets.iter_mut().enumerate() {
        assert!(
            closed_within(socket, PATIENCE).await,
            "socket {i} is still open"
        );
    }
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_and_a_watch_is_not() {
    let server = server(SHORT, SHORT, 1000).await;
    let mut watching = watch(server.address).await;
    let mut kept_alive = connect(server.address).await;
    send(
        &mut kept_alive,
        b"GET /readyz HTTP/1.1\r\nHost: keelson\r\n\r\n",
    )
    .await;
    let ready = read_answer(&mut kept_alive).await;
    assert_eq!(ready.code, 200, "{}", ready.head);

    // Several idle and header timeouts pass.
    tokio::time::sleep(SHORT * 5).await;
    assert!(
        closed_within(&mut kept_alive, PATIENCE).await,
        "the idle connection is still open"
    );
    let created = server
        .json(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            &json!({"metadata": {"name": "after-the-timeouts"}}),
        )
        .await;
    assert_eq!(created.code, 201, "{}", created.body);
    let event = read_until(&mut watching, "after-the-timeouts").await;
    assert!(event.contains("ADDED"), "{event}");
}

/// Reads `stream` until `text` appears; what was read.
async fn read_until(stream: &mut TcpStream, text: &str) -> String {
    let read = async {
        let mut seen = String::new();
        let mut buf = [0u8; 4096];
        while !seen.contains(text) {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => panic!("closed before {text:?} came: {seen}"),
                Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
            }
        }
        seen
    };
    tokio::time::timeout(PATIENCE, read)
        .await
        .unwrap_or_else(|_| panic!("{text:?} did not come"))
}

#[tokio::test]
async fn at_the_cap_the_connections_idle_longest_make_room() {
    let server = server(LONG, LONG, 8).await;
    let mut sockets = Vec::new();
    for _ in 0..20 {
        sockets.push(connect(server.address).await);
    }
    let ready = get(server.address, "/readyz").await;
    assert_eq!(ready.code, 200, "{}", ready.head);
    let probes = sockets
        .iter_mut()
        .map(|socket| closed_within(socket, Duration::from_secs(2)));
    let closed = futures::future::join_all(probes).await;
    let closed = closed.iter().filter(|closed| **closed).count();
    // 12 for the sockets past the cap and one for the /readyz request.
    assert_eq!(closed, 13);
}

#[tokio::test]
async fn beyond_the_cap_with_every_connection_busy_the_answer_is_429() {
    let server = server(LONG, LONG, 2).await;
    let first = watch(server.address).await;
    let _second = watch(server.address).await;

    let refused = get(server.address, "/readyz").await;
    assert_eq!(refused.code, 429, "{}", refused.head);
    assert_eq!(refused.header("retry-after"), Some("1"));
    let status = refused.json();
    assert_eq!(status["kind"], "Status", "{status}");
    assert_eq!(status["reason"], "TooManyRequests", "{status}");
    assert_eq!(status["details"]["retryAfterSeconds"], 1, "{status}");

    // A watch that ends frees its place.
    drop(first);
    let answered = async {
        loop {
            if get(server.address, "/readyz").await.code == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(PATIENCE, answered)
        .await
        .expect("/readyz answers once a watch ended");
}

#[tokio::test]
async fn a_body_announced_over_the_limit_is_refused_before_it_is_sent() {
    let server = server(LONG, LONG, 1000).await;
    let mut stream = connect(server.address).await;
    let request = "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: keelson\r\n\
                   Content-Type: application/json\r\nContent-Length: 10485760\r\n\r\n";
    send(&mut stream, request.as_bytes()).await;
    let refused = read_answer(&mut stream).await;
    assert_eq!(refused.code, 413, "{}", refused.head);
    let status = refused.json();
    assert_eq!(status["reason"], "RequestEntityTooLarge", "{status}");
    assert_eq!(status["code"], 413, "{status}");
}

#[tokio::test]
async fn h2c_is_spoken_after_the_preface() {
    let server = server(LONG, LONG, 1000).await;
    let mut stream = connect(server.address).await;
    let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    // An empty SETTINGS frame: length 0, type 4, no flags, stream 0.
    let settings = [0u8, 0, 0, 4, 0, 0, 0, 0, 0];
    send(&mut stream, preface).await;
    send(&mut stream, &settings).await;
    let mut frame = [0u8; 9];
    tokio::time::timeout(PATIENCE, stream.read_exact(&mut frame))
        .await
        .expect("a frame in time")
        .expect("the server's first frame");
    assert_eq!(frame[3], 4, "the server's first frame is its SETTINGS");
}
