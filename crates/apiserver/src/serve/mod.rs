//! Serving the router on a listener: the accept loop and what bounds each
//! connection, so that clients that connect and then say nothing, or half
//! a request, cannot use up the server's file descriptors.
//!
//! As upstream's Go server: a client has [`ConnectionLimits::read_header_timeout`]
//! to send its first request's headers (counted from the accept) and each
//! later one's (counted from its first byte), and a keep-alive connection
//! may wait [`ConnectionLimits::idle_timeout`] for its next request. A
//! connection with a request in flight has no deadline: a watch streams for
//! as long as it lasts. At most [`ConnectionLimits::max_connections`] are
//! open at once: at the cap the connection idle longest is closed to make
//! room for the new one, and only when none is idle is the new one answered
//! `429 TooManyRequests` (a `Status` with `Retry-After`) and closed. An
//! accept that fails for want of file descriptors closes an idle connection
//! too, and every failing accept is retried after a short, growing pause.
//!
//! hyper has a header read timeout of its own, but it also bounds the wait
//! between requests (so no idle timeout could be longer) and does not cover
//! a connection that sends nothing at all (hyper-util's HTTP/1-or-2 sniffing
//! waits for the first bytes without a deadline): the deadlines are kept
//! here ([`activity`]) instead, for both protocols alike. With TLS, the
//! handshake comes first and counts against the first request's headers'
//! deadline.
//!
//! - [`open`]: the set of open connections, the cap and the choice of
//!   which idle one to close;
//! - [`activity`]: what one connection is doing and when it expires;
//! - [`connection`]: serving one connection until it ends or expires;
//! - [`tls`]: the TLS handshake of each connection, when the server
//!   speaks TLS, and the client certificates it verified.

mod activity;
mod connection;
mod open;
pub mod tls;

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use nix::errno::Errno;
use tokio::net::TcpListener;

use open::Open;

/// What bounds the server's connections; the defaults are upstream's
/// (kube-apiserver's Go server) where it has one.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// How long a client may take to send a request's headers: for a new
    /// connection counted from the accept, on a keep-alive one from the
    /// request's first byte (Go's `ReadHeaderTimeout`, 32 s upstream).
    pub read_header_timeout: Duration,
    /// How long a connection with no request in flight stays open waiting
    /// for the next one (Go's `IdleTimeout`, 90 s upstream).
    pub idle_timeout: Duration,
    /// The most connections open at once (upstream has no such cap and
    /// runs out of file descriptors instead).
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            read_header_timeout: Duration::from_secs(32),
            idle_timeout: Duration::from_secs(90),
            max_connections: 10_000,
        }
    }
}

/// The first pause after a failed accept; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(5);
/// The longest pause between failed accepts.
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` until `shutdown` completes, then stops
/// accepting, closes the idle connections at once and the others when their
/// requests end, and returns when all are closed.
/// With `tls`, every connection is TLS; without, plain HTTP.
pub(crate) async fn run(
    listener: TcpListener,
    router: Router,
    limits: &ConnectionLimits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let open = Arc::new(Open::new(limits));
    let builders = Arc::new(connection::Builders::new(tls));
    let mut shutdown = std::pin::pin!(shutdown);
    let mut pause = FIRST_PAUSE;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        match accepted {
            Ok((stream, _peer)) => {
                pause = FIRST_PAUSE;
                connection::spawn(stream, &open, &router, &builders);
            }
            Err(err) => pause = after_failed_accept(&err, &open, pause).await,
        }
    }
    drop(listener);
    open.close_all();
    open.emptied().await;
}

/// What a failed accept calls for.
#[derive(Debug, PartialEq, Eq)]
enum AcceptFailure {
    /// The client went away before it was accepted: accept the next one.
    Client,
    /// No file descriptor is left: close an idle connection, then pause.
    OutOfFiles,
    /// Anything else: pause, then try again.
    Other,
}

fn classify(err: &io::Error) -> AcceptFailure {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused
    ) {
        return AcceptFailure::Client;
    }
    match err.raw_os_error().map(Errno::from_raw) {
        Some(Errno::EMFILE | Errno::ENFILE) => AcceptFailure::OutOfFiles,
        _ => AcceptFailure::Other,
    }
}

/// Handles a failed accept and returns the pause for the next failure: a
/// failing accept must neither end the server nor spin.
async fn after_failed_accept(err: &io::Error, open: &Open, pause: Duration) -> Duration {
    let failure = classify(err);
    if failure == AcceptFailure::Client {
        return pause;
    }
    let closed_one = failure == AcceptFailure::OutOfFiles && open.close_idlest();
    tracing::warn!(error = %err, ?pause, closed_one, "failed to accept a connection; retrying");
    tokio::time::sleep(pause).await;
    (pause * 2).min(MAX_PAUSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_failures_are_told_apart() {
        let cases = [
            (
                io::Error::from(io::ErrorKind::ConnectionAborted),
                AcceptFailure::Client,
            ),
            (
                io::Error::from_raw_os_error(Errno::ECONNRESET as i32),
                AcceptFailure::Client,
            ),
            (
                io::Error::from_raw_os_error(Errno::EMFILE as i32),
                AcceptFailure::OutOfFiles,
            ),
            (
                io::Error::from_raw_os_error(Errno::ENFILE as i32),
                AcceptFailure::OutOfFiles,
            ),
            (
                io::Error::from_raw_os_error(Errno::ENOBUFS as i32),
                AcceptFailure::Other,
            ),
            (io::Error::other("odd"), AcceptFailure::Other),
        ];
        for (err, expected) in cases {
            assert_eq!(classify(&err), expected, "{err}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn failed_accepts_pause_longer_each_time_up_to_a_second() {
        let open = Open::new(&ConnectionLimits::default());
        let err = io::Error::from_raw_os_error(Errno::EMFILE as i32);
        let mut pause = FIRST_PAUSE;
        let mut pauses = Vec::new();
        for _ in 0..10 {
            pause = after_failed_accept(&err, &open, pause).await;
            pauses.push(pause.as_millis());
        }
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
        let gone = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(
            after_failed_accept(&gone, &open, FIRST_PAUSE).await,
            FIRST_PAUSE
        );
    }
}
