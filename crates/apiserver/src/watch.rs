//! Watches: the initial state (for `resourceVersion` "" or "0", or
//! `sendInitialEvents=true`), then the store's changes as ADDED, MODIFIED
//! and DELETED events, with selectors applied (an object that stops
//! matching is DELETED for the watcher, one that starts matching ADDED),
//! periodic bookmarks, `timeoutSeconds`, and 410 Gone as an ERROR event.
//!
//! Each watch runs in its own task writing into a small channel: a client
//! that stops reading stalls only its own task.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use keelson_api::ApiError;
use keelson_api::registry::{self, ResourceInfo};
use keelson_store::{Event, EventKind, StoreError};
use serde_json::{Value, json};

use crate::AppState;
use crate::handlers::{Params, as_table, wants_table};
use crate::objects::{self, ListOptions, decode, list::Filter};
use crate::path::Target;
use crate::response::{ApiResult, Failure};

/// How often a watch that allows bookmarks gets one.
const BOOKMARK_INTERVAL: Duration = Duration::from_secs(15);
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
    table: bool,
    params: Params,
}

/// Starts a watch response.
pub async fn serve(
    state: &AppState,
    target: Target,
    params: Params,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let request = parse(&target, &params, headers)?;
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

fn parse(target: &Target, params: &Params, headers: &HeaderMap) -> ApiResult<WatchRequest> {
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
        table: wants_table(headers),
        params: params.clone(),
    })
}

/// Streams the events of one watch into `tx` until the client goes away.
async fn run(state: AppState, request: WatchRequest, mut tx: mpsc::Sender<Bytes>) {
    if let Err(err) = stream(&state, &request, &mut tx).await {
        let _ = tx.send(line("ERROR", err.to_json())).await;
    }
}

async fn stream(
    state: &AppState,
    request: &WatchRequest,
    tx: &mut mpsc::Sender<Bytes>,
) -> Result<(), ApiError> {
    let resource = request.resource;
    let mut last = match request.from {
        Some(rv) => rv,
        None => {
            let list = state
                .objects
                .list(
                    resource,
                    request.namespace.as_deref(),
                    &ListOptions::default(),
                )
                .await?;
            for item in list["items"].as_array().into_iter().flatten() {
                if request.filter.matches(item) && !send(request, tx, "ADDED", item).await {
                    return Ok(());
                }
            }
            list["metadata"]["resourceVersion"]
                .as_str()
                .and_then(|rv| rv.parse().ok())
                .unwrap_or(0)
        }
    };
    if request.initial_events_end {
        let mut bookmark = bookmark(resource, last);
        bookmark["metadata"]["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        if tx.send(line("BOOKMARK", bookmark)).await.is_err() {
            return Ok(());
        }
    }
    let prefix = registry::storage_prefix(resource, request.namespace.as_deref());
    let mut events = state
        .objects
        .store()
        .watch(&prefix, last + 1)
        .await
        .map_err(|err| too_old(err, last))?;
    let mut ticks = tokio::time::interval(BOOKMARK_INTERVAL);
    ticks.tick().await;
    loop {
        tokio::select! {
            event = events.next() => {
                let Some(event) = event else { return Ok(()) };
                let event = event.map_err(|err| too_old(err, last))?;
                last = event.revision();
                if let Some((kind, object)) = translate(request, &event)?
                    && !send(request, tx, kind, &object).await
                {
                    return Ok(());
                }
            }
            _ = ticks.tick(), if request.bookmarks => {
                if tx.send(line("BOOKMARK", bookmark(resource, last))).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
}

/// The event a watcher sees for a store event, after its selectors.
fn translate(
    request: &WatchRequest,
    event: &Event,
) -> Result<Option<(&'static str, Value)>, ApiError> {
    let resource = request.resource;
    let new = match event.kind {
        EventKind::Put => Some(decode(resource, &event.kv)?),
        EventKind::Delete => None,
    };
    let old = event
        .prev
        .as_ref()
        .map(|kv| decode(resource, kv))
        .transpose()?;
    let new_matches = new.as_ref().is_some_and(|o| request.filter.matches(o));
    let old_matches = old.as_ref().is_some_and(|o| request.filter.matches(o));
    Ok(match (new, old) {
        (Some(new), _) if new_matches && old_matches => Some(("MODIFIED", new)),
        (Some(new), _) if new_matches => Some(("ADDED", new)),
        (Some(new), Some(_)) if old_matches => Some(("DELETED", new)),
        (None, Some(mut old)) if old_matches => {
            crate::meta::set_meta(
                &mut old,
                "resourceVersion",
                Some(Value::from(event.revision().to_string())),
            );
            Some(("DELETED", old))
        }
        _ => None,
    })
}

/// Sends one event; false once the client is gone.
async fn send(
    request: &WatchRequest,
    tx: &mut mpsc::Sender<Bytes>,
    kind: &str,
    object: &Value,
) -> bool {
    let object = if request.table {
        match as_table(
            request.resource,
            std::slice::from_ref(object),
            &request.params,
        ) {
            Ok(mut table) => {
                table["metadata"] =
                    json!({"resourceVersion": object["metadata"]["resourceVersion"]});
                table
            }
            Err(_) => object.clone(),
        }
    } else {
        object.clone()
    };
    tx.send(line(kind, object)).await.is_ok()
}

fn bookmark(resource: &ResourceInfo, revision: i64) -> Value {
    json!({
        "kind": resource.kind,
        "apiVersion": resource.api_version(),
        "metadata": {"resourceVersion": revision.to_string()},
    })
}

fn line(kind: &str, object: Value) -> Bytes {
    let mut bytes =
        serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// 410 Gone for a watch from a compacted revision.
fn too_old(err: StoreError, from: i64) -> ApiError {
    match err {
        StoreError::Compacted { compacted, .. } => {
            ApiError::gone(format!("too old resource version: {from} ({compacted})"))
        }
        other => crate::response::store_error(other, "", "", ""),
    }
}
