//! What one connection is doing, and so when it expires: the requests in
//! flight (from the call of the service until its response body is done
//! with), when it went idle, and whether the next request's first bytes
//! have come. [`deadline`] turns that into the moment the connection is
//! closed; [`Metered`] notes the bytes as hyper reads them.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

/// The two deadlines of a connection.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timeouts {
    pub read_header: Duration,
    pub idle: Duration,
}

/// What the deadlines are computed from.
#[derive(Debug, Clone)]
pub(super) struct State {
    pub accepted: Instant,
    /// Requests whose responses are not yet done with.
    pub in_flight: usize,
    /// Requests whose headers have come, over the connection's life.
    pub requests: u64,
    /// When the last request in flight ended (the accept before any).
    pub idle_since: Instant,
    /// When the next request's first bytes came, if they have (HTTP/1).
    pub head_started: Option<Instant>,
    /// HTTP/2: bytes while idle are pings and window updates, not a head.
    pub multiplexed: bool,
    /// The server asked it to close (it is stopping, or needs the room).
    pub closing: bool,
}

impl State {
    fn new(now: Instant) -> Self {
        Self {
            accepted: now,
            in_flight: 0,
            requests: 0,
            idle_since: now,
            head_started: None,
            multiplexed: false,
            closing: false,
        }
    }

    /// Whether a request has begun that has not reached the service: its
    /// connection can be dropped without a goodbye.
    fn head_pending(&self) -> bool {
        self.requests == 0 || (self.head_started.is_some() && !self.multiplexed)
    }
}

/// When a connection is to be closed, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Deadline {
    /// Not while a request is in flight.
    Never,
    /// At this moment, with a goodbye (keep-alive off, or HTTP/2 GOAWAY).
    Close(Instant),
    /// At this moment, at once: a request's headers are overdue.
    Drop(Instant),
}

/// The deadline of a connection in `state`.
pub(super) fn deadline(state: &State, timeouts: Timeouts) -> Deadline {
    if state.in_flight > 0 {
        return Deadline::Never;
    }
    let at = match (state.requests, state.head_started) {
        (0, _) => state.accepted + timeouts.read_header,
        (_, Some(start)) if !state.multiplexed => start + timeouts.read_header,
        _ => state.idle_since + timeouts.idle,
    };
    // Asked to close: now, which is before every deadline.
    let at = if state.closing { state.idle_since } else { at };
    match state.head_pending() {
        true => Deadline::Drop(at),
        false => Deadline::Close(at),
    }
}

/// One connection's activity, shared by its requests, its IO and its task.
#[derive(Debug)]
pub(super) struct Activity {
    timeouts: Timeouts,
    state: Mutex<State>,
    /// Idle after a request, until the next one's first bytes: only then
    /// does a read concern the deadline (so most reads take no lock).
    awaiting_bytes: AtomicBool,
    changed: Notify,
}

