//! Watches: the initial state (for `resourceVersion` "" or "0", or
//! `sendInitialEvents=true`), then the store's changes as ADDED, MODIFIED
//! and DELETED events, with selectors applied (an object that stops
//! matching is DELETED for the watcher, one that starts matching ADDED),
//! periodic bookmarks, `timeoutSeconds`, and 410 Gone as an ERROR event.
//!
//! Each watch runs in its own task, writing into a small channel that the
//! response body drains as the client reads: the lines are made only as
//! fast as the client takes them. The initial events are the lines the
//! cache keeps for its objects, read from a snapshot that every watcher
//! shares, so a watcher costs no copy of the objects. A client that stops
//! reading stalls only its own task; once its buffer in the cache is full
//! the cache closes its watcher and the watch ends.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use keelson_api::ApiError;
use keelson_api::registry::{self, ResourceInfo};
use keelson_store::{StoreError, WatchStream};
use serde_json::{Value, json};

use super::{Params, as_table};
use crate::AppState;
use crate::http::negotiation::{self, Form};
use crate::http::path::Target;
use crate::http::response::{ApiResult, Failure};
use crate::objects::{self, list::Filter};
use crate::watch::{
    Batch, CachedEvent, CachedObject, EventBatch, Receiver, Seen, Under, event_line,
};

/// How often a watch that allows bookmarks gets one.
const BOOKMARK_INTERVAL: Duration = Duration::from_secs(15);
/// Chunks of lines waiting for the client per watch. The lines are
/// mostly the cache's own (shared, not copied), so this bounds the work
/// done ahead of the client more than the memory.
const BUFFER: usize = 16;

/// What a watch request asks for, parsed up front so that bad parameters
/// are a plain 400 before the stream starts.
struct WatchRequest {
    resource: &'static ResourceInfo,
    namespace: Option<String>,
    filter: Filter,
    /// Where to start: `None` sends the current state first.
    from: Option<i64>,
    initial_events_end: bool,
    bookmarks: bool,
    timeout: Duration,
    /// The form of each event's object.
    form: Form,
    params: Params,
}

