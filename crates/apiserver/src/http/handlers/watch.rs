//! Watches: the initial state (for `resourceVersion` "" or "0", or
//! `sendInitialEvents=true`), then the store's changes as ADDED, MODIFIED
//! and DELETED events, with selectors applied (an object that stops
//! matching is DELETED for the watcher, one that starts matching ADDED),
//! periodic bookmarks, `timeoutSeconds`, and 410 Gone as an ERROR event.
//!
//! Each watch runs in its own task writing into a small channel: a client
//! that stops reading stalls only its own task.

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
use tokio::sync::broadcast;

use super::{Params, as_table};
use crate::AppState;
use crate::http::negotiation::{self, Form};
use crate::http::path::Target;
use crate::http::response::{ApiResult, Failure};
use crate::objects::{self, list::Filter};
use crate::watch::{Batch, CachedEvent, EventBatch, Seen, event_line};

/// How often a watch that allows bookmarks gets one.
const BOOKMARK_INTERVAL: Duration = Duration::from_secs(15);
/// The most bytes of events sent to a client in one chunk.
const MAX_BATCH_BYTES: usize = 64 * 1024;
/// Events buffered per watcher before its task waits for the client.
const BUFFER: usize = 64;

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
async fn run(state: AppState, request: WatchRequest, mut tx: mpsc::Sender<Bytes>) {
    if let Err(err) = stream(&state, &request, &mut tx).await {
        let _ = tx.send(event_line("ERROR", &err.to_json())).await;
    }
}

/// Replays `events` after `last` to the watcher; false once it is gone.
async fn replay(
    request: &WatchRequest,
    tx: &mut mpsc::Sender<Bytes>,
    prefix: &str,
    events: Vec<Arc<CachedEvent>>,
    last: &mut i64,
) -> bool {
    for event in events {
        *last = event.revision;
        if event.key.starts_with(prefix) && !deliver(request, tx, &event).await {
            return false;
        }
    }
    true
}