impl Activity {
    pub(super) fn new(timeouts: Timeouts) -> Self {
        Self {
            timeouts,
            state: Mutex::new(State::new(Instant::now())),
            awaiting_bytes: AtomicBool::new(false),
            changed: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A request's headers have come; the connection is busy until the
    /// returned guard is dropped.
    pub(super) fn begin(self: &Arc<Self>, http2: bool) -> Busy {
        let mut state = self.state();
        state.in_flight += 1;
        state.requests += 1;
        state.head_started = None;
        state.multiplexed |= http2;
        self.awaiting_bytes.store(false, Ordering::Relaxed);
        // No wake-up: a deadline only goes away; the task finds out when
        // the old one passes.
        Busy(Arc::clone(self))
    }

    fn end(&self) {
        let mut state = self.state();
        state.in_flight -= 1;
        if state.in_flight == 0 {
            state.idle_since = Instant::now();
            self.awaiting_bytes.store(true, Ordering::Relaxed);
            self.changed.notify_one();
        }
    }

    /// Bytes were read from the client.
    fn bytes_arrived(&self) {
        if !self.awaiting_bytes.swap(false, Ordering::Relaxed) {
            return;
        }
        let mut state = self.state();
        if state.in_flight == 0 && state.head_started.is_none() {
            state.head_started = Some(Instant::now());
            self.changed.notify_one();
        }
    }

    /// Asks the connection to close: at once if idle, else once its
    /// requests end.
    pub(super) fn close(&self) {
        self.state().closing = true;
        self.changed.notify_one();
    }

    /// Whether the connection was asked to close.
    pub(super) fn is_closing(&self) -> bool {
        self.state().closing
    }

    /// Since when the connection has been idle, if it is and it has not
    /// been asked to close already.
    pub(super) fn idle_since(&self) -> Option<Instant> {
        let state = self.state();
        (state.in_flight == 0 && !state.closing).then_some(state.idle_since)
    }

    /// Completes when the connection's deadline passes; true if it may be
    /// closed with a goodbye, false if it is to be dropped at once.
    pub(super) async fn expired(&self) -> bool {
        loop {
            // A change between reading the deadline and waiting is kept by
            // `Notify` as a permit, so none is missed.
            let deadline = deadline(&self.state(), self.timeouts);
            let (at, polite) = match deadline {
                Deadline::Never => {
                    self.changed.notified().await;
                    continue;
                }
                Deadline::Close(at) => (at, true),
                Deadline::Drop(at) => (at, false),
            };
            if at <= Instant::now() {
                return polite;
            }
            tokio::select! {
                () = tokio::time::sleep_until(at) => {}
                () = self.changed.notified() => {}
            }
        }
    }
}

/// A request in flight; dropping it ends the request.
#[derive(Debug)]
pub(super) struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// A connection's stream, telling its [`Activity`] when bytes come.
pub(super) struct Metered<S> {
    stream: S,
    activity: Arc<Activity>,
}

impl<S> Metered<S> {
    pub(super) fn new(stream: S, activity: Arc<Activity>) -> Self {
        Self { stream, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Metered<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.bytes_arrived();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Metered<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUTS: Timeouts = Timeouts {
        read_header: Duration::from_secs(32),
        idle: Duration::from_secs(90),
    };

    fn at(start: Instant, seconds: u64) -> Instant {
        start + Duration::from_secs(seconds)
    }

    #[test]
    fn deadlines_follow_what_the_connection_is_doing() {
        let t0 = Instant::now();
        let fresh = State::new(t0);
        let served = State {
            requests: 3,
            idle_since: at(t0, 10),
            ..fresh.clone()
        };
        let cases = [
            (
                "a new connection: headers due",
                fresh.clone(),
                Deadline::Drop(at(t0, 32)),
            ),
            (
                "a request in flight, a watch say",
                State {
                    in_flight: 1,
                    requests: 1,
                    ..fresh.clone()
                },
                Deadline::Never,
            ),
            (
                "idle after requests",
                served.clone(),
                Deadline::Close(at(t0, 100)),
            ),
            (
                "the next request's head begun",
                State {
                    head_started: Some(at(t0, 20)),
                    ..served.clone()
                },
                Deadline::Drop(at(t0, 52)),
            ),
            (
                "HTTP/2 pings while idle",
                State {
                    head_started: Some(at(t0, 20)),
                    multiplexed: true,
                    ..served.clone()
                },
                Deadline::Close(at(t0, 100)),
            ),
            (
                "asked to close while idle",
                State {
                    closing: true,
                    ..served.clone()
                },
                Deadline::Close(at(t0, 10)),
            ),
            (
                "asked to close before any request",
                State {
                    closing: true,
                    ..fresh.clone()
                },
                Deadline::Drop(t0),
            ),
            (
                "asked to close while busy",
                State {
                    closing: true,
                    in_flight: 2,
                    ..served.clone()
                },
                Deadline::Never,
            ),
        ];
        for (case, state, expected) in cases {
            assert_eq!(deadline(&state, TIMEOUTS), expected, "{case}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_expires_after_the_idle_timeout_and_a_busy_one_never() {
        let activity = Arc::new(Activity::new(TIMEOUTS));
        let busy = activity.begin(false);
        let waited = tokio::time::timeout(Duration::from_secs(3600), activity.expired()).await;
        assert!(waited.is_err(), "a request in flight has no deadline");
        let idle_from = Instant::now();
        drop(busy);
        assert!(activity.expired().await, "idle: closed with a goodbye");
        assert_eq!(Instant::now() - idle_from, TIMEOUTS.idle);
    }

    #[tokio::test(start_paused = true)]
    async fn close_expires_an_idle_connection_at_once() {
        let activity = Arc::new(Activity::new(TIMEOUTS));
        drop(activity.begin(false));
        let start = Instant::now();
        let expired = tokio::spawn({
            let activity = Arc::clone(&activity);
            async move { activity.expired().await }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        activity.close();
        assert!(expired.await.expect("the task ends"));
        assert_eq!(Instant::now() - start, Duration::from_secs(1));
    }
}