/// Starts a watch response.
pub async fn serve(
    state: &AppState,
    target: Target,
    params: Params,
    form: Form,
) -> ApiResult<Response> {
    let request = parse(&target, &params, form)?;
    let (tx, rx) = mpsc::channel::<Bytes>(BUFFER);
    let state = state.clone();
    tokio::spawn(async move {
        let timeout = request.timeout;
        let mut stopping = state.stopping.clone();
        tokio::select! {
            _ = tokio::time::timeout(timeout, run(state, request, tx)) => {}
            _ = stopping.wait_for(|stop| *stop) => {}
        }
    });
    let body = Body::from_stream(rx.map(Ok::<_, std::convert::Infallible>));
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

fn parse(target: &Target, params: &Params, form: Form) -> ApiResult<WatchRequest> {
    objects::list::validate_watch_options(params)?;
    let resource = target.resource;
    let filter = Filter::new(
        resource,
        params.get("labelSelector").map(String::as_str),
        params.get("fieldSelector").map(String::as_str),
    )?;
    let send_initial = params.get("sendInitialEvents").is_some_and(|v| v == "true");
    let rv = params
        .get("resourceVersion")
        .map(String::as_str)
        .unwrap_or("");
    let from = match rv {
        _ if send_initial => None,
        "" | "0" => None,
        rv => Some(objects::parse_resource_version(rv)?),
    };
    let timeout = match params.get("timeoutSeconds") {
        Some(t) => Duration::from_secs(t.parse().map_err(|_| {
            Failure(ApiError::bad_request(format!(
                "invalid timeoutSeconds {t:?}"
            )))
        })?),
        // Upstream ends watches after 30 to 60 minutes.
        None => Duration::from_secs(1800 + u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * 7),
    };
    Ok(WatchRequest {
        resource,
        namespace: target.namespace.clone(),
        filter,
        from,
        initial_events_end: send_initial,
        bookmarks: params
            .get("allowWatchBookmarks")
            .is_some_and(|v| v == "true"),
        timeout,
        form: match form {
            Form::MetadataList => {
                return Err(Failure(negotiation::wrong_shape(Form::MetadataList)));
            }
            form => form,
        },
        params: params.clone(),
    })
}

/// Streams the events of one watch into `tx` until the client goes away.
async fn run(state: AppState, request: WatchRequest, tx: mpsc::Sender<Bytes>) {
    let mut out = Out { tx };
    if let Err(err) = stream(&state, &request, &mut out).await {
        let _ = out.tx.send(event_line("ERROR", &err.to_json())).await;
    }
}

/// Where a watch's lines go: the response body, through a small channel.
struct Out {
    tx: mpsc::Sender<Bytes>,
}

impl Out {
    /// Sends `line` once the client has room; false once the client is
    /// gone, or once `live`'s watcher is closed while waiting for room.
    async fn send(&mut self, line: Bytes, live: Option<&Receiver>) -> bool {
        let line = match self.tx.try_send(line) {
            Ok(()) => return true,
            Err(err) if err.is_disconnected() => return false,
            Err(err) => err.into_inner(),
        };
        match live {
            Some(live) => tokio::select! {
                biased;
                _ = live.closed() => false,
                sent = self.tx.send(line) => sent.is_ok(),
            },
            None => self.tx.send(line).await.is_ok(),
        }
    }
}

/// Where a watch's events come from.
enum Source {
    /// The resource's watch cache.
    Cache(Receiver),
    /// The store directly, for a resourceVersion older than the cache's window.
    Store(WatchStream),
}

impl Source {
    /// The cache's watcher, whose closing ends the watch.
    fn watcher(&self) -> Option<&Receiver> {
        match self {
            Source::Cache(live) => Some(live),
            Source::Store(_) => None,
        }
    }

    async fn next(&mut self, resource: &ResourceInfo) -> Next {
        match self {
            Source::Cache(live) => match live.recv().await {
                Some(batch) => Next::Events(batch),
                // Closed by the cache: too far behind, or the cache failed.
                None => Next::End,
            },
            Source::Store(events) => match events.next().await {
                Some(Ok(event)) => match CachedEvent::decode(resource, &event) {
                    Ok(event) => Next::Events(Arc::new(EventBatch::new(vec![Arc::new(event)]))),
                    Err(err) => Next::Failed(StoreError::Internal(err.message)),
                },
                Some(Err(err)) => Next::Failed(err),
                None => Next::End,
            },
        }
    }
}

enum Next {
    Events(Batch),
    Failed(StoreError),
    End,
}

/// Where a watch starts, and what it is owed first.
struct Start {
    source: Source,
    /// The revision the watcher has seen once the replay is sent.
    last: i64,
    initial: Initial,
}

/// What a watch is owed before the live events.
enum Initial {
    /// The objects of a snapshot, as ADDED events.
    Objects(Under),
    /// The cache's recent events after the requested revision.
    Replay(Vec<Arc<CachedEvent>>),
}

async fn start(state: &AppState, request: &WatchRequest, prefix: &str) -> Result<Start, ApiError> {
    let cache = state.caches.of(request.resource).await?;
    let Some(from) = request.from else {
        let (snapshot, live) = cache.watch_now().ok_or_else(restarting)?;
        return Ok(Start {
            source: Source::Cache(live),
            last: snapshot.revision(),
            initial: Initial::Objects(snapshot.under(prefix)),
        });
    };
    if let Some((replay, live)) = cache.watch_from(from) {
        let last = replay.last().map_or(from, |event| event.revision);
        return Ok(Start {
            source: Source::Cache(live),
            last,
            initial: Initial::Replay(replay),
        });
    }
    let events = state
        .objects
        .store()
        .watch(prefix, from + 1)
        .await
        .map_err(|err| too_old(err, from))?;
    Ok(Start {
        source: Source::Store(events),
        last: from,
        initial: Initial::Replay(Vec::new()),
    })
}

/// Sends what the watch is owed first; false once the watch is over.
async fn send_initial(
    request: &WatchRequest,
    out: &mut Out,
    prefix: &str,
    initial: Initial,
    live: Option<&Receiver>,
) -> bool {
    match initial {
        Initial::Objects(objects) => {
            for object in objects.filter(|o| o.selected_by(&request.filter)) {
                let line = match request.form {
                    Form::Object => object.added_line(),
                    _ => formed_line(request, "ADDED", &object.parsed()),
                };
                if !out.send(line, live).await {
                    return false;
                }
            }
            true
        }
        Initial::Replay(events) => {
            for event in events.iter().filter(|e| e.key.starts_with(prefix)) {
                if let Some(line) = render(request, event)
                    && !out.send(line, live).await
                {
                    return false;
                }
            }
            true
        }
    }
}

async fn stream(state: &AppState, request: &WatchRequest, out: &mut Out) -> Result<(), ApiError> {
    let resource = request.resource;
    let prefix = registry::storage_prefix(resource, request.namespace.as_deref());
    let Start {
        mut source,
        mut last,
        initial,
    } = start(state, request, &prefix).await?;
    if !send_initial(request, out, &prefix, initial, source.watcher()).await {
        return Ok(());
    }
    if request.initial_events_end {
        let mut bookmark = bookmark(resource, last);
        bookmark["metadata"]["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        if !out
            .send(event_line("BOOKMARK", &bookmark), source.watcher())
            .await
        {
            return Ok(());
        }
    }
    let mut ticks = tokio::time::interval(BOOKMARK_INTERVAL);
    ticks.tick().await;
    loop {
        let line = tokio::select! {
            next = source.next(resource) => match next {
                Next::Events(batch) => batch_lines(request, &prefix, &batch, &mut last),
                Next::Failed(err) => return Err(too_old(err, last)),
                Next::End => return Ok(()),
            },
            _ = ticks.tick(), if request.bookmarks => {
                Some(event_line("BOOKMARK", &bookmark(resource, last)))
            }
        };
        if let Some(line) = line
            && !out.send(line, source.watcher()).await
        {
            return Ok(());
        }
    }
}

/// The lines this watcher gets for a batch, if any; `last` moves past it.
fn batch_lines(
    request: &WatchRequest,
    prefix: &str,
    batch: &EventBatch,
    last: &mut i64,
) -> Option<Bytes> {
    if shares_plain_lines(request, prefix, batch, *last) {
        // The common case: no selectors, every event new to this watcher:
        // the lines are joined once for all.
        *last = batch.last().map_or(*last, |event| event.revision);
        return Some(batch.plain_lines());
    }
    let mut chunk = BytesMut::new();
    let seen = *last;
    for event in batch.iter().filter(|event| event.revision > seen) {
        *last = event.revision;
        if event.key.starts_with(prefix)
            && let Some(line) = render(request, event)
        {
            chunk.extend_from_slice(&line);
        }
    }
    (!chunk.is_empty()).then(|| chunk.freeze())
}

fn restarting() -> ApiError {
    ApiError::service_unavailable("the watch cache is restarting; try again")
}

/// Whether this watcher gets exactly a batch's shared plain lines.
fn shares_plain_lines(request: &WatchRequest, prefix: &str, batch: &EventBatch, last: i64) -> bool {
    request.form == Form::Object
        && request.filter.is_everything()
        && batch.first().is_some_and(|event| event.revision > last)
        && batch.iter().all(|event| event.key.starts_with(prefix))
}

/// How this watcher sees a change, after its selectors; `None` to skip it.
fn classify(request: &WatchRequest, event: &CachedEvent) -> Option<Seen> {
    if request.filter.is_everything() {
        return Some(event.plain());
    }
    let matches = |object: &Option<Arc<CachedObject>>| {
        object
            .as_ref()
            .is_some_and(|o| request.filter.matches(o.value()))
    };
    match (&event.new, matches(&event.new), matches(&event.old)) {
        (Some(_), true, true) => Some(Seen::Modified),
        (Some(_), true, false) => Some(Seen::Added),
        (Some(_), false, true) => Some(Seen::LeftSelector),
        (None, _, true) => Some(Seen::Deleted),
        _ => None,
    }
}

/// The line this watcher gets for a change, if any.
fn render(request: &WatchRequest, event: &CachedEvent) -> Option<Bytes> {
    let seen = classify(request, event)?;
    Some(match request.form {
        Form::Object => event.line(seen),
        _ => formed_line(request, seen.event_type(), &event.object(seen)),
    })
}

/// A watch event with its object in the form the client asked for.
fn formed_line(request: &WatchRequest, event_type: &str, object: &Value) -> Bytes {
    match request.form {
        Form::Table => table_line(request, event_type, object),
        Form::Metadata => event_line(event_type, &negotiation::metadata_of(object)),
        Form::Object | Form::MetadataList => event_line(event_type, object),
    }
}

/// A watch event whose object is a one-row Table.
fn table_line(request: &WatchRequest, event_type: &str, object: &Value) -> Bytes {
    match as_table(
        request.resource,
        std::slice::from_ref(object),
        &request.params,
    ) {
        Ok(mut table) => {
            table["metadata"] = json!({"resourceVersion": object["metadata"]["resourceVersion"]});
            event_line(event_type, &table)
        }
        Err(_) => event_line(event_type, object),
    }
}

fn bookmark(resource: &ResourceInfo, revision: i64) -> Value {
    json!({
        "kind": resource.kind,
        "apiVersion": resource.api_version(),
        "metadata": {"resourceVersion": revision.to_string()},
    })
}

/// 410 Gone for a watch from a compacted revision.
fn too_old(err: StoreError, from: i64) -> ApiError {
    match err {
        StoreError::Compacted { compacted, .. } => {
            ApiError::gone(format!("too old resource version: {from} ({compacted})"))
        }
        other => crate::http::response::store_error(other, "", "", ""),
    }
}
