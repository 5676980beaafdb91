//! One resource holding more than the etcd client takes in one gRPC message
//! (64 MiB), on a real etcd: a list returns all of it as one snapshot (also
//! page by page through the store's own limit), a watch from its first
//! revision replays every write, and both still do after etcd restarts.
//! Also: a revision that etcd splits across two watch fragments arrives
//! whole.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use futures::StreamExt;
use keelson_harness::etcd::EtcdProcess;
use keelson_store::etcd::EtcdStore;
use keelson_store::{Event, EventKind, KeyValue, RangeRequest, Revision, Store, WatchStream};

const PREFIX: &str = "/registry/core/configmaps/big/";
/// Small values sorted before the large ones, so that a read sized by the
/// small ones meets the large ones mid-way.
const SMALL: usize = 100;
const LARGE: usize = 72;
const LARGE_BYTES: usize = 1024 * 1024;
/// Large values updated after their creation: their events carry two large
/// values (the new one and the previous one).
const UPDATED: usize = 3;

/// What the test wrote, in revision order.
struct Written {
    first: Revision,
    writes: Vec<KeyValue>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_over_64_mib_is_listed_and_watched_before_and_after_a_restart() -> Result<()> {
    let mut etcd = EtcdProcess::start().await?;
    let store = Arc::new(EtcdStore::connect(&[etcd.endpoint()]).await?);
    let written = write_resource(&store).await?;
    let total: usize = latest(&written).map(|kv| kv.value.len()).sum();
    ensure!(total > 64 * 1024 * 1024, "only {total} bytes written");

    check_reads(&store, &written)
        .await
        .context("before the restart")?;
    etcd.restart().await?;
    check_reads(&store, &written)
        .await
        .context("after the restart")?;
    Ok(())
}

#[tokio::test]
async fn a_revision_split_across_watch_fragments_arrives_whole() -> Result<()> {
    let etcd = EtcdProcess::start().await?;
    let store = EtcdStore::connect(&[etcd.endpoint()]).await?;
    let mut client = etcd_client::Client::connect([etcd.endpoint()], None).await?;
    let value = vec![b'v'; 1400 * 1024];
    let a = store.create(&key("a"), Bytes::from(value.clone())).await?;
    // Two keys in one revision (keelson never writes so, another client
    // may). A watch that catches up gets the three large values in one
    // response, which etcd splits at its --max-request-bytes (3 MiB here):
    // between b and c.
    let txn = etcd_client::Txn::new().and_then([
        etcd_client::TxnOp::put(key("b"), value.clone(), None),
        etcd_client::TxnOp::put(key("c"), value, None),
    ]);
    client.txn(txn).await?;
    store.create(&key("d"), Bytes::from("small")).await?;

    let events = collect(store.watch(PREFIX, a.mod_revision).await?, 4).await?;
    let seen: Vec<_> = events
        .iter()
        .map(|e| (e.kv.key.trim_start_matches(PREFIX), e.revision()))
        .collect();
    let r = a.mod_revision;
    assert_eq!(seen, [("a", r), ("b", r + 1), ("c", r + 1), ("d", r + 2)]);
    Ok(())
}

/// Every read the test makes of the resource.
async fn check_reads(store: &Arc<EtcdStore>, written: &Written) -> Result<()> {
    let want: Vec<KeyValue> = latest(written).cloned().collect();
    let all = store.range(request(None, None)).await?;
    ensure!(!all.more, "a read without a limit left keys out");
    assert_same(&all.kvs, &want).context("a list of everything")?;

    let paged = list_in_pages(store, 50).await?;
    assert_same(&paged, &want).context("a list through limit and continue")?;

    let before_updates = written.writes[SMALL + LARGE - 1].mod_revision;
    let old = store.range(request(None, Some(before_updates))).await?;
    ensure!(old.revision == before_updates, "served at {}", old.revision);
    let want_old = &written.writes[..SMALL + LARGE];
    assert_same(&old.kvs, want_old).context("a list at an older revision")?;

    check_snapshot_under_writes(store).await?;
    check_watch(store, written).await
}

/// Writes the small values, the large ones, then updates a few large ones.
async fn write_resource(store: &EtcdStore) -> Result<Written> {
    let first = store.current_revision().await? + 1;
    let mut writes = Vec::new();
    for i in 0..SMALL {
        let value = Bytes::from(format!("small value {i}"));
        writes.push(store.create(&key(&format!("a-{i:03}")), value).await?);
    }
    for i in 0..LARGE {
        writes.push(
            store
                .create(&key(&format!("b-{i:03}")), large(i, 0))
                .await?,
        );
    }
    for i in 0..UPDATED {
        let created = &writes[SMALL + i];
        let updated = store
            .update(&created.key, large(i, 1), created.mod_revision)
            .await?;
        writes.push(updated);
    }
    Ok(Written { first, writes })
}

/// The value of large key `i`, distinct per key and per `generation`.
fn large(i: usize, generation: u8) -> Bytes {
    let mut value = vec![b'a' + (i % 26) as u8 + generation; LARGE_BYTES];
    value[..8].copy_from_slice(format!("{i:04}-{generation:03}").as_bytes());
    Bytes::from(value)
}

fn key(name: &str) -> String {
    format!("{PREFIX}{name}")
}

fn request(limit: Option<usize>, revision: Option<Revision>) -> RangeRequest {
    RangeRequest {
        prefix: PREFIX.to_string(),
        start_after: None,
        revision,
        limit,
    }
}

/// The latest value of every key, in key order.
fn latest(written: &Written) -> impl Iterator<Item = &KeyValue> {
    let mut by_key = std::collections::BTreeMap::new();
    for kv in &written.writes {
        by_key.insert(kv.key.as_str(), kv);
    }
    by_key.into_values()
}

/// Reads the resource `limit` keys at a time, as the API server's chunked
/// lists do: every page at the first page's revision.
async fn list_in_pages(store: &EtcdStore, limit: usize) -> Result<Vec<KeyValue>> {
    let mut kvs = Vec::new();
    let mut next = request(Some(limit), None);
    loop {
        let page = store.range(next.clone()).await?;
        ensure!(page.kvs.len() <= limit, "a page of {}", page.kvs.len());
        ensure!(
            next.revision.is_none_or(|r| r == page.revision),
            "a page served at {} instead of {:?}",
            page.revision,
            next.revision
        );
        kvs.extend(page.kvs.iter().cloned());
        if !page.more {
            return Ok(kvs);
        }
        next.start_after = page.kvs.last().map(|kv| kv.key.clone());
        next.revision = Some(page.revision);
    }
}

/// A list of the latest revision while another task keeps writing to the
/// same prefix returns one snapshot: exactly the writes up to the revision
/// it reports.
async fn check_snapshot_under_writes(store: &Arc<EtcdStore>) -> Result<()> {
    let before = store.range(request(None, None)).await?.kvs.len();
    let writer = {
        let store = Arc::clone(store);
        tokio::spawn(async move {
            let mut written = Vec::new();
            for i in 0..200 {
                let name = format!("z-{i:03}");
                written.push(store.create(&key(&name), Bytes::from("z")).await?);
            }
            anyhow::Ok(written)
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let listed = store.range(request(None, None)).await?;
    let written = writer.await??;
    let late = listed
        .kvs
        .iter()
        .find(|kv| kv.mod_revision > listed.revision);
    ensure!(late.is_none(), "a key newer than the list: {late:?}");
    let expected = written
        .iter()
        .filter(|kv| kv.mod_revision <= listed.revision)
        .count();
    ensure!(
        listed.kvs.len() == before + expected,
        "listed {} keys at revision {}, expected {} + {expected}",
        listed.kvs.len(),
        listed.revision,
        before
    );
    for kv in &written {
        store.delete(&kv.key, None).await?;
    }
    Ok(())
}

/// A watch from the resource's first revision replays each write in order
/// with its previous value.
async fn check_watch(store: &EtcdStore, written: &Written) -> Result<()> {
    let watch = store.watch(PREFIX, written.first).await?;
    let events = collect(watch, written.writes.len()).await?;
    for (i, (event, kv)) in events.iter().zip(&written.writes).enumerate() {
        ensure!(event.kind == EventKind::Put, "event {i}: {:?}", event.kind);
        ensure!(event.kv == *kv, "event {i} is {}", describe(&event.kv));
        let prev = written.writes[..i].iter().rev().find(|w| w.key == kv.key);
        ensure!(
            event.prev.as_ref() == prev,
            "event {i} has the previous value {:?}",
            event.prev.as_ref().map(describe)
        );
    }
    Ok(())
}

async fn collect(mut watch: WatchStream, count: usize) -> Result<Vec<Event>> {
    let mut events = Vec::new();
    while events.len() < count {
        let next = tokio::time::timeout(Duration::from_secs(30), watch.next()).await;
        match next.context("no watch event within 30 s")? {
            Some(event) => events.push(event?),
            None => bail!("the watch ended after {} events", events.len()),
        }
    }
    Ok(events)
}

/// Two lists of keys agree, key by key and value by value.
fn assert_same(got: &[KeyValue], want: &[KeyValue]) -> Result<()> {
    ensure!(
        got.len() == want.len(),
        "{} keys instead of {}",
        got.len(),
        want.len()
    );
    for (got, want) in got.iter().zip(want) {
        ensure!(
            got == want,
            "got {} where {} was expected",
            describe(got),
            describe(want)
        );
    }
    Ok(())
}

/// A key and its revisions, with the value's size and start (not 1 MiB of it).
fn describe(kv: &KeyValue) -> String {
    let head = String::from_utf8_lossy(&kv.value[..kv.value.len().min(16)]).into_owned();
    format!(
        "{} (created {}, modified {}, version {}, {} bytes {head:?})",
        kv.key,
        kv.create_revision,
        kv.mod_revision,
        kv.version,
        kv.value.len()
    )
}
