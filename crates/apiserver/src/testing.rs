//! The API server in-process for tests, this crate's and every API client's
//! (controllers, scheduler, node agent): [`server`] starts it on
//! `127.0.0.1:0`, on the embedded store or a real etcd, bootstrapped and
//! with a ready [`kube::Client`]; [`on_every_backend!`](crate::on_every_backend)
//! runs a scenario on both stores; raw HTTP ([`Server::raw`]) sends what a
//! typed client cannot, and the assertion helpers read `Status` failures
//! and watch events.
//!
//! Behind the `testing` feature: a crate's tests use it through
//! `keelson-apiserver = { workspace = true, features = ["testing"] }` in
//! their dev-dependencies. Like assertions, these helpers panic when
//! something goes wrong; they are for tests only.
//!
//! The server here speaks plain HTTP (`Config::tls` is `None`): the
//! library's explicit insecure mode, for tests in one process on loopback.
//! What TLS changes is tested on the accept loop and on `keelson up`.
//!
//! No controllers run here, but pods need their ServiceAccount to exist
//! (the ServiceAccount admission step refuses them otherwise, as
//! upstream's): the server stands in for the ServiceAccount controller
//! and makes a `default` ServiceAccount in every namespace it sees made.

use std::net::SocketAddr;
use std::sync::Arc;

use futures::stream::BoxStream;
use keelson_harness::etcd::EtcdProcess;
use keelson_store::Store;
use kube::Client;
use kube::client::Body;
use serde_json::Value;

/// A running server and what keeps it alive: the store's temp dir and, on
/// etcd, the etcd process. Dropping it stops neither the serving task
/// (which ends with the test's runtime) nor anything else.
pub struct Server {
    /// A kube-rs client for the server (plain HTTP, no credentials).
    pub client: Client,
    /// The store under the server, for tests that look beneath the API.
    pub store: Arc<dyn Store>,
    /// Where the server listens.
    pub address: SocketAddr,
    _dir: tempfile::TempDir,
    _etcd: Option<EtcdProcess>,
}

/// The store a [`Server`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The embedded store in a temp dir.
    Embedded,
    /// A real etcd started for the server (the `etcd` binary must be
    /// installed).
    Etcd,
}

/// Starts a bootstrapped server on `backend`, serving on a task of the
/// current tokio runtime.
pub async fn server(backend: Backend) -> Server {
    server_with(backend, crate::Config::default()).await
}

