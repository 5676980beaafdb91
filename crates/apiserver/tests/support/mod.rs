//! The API server in-process on 127.0.0.1:0, on the embedded store or a
//! real etcd, with kube-rs as the client; and raw HTTP for what a typed
//! client cannot send.

#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use keelson_harness::etcd::EtcdProcess;
use keelson_store::Store;
use kube::Client;
use kube::client::Body;
use serde_json::Value;

/// A running server and what keeps it alive.
pub struct Server {
    pub client: Client,
    pub store: Arc<dyn Store>,
    pub address: SocketAddr,
    _dir: tempfile::TempDir,
    _etcd: Option<EtcdProcess>,
}

#[derive(Clone, Copy)]
pub enum Backend {
    Embedded,
    Etcd,
}

/// Starts a bootstrapped server on `backend`.
pub async fn server(backend: Backend) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, etcd) = match backend {
        Backend::Embedded => (format!("embedded:{}", dir.path().display()), None),
        Backend::Etcd => {
            let etcd = EtcdProcess::start()
                .await
                .unwrap_or_else(|err| panic!("cannot start etcd: {err}"));
            (etcd.url(), Some(etcd))
        }
    };
    let store = keelson_store::open(&url).await.expect("store");
    keelson_apiserver::bootstrap(store.clone())
        .await
        .expect("bootstrap");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(keelson_apiserver::serve(
        listener,
        Arc::clone(&store),
        std::future::pending(),
    ));
    let config = kube::Config::new(format!("http://{address}").parse().expect("url"));
    Server {
        client: Client::try_from(config).expect("client"),
        store,
        address,
        _dir: dir,
        _etcd: etcd,
    }
}

/// The server on the embedded store.
pub async fn embedded() -> Server {
    server(Backend::Embedded).await
}

/// One test per backend for each scenario (an `async fn(Server)` in the
/// including file).
#[macro_export]
macro_rules! on_every_backend {
    ($($scenario:ident),+ $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(
                        $crate::support::server($crate::support::Backend::Embedded).await,
                    )
                    .await;
                }
            )+
        }
        mod etcd {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(
                        $crate::support::server($crate::support::Backend::Etcd).await,
                    )
                    .await;
                }
            )+
        }
    };
}

/// A raw answer: status code, headers, and the body as JSON (Null if it is
/// not JSON).
pub struct Answer {
    pub code: u16,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl Server {
    /// Sends `method path` with `body` of `content_type` and reads the
    /// whole answer.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> Answer {
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::CONTENT_TYPE, content_type)
            .body(Body::from(body.into()))
            .expect("a request");
        let response = self.client.send(request).await.expect("an answer");
        let code = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect_bytes()
            .await
            .expect("a whole body");
        Answer {
            code,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// A JSON request.
    pub async fn json(&self, method: &str, path: &str, body: &Value) -> Answer {
        let bytes = if body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(body).unwrap()
        };
        self.raw(method, path, "application/json", bytes).await
    }

    /// A GET.
    pub async fn get(&self, path: &str) -> Answer {
        self.raw("GET", path, "application/json", Vec::new()).await
    }
}

/// Asserts that `answer` is a failure `Status` with `code`, and returns it.
pub fn failure(answer: &Answer, code: u16) -> &Value {
    let body = &answer.body;
    assert_eq!(answer.code, code, "{body}");
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["apiVersion"], "v1", "{body}");
    assert_eq!(body["status"], "Failure", "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a message: {body}"
    );
    body
}

/// The error code of a kube-rs API error.
pub fn code(err: kube::Error) -> u16 {
    match err {
        kube::Error::Api(status) => status.code,
        other => panic!("expected an API error, got {other}"),
    }
}

/// The events of a watch at `path` (which carries `watch=true`), one JSON
/// value per line.
pub async fn watch(server: &Server, path: &str) -> futures::stream::BoxStream<'static, Value> {
    use futures::{AsyncBufReadExt, StreamExt};
    let request = http::Request::get(path)
        .body(Vec::new())
        .expect("a request");
    let lines = server
        .client
        .request_stream(request)
        .await
        .expect("a watch")
        .lines();
    lines
        .map(|line| serde_json::from_str(&line.expect("a line")).expect("a JSON event"))
        .boxed()
}

/// The next event of `events`, within 10 s.
pub async fn next_event(events: &mut futures::stream::BoxStream<'static, Value>) -> Value {
    use futures::StreamExt;
    tokio::time::timeout(std::time::Duration::from_secs(10), events.next())
        .await
        .expect("an event within 10s")
        .expect("the watch goes on")
}

/// `(type, metadata.name)` of a watch event.
pub fn seen(event: &Value) -> (String, String) {
    (
        event["type"].as_str().unwrap_or("").to_string(),
        event["object"]["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    )
}