async fn stream(
    state: &AppState,
    request: &WatchRequest,
    tx: &mut mpsc::Sender<Bytes>,
) -> Result<(), ApiError> {
    let resource = request.resource;
    let prefix = registry::storage_prefix(resource, request.namespace.as_deref());
    let cache = state.caches.of(resource).await?;
    let (mut last, mut source) = match request.from {
        None => {
            let (objects, revision, live) = cache.snapshot(&prefix).ok_or_else(restarting)?;
            for object in objects.iter().filter(|o| request.filter.matches(o)) {
                let line = formed_line(request, "ADDED", object);
                if tx.send(line).await.is_err() {
                    return Ok(());
                }
            }
            (revision, Source::Cache(live))
        }
        Some(from) => match cache.subscribe_from(from) {
            Some(subscription) => {
                let mut last = from;
                if !replay(request, tx, &prefix, subscription.replay, &mut last).await {
                    return Ok(());
                }
                (last, Source::Cache(subscription.live))
            }
            None => {
                let events = state
                    .objects
                    .store()
                    .watch(&prefix, from + 1)
                    .await
                    .map_err(|err| too_old(err, from))?;
                (from, Source::Store(events))
            }
        },
    };
    if request.initial_events_end {
        let mut bookmark = bookmark(resource, last);
        bookmark["metadata"]["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        if tx.send(event_line("BOOKMARK", &bookmark)).await.is_err() {
            return Ok(());
        }
    }
    let mut ticks = tokio::time::interval(BOOKMARK_INTERVAL);
    ticks.tick().await;
    loop {
        tokio::select! {
            next = source.next(resource) => {
                let batch = match next {
                    Next::Events(batch) => batch,
                    Next::Lagged => match cache.subscribe_from(last) {
                        Some(subscription) => {
                            source = Source::Cache(subscription.live);
                            if !replay(request, tx, &prefix, subscription.replay, &mut last).await {
                                return Ok(());
                            }
                            continue;
                        }
                        // Too far behind: end the watch; the client watches again.
                        None => return Ok(()),
                    },
                    Next::Failed(err) => return Err(too_old(err, last)),
                    Next::End => return Ok(()),
                };
                // Whatever else is already waiting goes out in the same
                // chunk: one write per batch, not per event.
                let mut chunk = BytesMut::new();
                let mut next = Some(batch);
                while let Some(batch) = next.take() {
                    if shares_plain_lines(request, &prefix, &batch, last) {
                        // The common case: no selectors, every event new to
                        // this watcher: the lines are joined once for all.
                        last = batch.last().map_or(last, |event| event.revision);
                        let lines = batch.plain_lines();
                        if chunk.is_empty() && source_is_idle(&mut source, &mut next) {
                            if tx.send(lines).await.is_err() {
                                return Ok(());
                            }
                            break;
                        }
                        chunk.extend_from_slice(&lines);
                    } else {
                        for event in batch.iter() {
                            if event.revision <= last {
                                continue;
                            }
                            last = event.revision;
                            if event.key.starts_with(&prefix)
                                && let Some(line) = render(request, event)
                            {
                                chunk.extend_from_slice(&line);
                            }
                        }
                    }
                    if next.is_none() && chunk.len() < MAX_BATCH_BYTES {
                        next = source.try_next();
                    }
                }
                if !chunk.is_empty() && tx.send(chunk.freeze()).await.is_err() {
                    return Ok(());
                }
            }
            _ = ticks.tick(), if request.bookmarks => {
                if tx.send(event_line("BOOKMARK", &bookmark(resource, last))).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
}

fn restarting() -> ApiError {
    ApiError::service_unavailable("the watch cache is restarting; try again")
}

/// Where a watch's events come from.
enum Source {
    /// The resource's watch cache.
    Cache(broadcast::Receiver<Batch>),
    /// The store directly, for a resourceVersion older than the cache's window.
    Store(WatchStream),
}

enum Next {
    Events(Batch),
    Lagged,
    Failed(StoreError),
    End,
}

impl Source {
    /// An event that is ready now, without waiting.
    fn try_next(&mut self) -> Option<Batch> {
        match self {
            Source::Cache(live) => live.try_recv().ok(),
            Source::Store(_) => None,
        }
    }

    async fn next(&mut self, resource: &ResourceInfo) -> Next {
        match self {
            Source::Cache(live) => match live.recv().await {
                Ok(batch) => Next::Events(batch),
                Err(broadcast::error::RecvError::Lagged(_)) => Next::Lagged,
                Err(broadcast::error::RecvError::Closed) => Next::End,
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

/// Whether this watcher gets exactly a batch's shared plain lines.
fn shares_plain_lines(request: &WatchRequest, prefix: &str, batch: &EventBatch, last: i64) -> bool {
    request.form == Form::Object
        && request.filter.is_everything()
        && batch.first().is_some_and(|event| event.revision > last)
        && batch.iter().all(|event| event.key.starts_with(prefix))
}

/// Whether nothing else is waiting; if something is, it is put in `next`.
fn source_is_idle(source: &mut Source, next: &mut Option<Batch>) -> bool {
    *next = source.try_next();
    next.is_none()
}

/// How this watcher sees a change, after its selectors; `None` to skip it.
fn classify(request: &WatchRequest, event: &CachedEvent) -> Option<Seen> {
    let new_matches = event
        .new
        .as_ref()
        .is_some_and(|o| request.filter.matches(o));
    let old_matches = event
        .old
        .as_ref()
        .is_some_and(|o| request.filter.matches(o));
    match (&event.new, new_matches, old_matches) {
        (Some(_), true, true) => Some(Seen::Modified),
        (Some(_), true, false) => Some(Seen::Added),
        (Some(_), false, true) => Some(Seen::LeftSelector),
        (None, _, true) => Some(Seen::Deleted),
        _ => None,
    }
}

/// Sends one change as this watcher sees it; false once the client is gone.
async fn deliver(
    request: &WatchRequest,
    tx: &mut mpsc::Sender<Bytes>,
    event: &CachedEvent,
) -> bool {
    match render(request, event) {
        Some(line) => tx.send(line).await.is_ok(),
        None => true,
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