/// [`server`], set up as `config` says (small address ranges, ...).
pub async fn server_with(backend: Backend, config: crate::Config) -> Server {
    let dir = tempfile::tempdir().expect("a temporary directory can be created");
    let (url, etcd) = match backend {
        Backend::Embedded => (format!("embedded:{}", dir.path().display()), None),
        Backend::Etcd => {
            let etcd = EtcdProcess::start()
                .await
                .unwrap_or_else(|err| panic!("cannot start etcd: {err}"));
            (etcd.url(), Some(etcd))
        }
    };
    let store = keelson_store::open(&url)
        .await
        .unwrap_or_else(|err| panic!("cannot open the store {url}: {err}"));
    crate::bootstrap_with(store.clone(), &config)
        .await
        .unwrap_or_else(|err| panic!("cannot bootstrap the server: {err}"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback has free ports");
    tokio::spawn(default_accounts(Arc::clone(&store), config.clone()));
    serve_on(store, config, listener, dir, etcd)
}

/// A `default` ServiceAccount in every active namespace, made (beneath
/// the HTTP layer, so that no client sees requests of its own, nor the
/// audit log) once the namespace is seen; a namespace whose account could
/// not be made is tried again on the next look.
async fn default_accounts(store: Arc<dyn Store>, config: crate::Config) {
    use keelson_api::registry;
    let (store, encrypted) = crate::encryption::wrap(store, config.encryption.as_ref());
    let caches = crate::watch::Caches::new(Arc::clone(&store));
    let objects = crate::objects_of(store, encrypted, &config, &caches, None);
    let namespaces = registry::by_resource("", "namespaces").expect("namespaces are registered");
    let accounts =
        registry::by_resource("", "serviceaccounts").expect("service accounts are registered");
    let mut done = std::collections::HashSet::new();
    loop {
        let listed = objects
            .list(namespaces, None, &crate::objects::ListOptions::default())
            .await;
        let items = listed.map(|mut l| l["items"].take()).unwrap_or_default();
        for namespace in items.as_array().into_iter().flatten() {
            let metadata = &namespace["metadata"];
            let (Some(name), Some(uid)) = (metadata["name"].as_str(), metadata["uid"].as_str())
            else {
                continue;
            };
            if done.contains(uid) || !metadata["deletionTimestamp"].is_null() {
                continue;
            }
            let account = serde_json::json!({"metadata": {"name": "default", "namespace": name}});
            let options = crate::objects::WriteOptions::default();
            match objects
                .create(accounts, Some(name), account, &options)
                .await
            {
                Ok(_) => {}
                Err(err) if err.reason == keelson_api::StatusReason::AlreadyExists => {}
                Err(_) => continue,
            }
            done.insert(uid.to_string());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn serve_on(
    store: Arc<dyn Store>,
    config: crate::Config,
    listener: tokio::net::TcpListener,
    dir: tempfile::TempDir,
    etcd: Option<EtcdProcess>,
) -> Server {
    let address = listener
        .local_addr()
        .expect("a bound socket has an address");
    tokio::spawn(crate::serve_with(
        listener,
        Arc::clone(&store),
        config,
        std::future::pending(),
    ));
    let uri = format!("http://{address}")
        .parse()
        .expect("a socket address makes a URI");
    Server {
        client: Client::try_from(kube::Config::new(uri)).expect("a plain HTTP client"),
        store,
        address,
        _dir: dir,
        _etcd: etcd,
    }
}

impl Server {
    /// Another server on the same store, set up as `config` says (as this
    /// one restarted with another configuration); this one must outlive it.
    pub async fn beside(&self, config: crate::Config) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("loopback has free ports");
        let dir = tempfile::tempdir().expect("a temporary directory can be created");
        serve_on(Arc::clone(&self.store), config, listener, dir, None)
    }

    /// The temp dir of the embedded store (`store.redb` is in it).
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }
}

/// The server on the embedded store.
pub async fn embedded() -> Server {
    server(Backend::Embedded).await
}

/// One `#[tokio::test]` per backend for each scenario, an `async
/// fn(Server)` in the calling module: `on_every_backend!(a, b)` makes
/// `embedded::a`, `etcd::a`, `embedded::b` and `etcd::b`. The calling crate
/// needs tokio (with its `macros` and `rt` features) among its
/// dev-dependencies.
#[macro_export]
macro_rules! on_every_backend {
    ($($scenario:ident),+ $(,)?) => {
        $crate::on_every_backend!(@module embedded Embedded $($scenario)+);
        $crate::on_every_backend!(@module etcd Etcd $($scenario)+);
    };
    (@module $module:ident $backend:ident $($scenario:ident)+) => {
        mod $module {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(
                        $crate::testing::server($crate::testing::Backend::$backend).await,
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
    /// The HTTP status code.
    pub code: u16,
    /// The response headers.
    pub headers: http::HeaderMap,
    /// The body parsed as JSON, or `Value::Null`.
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
        self.send(request).await
    }

    /// A JSON request that accepts only `accept` in return.
    pub async fn raw_accept(
        &self,
        method: &str,
        path: &str,
        accept: &str,
        body: impl Into<Vec<u8>>,
    ) -> Answer {
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, accept)
            .body(Body::from(body.into()))
            .expect("a request");
        self.send(request).await
    }

    /// A JSON request with extra headers (`Authorization`,
    /// `Impersonate-User`, ...); `Value::Null` sends no body.
    pub async fn json_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> Answer {
        let mut request = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::CONTENT_TYPE, "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let bytes = match body.is_null() {
            true => Vec::new(),
            false => serde_json::to_vec(body).expect("a JSON value serializes"),
        };
        self.send(request.body(Body::from(bytes)).expect("a request"))
            .await
    }

    async fn send(&self, request: http::Request<Body>) -> Answer {
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

    /// A JSON request (`Value::Null` sends no body).
    pub async fn json(&self, method: &str, path: &str, body: &Value) -> Answer {
        let bytes = if body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(body).expect("a JSON value serializes")
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
pub async fn watch(server: &Server, path: &str) -> BoxStream<'static, Value> {
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
pub async fn next_event(events: &mut BoxStream<'static, Value>) -> Value {
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
