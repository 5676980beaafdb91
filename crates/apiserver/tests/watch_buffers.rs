//! Watches under load as a client sees them: the initial events are every
//! object, in order, whether the watch has no resourceVersion, `0` or
//! `sendInitialEvents`; a watcher that never reads has its watch ended
//! once its buffer is full, while the others go on and writes succeed,
//! and it loses nothing when it watches again from where it was; a
//! kube-rs watcher that stalls catches up.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::runtime::{WatchStreamExt, reflector, watcher};
use serde_json::{Value, json};
use support::{Server, embedded, next_event, seen, watch};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CONFIG_MAPS: &str = "/api/v1/namespaces/default/configmaps";

/// Creates a ConfigMap `name` in `namespace` with `bytes` of data.
async fn create(server: &Server, namespace: &str, name: &str, bytes: usize) -> Value {
    let object = json!({"metadata": {"name": name}, "data": {"payload": "x".repeat(bytes)}});
    let path = format!("/api/v1/namespaces/{namespace}/configmaps");
    let answer = server.json("POST", &path, &object).await;
    assert_eq!(answer.code, 201, "{}", answer.body);
    answer.body
}

fn revision(event: &Value) -> i64 {
    event["object"]["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|rv| rv.parse().ok())
        .unwrap_or_else(|| panic!("an event with a resourceVersion: {event}"))
}

#[tokio::test]
async fn initial_events_are_every_object_in_key_order_then_the_changes() {
    let server = embedded().await;
    let created = server
        .json(
            "POST",
            "/api/v1/namespaces",
            &json!({"metadata": {"name": "other"}}),
        )
        .await;
    assert_eq!(created.code, 201);
    // Created out of order: the initial events come in key order.
    let names: Vec<String> = (0..300).rev().map(|i| format!("cm-{i:03}")).collect();
    for name in &names {
        create(&server, "default", name, 64).await;
    }
    create(&server, "other", "elsewhere", 64).await;
    let mut sorted = names.clone();
    sorted.sort();
    let queries = [
        "watch=true",
        "watch=true&resourceVersion=0",
        "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
    ];
    for (i, query) in queries.iter().enumerate() {
        let mut events = watch(&server, &format!("{CONFIG_MAPS}?{query}")).await;
        let mut newest = 0;
        for want in &sorted {
            let event = next_event(&mut events).await;
            assert_eq!(seen(&event), ("ADDED".into(), want.clone()), "{query}");
            newest = newest.max(revision(&event));
        }
        if query.contains("sendInitialEvents") {
            let bookmark = next_event(&mut events).await;
            assert_eq!(bookmark["type"], "BOOKMARK", "{query}: {bookmark}");
            let end = &bookmark["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"];
            assert_eq!(end, "true");
            assert!(revision(&bookmark) >= newest, "{bookmark}");
        }
        // Then the changes, none missed.
        let patch = json!({"data": {"round": i.to_string()}});
        let answer = server
            .raw(
                "PATCH",
                &format!("{CONFIG_MAPS}/cm-007"),
                "application/merge-patch+json",
                serde_json::to_vec(&patch).unwrap(),
            )
            .await;
        assert_eq!(answer.code, 200, "{}", answer.body);
        let change = next_event(&mut events).await;
        assert_eq!(seen(&change), ("MODIFIED".into(), "cm-007".into()));
        assert_eq!(change["object"]["data"]["round"], i.to_string());
    }
    // A watch of every namespace: the other namespace's object too.
    let mut all = watch(&server, "/api/v1/configmaps?watch=true").await;
    let mut seen_names = BTreeSet::new();
    while !seen_names.contains("elsewhere") {
        assert!(seen_names.len() <= 1000, "no object of the other namespace");
        seen_names.insert(seen(&next_event(&mut all).await).1);
    }
    assert!(sorted.iter().all(|name| seen_names.contains(name)));
}

/// Objects written while one watcher never reads.
const FLOOD: usize = 160;
/// Their size: the flood is several times what a watcher may have
/// waiting (16 MiB) plus what the sockets hold.
const FLOOD_BYTES: usize = 256 * 1024;

/// Starts a watch on its own connection and reads only its response head.
async fn unread_watch(server: &Server, path: &str) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(server.address)
        .await
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", server.address);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 200"), "{head:?}");
    stream
}

