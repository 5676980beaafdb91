//! One connection: with TLS, its handshake first (within the deadline for
//! the first request's headers), then served by hyper (HTTP/1.1, or HTTP/2
//! when it opens with the HTTP/2 preface) through the router, until it
//! ends or its deadline passes; or, when there is no room for it, answered
//! `429` and closed.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, Version, header};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use keelson_api::ApiError;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use super::activity::{Activity, Busy, Metered};
use super::open::{Open, Slot};
use super::tls::{PeerCertificates, peer_certificates};
use crate::auth::x509::ClientCertificates;

/// How long a closing connection may take to say goodbye (HTTP/2 GOAWAY)
/// before it is dropped.
const GOODBYE: Duration = Duration::from_secs(1);

/// The longest a refused connection is kept, to read its request and answer.
const REFUSAL: Duration = Duration::from_secs(5);

/// The seconds a refused client is told to wait.
const RETRY_AFTER_SECONDS: i32 = 1;

/// The connection builders, one for served connections, one for refused,
/// and the TLS acceptor (`None`: plain HTTP).
pub(super) struct Builders {
    served: auto::Builder<TokioExecutor>,
    refused: auto::Builder<TokioExecutor>,
    tls: Option<TlsAcceptor>,
}

impl Builders {
    pub(super) fn new(tls: Option<TlsAcceptor>) -> Self {
        let mut served = auto::Builder::new(TokioExecutor::new());
        // The headers' deadline is kept by `Activity` (see the module doc
        // of `serve`); hyper's would also cut idle keep-alive connections.
        served.http1().header_read_timeout(None);
        let mut refused = auto::Builder::new(TokioExecutor::new());
        refused.http1().header_read_timeout(None).keep_alive(false);
        Self {
            served,
            refused,
            tls,
        }
    }
}

/// Serves (or refuses) `stream` on a task of its own.
pub(super) fn spawn(
    stream: TcpStream,
    open: &Arc<Open>,
    router: &Router,
    builders: &Arc<Builders>,
) {
    // Small answers go out at once, as Go's server sends them.
    let _ = stream.set_nodelay(true);
    let builders = Arc::clone(builders);
    match open.admit() {
        Some(slot) => {
            let router = router.clone();
            tokio::spawn(async move { admitted(stream, slot, router, &builders).await });
        }
        None => {
            let deadline = open.timeouts().read_header.min(REFUSAL);
            tokio::spawn(async move {
                let _ = tokio::time::timeout(deadline, refused(stream, &builders)).await;
            });
        }
    }
}

/// Serves an admitted connection, after its TLS handshake if the server
/// speaks TLS; a handshake that fails or outlasts the deadline for the
/// first request's headers closes the connection.
async fn admitted(stream: TcpStream, slot: Slot, router: Router, builders: &Builders) {
    // Where the client is, for the audit log's sourceIPs.
    let client = Client {
        address: stream.peer_addr().ok(),
        certificates: None,
    };
    let Some(tls) = &builders.tls else {
        return serve(stream, slot, router, client, &builders.served).await;
    };
    let activity = Arc::clone(&slot.activity);
    let handshake = tokio::select! {
        handshake = tls.accept(stream) => handshake,
        _ = activity.expired() => return,
    };
    match handshake {
        Ok(stream) => {
            let peer = peer_certificates(stream.get_ref().1);
            let client = Client {
                certificates: peer.map(|peer| {
                    // Authentication reads the verified chain as DER, its
                    // leaf once for all the connection's requests.
                    let chain = peer.0.iter().map(|der| der.as_ref().to_vec()).collect();
                    (peer, ClientCertificates::new(chain))
                }),
                ..client
            };
            serve(stream, slot, router, client, &builders.served).await;
        }
        Err(err) => tracing::debug!(error = %err, "TLS handshake failed"),
    }
}

/// Who is at the other end of a connection: its address and verified
/// certificate chain (as TLS gave it, and as authentication reads it),
/// which go into each of its requests' extensions.
#[derive(Clone)]
struct Client {
    address: Option<std::net::SocketAddr>,
    certificates: Option<(PeerCertificates, ClientCertificates)>,
}

/// Serves one admitted connection until it ends or expires.
async fn serve<S>(
    stream: S,
    slot: Slot,
    router: Router,
    client: Client,
    builder: &auto::Builder<TokioExecutor>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::clone(&slot.activity);
    let io = TokioIo::new(Metered::new(stream, Arc::clone(&activity)));
    let service = Tracked {
        router,
        activity: Arc::clone(&activity),
        client,
    };
    let mut connection = std::pin::pin!(builder.serve_connection_with_upgrades(io, service));
    let polite = tokio::select! {
        served = connection.as_mut() => {
            if let Err(err) = served {
                tracing::debug!(error = %err, "connection ended with an error");
            }
            return;
        }
        polite = activity.expired() => polite,
    };
    if polite {
        connection.as_mut().graceful_shutdown();
        let _ = tokio::time::timeout(GOODBYE, connection).await;
    }
    drop(slot);
}

/// Refuses a connection there is no room for, after its TLS handshake if
/// the server speaks TLS (the caller bounds how long that may take).
async fn refused(stream: TcpStream, builders: &Builders) {
    match &builders.tls {
        None => refuse(stream, &builders.refused).await,
        Some(tls) => {
            if let Ok(stream) = tls.accept(stream).await {
                refuse(stream, &builders.refused).await;
            }
        }
    }
}

/// Answers every request of a connection there is no room for with `429`
/// and closes it (the caller bounds how long that may take).
async fn refuse<S>(stream: S, builder: &auto::Builder<TokioExecutor>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(|_request| async { Ok::<_, Infallible>(refusal()) });
    let _ = builder
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// The answer to a request on a connection there is no room for.
fn refusal() -> Response<Body> {
    let error = ApiError::too_many_requests(
        "the server has too many open connections, please try again later",
        RETRY_AFTER_SECONDS,
    );
    let mut response = Response::new(Body::from(error.to_wire()));
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    response
}

/// The router, counting each request as in flight until its response body
/// is done with (for a watch, until the watch ends).
#[derive(Clone)]
struct Tracked {
    router: Router,
    activity: Arc<Activity>,
    client: Client,
}

type Answer = Result<Response<TrackedBody>, Infallible>;

impl hyper::service::Service<Request<Incoming>> for Tracked {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Answer> + Send>>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        if let Some(address) = self.client.address {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(address));
        }
        if let Some((peer, chain)) = &self.client.certificates {
            let extensions = request.extensions_mut();
            extensions.insert(chain.clone());
            extensions.insert(peer.clone());
        }
        let busy = self.activity.begin(request.version() == Version::HTTP_2);
        let router = self.router.clone();
        Box::pin(async move {
            let response = router.oneshot(request).await?;
            Ok(response.map(|body| TrackedBody { body, _busy: busy }))
        })
    }
}

/// A response body that keeps its request in flight while it exists.
struct TrackedBody {
    body: Body,
    _busy: Busy,
}

impl HttpBody for TrackedBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
