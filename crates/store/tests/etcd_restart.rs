//! The etcd backend against a real etcd that gets killed and restarted: a
//! watch delivers every event exactly once across the crash, unary calls fail
//! with `Unavailable` while etcd is down and work again on the same
//! `EtcdStore` once it is back. Also what only a real etcd can show: dropped
//! watches are canceled in etcd, compaction errors name the compacted
//! revision, 1.5 MiB values fit.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use futures::StreamExt;
use keelson_harness::etcd::EtcdProcess;
use keelson_store::etcd::EtcdStore;
use keelson_store::{
    Event, EventKind, MAX_VALUE_BYTES, RangeRequest, Revision, Store, StoreError, WatchStream,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PREFIX: &str = "/registry/core/configmaps/default/";

async fn start() -> Result<(EtcdProcess, EtcdStore)> {
    let etcd = EtcdProcess::start().await?;
    let store = EtcdStore::connect(&[etcd.endpoint()]).await?;
    Ok((etcd, store))
}

fn key(name: &str) -> String {
    format!("{PREFIX}{name}")
}

/// Reads `count` events from a watch on another task, so the watch keeps
/// trying to resume while the test kills and restarts etcd.
fn collect(mut watch: WatchStream, count: usize) -> tokio::task::JoinHandle<Result<Vec<Event>>> {
    tokio::spawn(async move {
        let mut events = Vec::new();
        while events.len() < count {
            let next = tokio::time::timeout(Duration::from_secs(90), watch.next()).await;
            match next.context("no watch event within 90 s")? {
                Some(event) => events.push(event?),
                None => bail!("the watch ended after {} events", events.len()),
            }
        }
        Ok(events)
    })
}

#[tokio::test]
async fn a_watch_survives_an_etcd_crash_without_gap_or_repeat() -> Result<()> {
    let (mut etcd, store) = start().await?;
    for name in ["a", "b"] {
        store.create(&key(name), Bytes::from("before")).await?;
    }
    let first = store.current_revision().await? + 1;
    let watch = store.watch(PREFIX, 0).await?;
    // Three writes before the crash, four after: seven events.
    let events = collect(watch, 7);
    store.create(&key("c"), Bytes::from("1")).await?;
    let b = store.get(&key("b")).await?.context("b exists")?;
    store
        .update(&key("b"), Bytes::from("2"), b.mod_revision)
        .await?;
    store.delete(&key("a"), None).await?;

    etcd.kill()?;
    let err = store.get(&key("b")).await.expect_err("etcd is down");
    ensure!(matches!(err, StoreError::Unavailable(_)), "get: {err:?}");
    ensure!(err.to_string().contains(&etcd.endpoint()), "{err}");
    let err = store
        .create(&key("d"), Bytes::from("x"))
        .await
        .expect_err("etcd is down");
    ensure!(matches!(err, StoreError::Unavailable(_)), "create: {err:?}");
    // Long enough for the watch to retry a few times.
    tokio::time::sleep(Duration::from_secs(1)).await;

    etcd.restart().await?;
    let d = store.create(&key("d"), Bytes::from("3")).await?;
    store
        .update(&key("d"), Bytes::from("4"), d.mod_revision)
        .await?;
    store.create(&key("e"), Bytes::from("5")).await?;
    store.delete(&key("c"), Some(first)).await?;

    let events = events.await??;
    let seen: Vec<_> = events
        .iter()
        .map(|e| (e.kind, e.kv.key.trim_start_matches(PREFIX), e.revision()))
        .collect();
    let want: Vec<_> = [
        (EventKind::Put, "c"),
        (EventKind::Put, "b"),
        (EventKind::Delete, "a"),
        (EventKind::Put, "d"),
        (EventKind::Put, "d"),
        (EventKind::Put, "e"),
        (EventKind::Delete, "c"),
    ]
    .into_iter()
    .zip(first..)
    .map(|((kind, name), revision)| (kind, name, revision))
    .collect();
    assert_eq!(seen, want);
    // Previous values travel with the events across the restart too.
    assert_eq!(
        events[4].prev.as_ref().map(|p| p.value.clone()),
        Some(Bytes::from("3"))
    );
    assert_eq!(
        events[6].prev.as_ref().map(|p| p.value.clone()),
        Some(Bytes::from("1"))
    );
    Ok(())
}

#[tokio::test]
async fn a_watch_from_an_old_revision_replays_then_follows_across_a_crash() -> Result<()> {
    let (mut etcd, store) = start().await?;
    let a = store.create(&key("a"), Bytes::from("1")).await?;
    store.create(&key("b"), Bytes::from("2")).await?;
    let events = collect(store.watch(PREFIX, a.mod_revision).await?, 3);

    etcd.kill()?;
    etcd.restart().await?;
    store.create(&key("c"), Bytes::from("3")).await?;

    let revisions: Vec<Revision> = events.await??.iter().map(Event::revision).collect();
    assert_eq!(
        revisions,
        vec![a.mod_revision, a.mod_revision + 1, a.mod_revision + 2]
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_far_behind_still_sees_every_event_once() -> Result<()> {
    // More responses than a watch buffers (1024), so it pauses and resumes.
    const WRITES: usize = 1500;
    let (_etcd, store) = start().await?;
    let store = std::sync::Arc::new(store);
    let first = store.current_revision().await? + 1;
    let mut watch = store.watch(PREFIX, 0).await?;
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..WRITES / 8 {
                    store
                        .create(&key(&format!("{w}-{i}")), Bytes::from("v"))
                        .await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for writer in writers {
        writer.await??;
    }
    let written = WRITES / 8 * 8;
    let mut revisions = Vec::new();
    while revisions.len() < written {
        let event = tokio::time::timeout(Duration::from_secs(30), watch.next())
            .await
            .context("no watch event within 30 s")?
            .context("the watch ended")??;
        revisions.push(event.revision());
    }
    let want: Vec<Revision> = (first..).take(written).collect();
    assert_eq!(revisions, want);
    Ok(())
}

#[tokio::test]
async fn a_dropped_watch_is_canceled_in_etcd() -> Result<()> {
    let (etcd, store) = start().await?;
    let before = watchers(&etcd).await?;
    let watch = store.watch(PREFIX, 0).await?;
    ensure!(
        watchers(&etcd).await? == before + 1,
        "the watch is registered"
    );
    drop(watch);
    for _ in 0..100 {
        if watchers(&etcd).await? == before {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("etcd still has the dropped watch after 5 s")
}

#[tokio::test]
async fn compacted_revisions_are_reported_with_the_compaction_point() -> Result<()> {
    let (_etcd, store) = start().await?;
    let a = store.create(&key("a"), Bytes::from("1")).await?;
    let b = store
        .update(&key("a"), Bytes::from("2"), a.mod_revision)
        .await?;
    store.compact(b.mod_revision).await?;
    // Compacting again at or below is a no-op, as in the embedded store.
    store.compact(a.mod_revision).await?;

    let old = RangeRequest {
        prefix: PREFIX.to_string(),
        revision: Some(a.mod_revision),
        ..Default::default()
    };
    match store.range(old).await {
        Err(StoreError::Compacted {
            requested,
            compacted,
        }) => {
            assert_eq!((requested, compacted), (a.mod_revision, b.mod_revision));
        }
        other => bail!("range at a compacted revision: {other:?}"),
    }
    match store.watch(PREFIX, a.mod_revision).await {
        Err(StoreError::Compacted {
            requested,
            compacted,
        }) => {
            assert_eq!((requested, compacted), (a.mod_revision, b.mod_revision));
        }
        Err(err) => bail!("watch at a compacted revision: {err:?}"),
        Ok(_) => bail!("watch at a compacted revision succeeded"),
    }
    let future = b.mod_revision + 10;
    match store.compact(future).await {
        Err(StoreError::FutureRevision { requested, current }) => {
            assert_eq!((requested, current), (future, b.mod_revision));
        }
        other => bail!("compact in the future: {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn values_of_the_maximum_size_round_trip() -> Result<()> {
    let (_etcd, store) = start().await?;
    let value = Bytes::from(vec![b'x'; MAX_VALUE_BYTES]);
    for name in ["a", "b", "c"] {
        store.create(&key(name), value.clone()).await?;
    }
    let page = store
        .range(RangeRequest {
            prefix: PREFIX.to_string(),
            ..Default::default()
        })
        .await?;
    ensure!(page.kvs.len() == 3 && page.kvs.iter().all(|kv| kv.value == value));
    let err = store
        .create(&key("big"), Bytes::from(vec![0; MAX_VALUE_BYTES + 1]))
        .await
        .expect_err("over the limit");
    ensure!(matches!(err, StoreError::ValueTooLarge { .. }), "{err:?}");
    Ok(())
}

#[tokio::test]
async fn a_missing_etcd_binary_says_how_to_install_it() {
    // The binary is passed explicitly: setting KEELSON_ETCD_BIN would leak
    // into the other tests of this process.
    let err = EtcdProcess::builder()
        .binary("/nonexistent/etcd")
        .start()
        .await
        .expect_err("there is no etcd at /nonexistent");
    assert_eq!(
        err.to_string(),
        "etcd was not found at /nonexistent/etcd: install Debian's etcd-server package \
         (`apt-get install etcd-server`)"
    );
}

/// etcd's count of open watchers, from its Prometheus metrics.
async fn watchers(etcd: &EtcdProcess) -> Result<u64> {
    let mut conn = tokio::net::TcpStream::connect(etcd.endpoint()).await?;
    let request = format!(
        "GET /metrics HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        etcd.endpoint()
    );
    conn.write_all(request.as_bytes()).await?;
    let mut body = String::new();
    conn.read_to_string(&mut body).await?;
    let line = body
        .lines()
        .find(|l| l.starts_with("etcd_debugging_mvcc_watcher_total "))
        .context("etcd reports no watcher count")?;
    let count = line.rsplit(' ').next().unwrap_or_default();
    Ok(count.trim().parse::<f64>()? as u64)
}