/// Reads a chunked response body to its end (within 60 s) and returns
/// its lines as JSON.
async fn read_to_end(mut stream: tokio::net::TcpStream) -> Vec<Value> {
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut body = None;
    while body.is_none() {
        let n = tokio::time::timeout(Duration::from_secs(60), stream.read(&mut buf))
            .await
            .expect("the server ends the watch")
            .unwrap();
        assert!(n > 0, "the connection closed before the response ended");
        raw.extend_from_slice(&buf[..n]);
        body = dechunk(&raw);
    }
    body.unwrap()
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).unwrap())
        .collect()
}

/// The body of a complete chunked encoding, or `None` while it goes on.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&raw[..line_end]).unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        let start = line_end + 2;
        if raw.len() < start + size + 2 {
            return None;
        }
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(&raw[start..start + size]);
        raw = &raw[start + size + 2..];
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_that_never_reads_is_closed_once_its_buffer_is_full() {
    let server = embedded().await;
    let slow = unread_watch(&server, &format!("{CONFIG_MAPS}?watch=true")).await;
    let mut fast = watch(&server, &format!("{CONFIG_MAPS}?watch=true")).await;
    let reader = tokio::spawn(async move {
        let mut revisions = Vec::new();
        while revisions.len() < FLOOD {
            let event = tokio::time::timeout(Duration::from_secs(60), fast.next())
                .await
                .unwrap_or_else(|_| panic!("stalled after {} events", revisions.len()))
                .expect("the reading watch goes on");
            assert_eq!(event["type"], "ADDED");
            revisions.push(revision(&event));
        }
        revisions
    });
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let client = server.client.clone();
            tokio::spawn(async move {
                let api: Api<ConfigMap> = Api::namespaced(client, "default");
                for i in (w..FLOOD).step_by(4) {
                    let object: ConfigMap = serde_json::from_value(json!({
                        "metadata": {"name": format!("cm-{i:04}")},
                        "data": {"payload": "x".repeat(FLOOD_BYTES)},
                    }))
                    .unwrap();
                    api.create(&Default::default(), &object).await.unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let all = reader.await.unwrap();

    // The watcher that never read was ended, having had only the start.
    let got = read_to_end(slow).await;
    assert!(!got.is_empty() && got.len() < FLOOD, "{} events", got.len());
    let revisions: Vec<i64> = got.iter().map(revision).collect();
    assert_eq!(revisions, all[..got.len()], "in order, none skipped");

    // Watching again from the last event it saw, it gets the rest.
    let last = revisions.last().unwrap();
    let mut again = watch(
        &server,
        &format!("{CONFIG_MAPS}?watch=true&resourceVersion={last}"),
    )
    .await;
    for want in &all[got.len()..] {
        assert_eq!(revision(&next_event(&mut again).await), *want);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kube_rs_watcher_that_stalls_catches_up() {
    let server = embedded().await;
    let api: Api<ConfigMap> = Api::namespaced(server.client.clone(), "default");
    let (store, writer) = reflector::store();
    let mut objects = reflector(writer, watcher(api.clone(), watcher::Config::default()))
        .applied_objects()
        .boxed();
    // Started and listed: then it stops reading while the flood goes by.
    create(&server, "default", "first", 16).await;
    tokio::time::timeout(Duration::from_secs(10), objects.next())
        .await
        .expect("the watcher starts")
        .expect("an object")
        .expect("no error");
    for i in 0..FLOOD {
        create(&server, "default", &format!("cm-{i:04}"), FLOOD_BYTES).await;
    }
    let caught_up = async {
        while store.state().len() < FLOOD + 1 {
            objects.next().await.expect("the watcher goes on").ok();
        }
    };
    tokio::time::timeout(Duration::from_secs(60), caught_up)
        .await
        .expect("the watcher catches up");
    assert!(
        store
            .get(&reflector::ObjectRef::new("cm-0000").within("default"))
            .is_some()
    );
}
