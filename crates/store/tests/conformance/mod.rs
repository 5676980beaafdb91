//! The store contract as tests, generic over the `Store` trait. Each backend's
//! test file calls `conformance_suite!` with a function that makes a fresh,
//! empty store; every test then runs against that backend.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use keelson_store::{
    Event, EventKind, KeyValue, MAX_VALUE_BYTES, RangeRequest, Store, StoreError, WatchStream,
};

/// A fresh store and whatever keeps it alive (a temp dir, an etcd process).
pub struct Fixture {
    pub store: Arc<dyn Store>,
    pub _guard: Box<dyn std::any::Any + Send>,
}

/// Generates one `#[tokio::test]` per contract test for a backend.
#[macro_export]
macro_rules! conformance_suite {
    ($make:path) => {
        $crate::conformance_suite!(@tests $make;
            writes_report_revisions_and_versions,
            conditional_writes_fail_without_changing_anything,
            every_write_advances_the_revision_by_one,
            concurrent_creates_have_one_winner,
            concurrent_updates_have_one_winner,
            concurrent_deletes_have_one_winner,
            range_reads_a_prefix_in_key_order,
            range_pages_with_limit_and_start_after,
            pagination_stays_consistent_at_one_revision_while_writes_go_on,
            range_at_an_old_revision_sees_old_values,
            watch_from_an_old_revision_replays_history_in_order,
            watch_from_now_sees_live_writes_with_previous_values,
            watch_only_sees_its_prefix,
            compaction_makes_old_revisions_gone,
            large_values_round_trip_and_oversized_ones_are_refused,
            many_concurrent_watchers_each_see_every_event,
            bad_keys_are_refused,
            future_revisions_are_refused,
        );
    };
    (@tests $make:path; $($name:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let fixture = $make().await;
                conformance::$name(fixture.store.clone()).await;
            }
        )+
    };
}

fn val(s: &str) -> Bytes {
    Bytes::from(s.to_string())
}

async fn next_event(watch: &mut WatchStream) -> Event {
    tokio::time::timeout(Duration::from_secs(10), watch.next())
        .await
        .expect("a watch event within 10s")
        .expect("the watch stream is still open")
        .expect("a watch event, not an error")
}

async fn revision(store: &Arc<dyn Store>) -> i64 {
    store.current_revision().await.expect("current revision")
}

async fn all(store: &Arc<dyn Store>, prefix: &str, revision: Option<i64>) -> Vec<KeyValue> {
    store
        .range(RangeRequest {
            prefix: prefix.into(),
            revision,
            ..Default::default()
        })
        .await
        .expect("range")
        .kvs
}

pub async fn writes_report_revisions_and_versions(store: Arc<dyn Store>) {
    let created = store.create("/t/a", val("1")).await.unwrap();
    assert_eq!(created.create_revision, created.mod_revision);
    assert_eq!(created.version, 1);
    assert_eq!(created.value, val("1"));
    assert_eq!(store.get("/t/a").await.unwrap(), Some(created.clone()));

    let updated = store
        .update("/t/a", val("2"), created.mod_revision)
        .await
        .unwrap();
    assert_eq!(updated.create_revision, created.create_revision);
    assert_eq!(updated.mod_revision, created.mod_revision + 1);
    assert_eq!(updated.version, 2);
    assert_eq!(store.get("/t/a").await.unwrap().unwrap().value, val("2"));

    let deleted = store
        .delete("/t/a", Some(updated.mod_revision))
        .await
        .unwrap();
    assert_eq!(deleted, updated, "delete returns the value it removed");
    assert_eq!(store.get("/t/a").await.unwrap(), None);

    let again = store.create("/t/a", val("3")).await.unwrap();
    assert_eq!(again.version, 1, "a re-created key starts over");
    assert_eq!(again.create_revision, updated.mod_revision + 2);
}

pub async fn conditional_writes_fail_without_changing_anything(store: Arc<dyn Store>) {
    let kv = store.create("/t/a", val("1")).await.unwrap();
    let before = revision(&store).await;

    match store.create("/t/a", val("x")).await {
        Err(StoreError::AlreadyExists { key }) => assert_eq!(key, "/t/a"),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    match store.update("/t/a", val("x"), kv.mod_revision - 1).await {
        Err(StoreError::Conflict { current, .. }) => {
            assert_eq!(
                current.as_deref(),
                Some(&kv),
                "conflict carries the current value"
            )
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert!(matches!(
        store.delete("/t/a", Some(kv.mod_revision + 5)).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        store.update("/t/missing", val("x"), 1).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.delete("/t/missing", None).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(
        revision(&store).await,
        before,
        "failed writes take no revision"
    );
    assert_eq!(store.get("/t/a").await.unwrap(), Some(kv));
}

pub async fn every_write_advances_the_revision_by_one(store: Arc<dyn Store>) {
    let start = revision(&store).await;
    let mut last = start;
    for i in 0..20 {
        let kv = store.create(&format!("/t/k{i}"), val("v")).await.unwrap();
        assert_eq!(kv.mod_revision, last + 1);
        last = kv.mod_revision;
        let kv = store
            .update(&format!("/t/k{i}"), val("w"), kv.mod_revision)
            .await
            .unwrap();
        assert_eq!(kv.mod_revision, last + 1);
        last = kv.mod_revision;
    }
    let deleted = store.delete("/t/k0", None).await.unwrap();
    assert_eq!(deleted.key, "/t/k0");
    assert_eq!(revision(&store).await, start + 41);
}

async fn race<F, Fut>(n: usize, f: F) -> (usize, Vec<StoreError>)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<KeyValue, StoreError>> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(f(i))).collect();
    let mut wins = 0;
    let mut losses = Vec::new();
    for task in tasks {
        match task.await.expect("task") {
            Ok(_) => wins += 1,
            Err(err) => losses.push(err),
        }
    }
    (wins, losses)
}

pub async fn concurrent_creates_have_one_winner(store: Arc<dyn Store>) {
    let (wins, losses) = race(32, |i| {
        let store = store.clone();
        async move { store.create("/t/race", val(&i.to_string())).await }
    })
    .await;
    assert_eq!(wins, 1);
    assert!(
        losses
            .iter()
            .all(|e| matches!(e, StoreError::AlreadyExists { .. }))
    );
}

pub async fn concurrent_updates_have_one_winner(store: Arc<dyn Store>) {
    let kv = store.create("/t/race", val("0")).await.unwrap();
    let (wins, losses) = race(32, |i| {
        let store = store.clone();
        async move {
            store
                .update("/t/race", val(&i.to_string()), kv.mod_revision)
                .await
        }
    })
    .await;
    assert_eq!(wins, 1);
    assert_eq!(losses.len(), 31);
    assert!(
        losses
            .iter()
            .all(|e| matches!(e, StoreError::Conflict { .. }))
    );
    assert_eq!(store.get("/t/race").await.unwrap().unwrap().version, 2);
}

pub async fn concurrent_deletes_have_one_winner(store: Arc<dyn Store>) {
    let kv = store.create("/t/race", val("0")).await.unwrap();
    let (wins, losses) = race(32, |_| {
        let store = store.clone();
        async move { store.delete("/t/race", Some(kv.mod_revision)).await }
    })
    .await;
    assert_eq!(wins, 1);
    assert!(
        losses
            .iter()
            .all(|e| matches!(e, StoreError::NotFound { .. } | StoreError::Conflict { .. }))
    );
}

pub async fn range_reads_a_prefix_in_key_order(store: Arc<dyn Store>) {
    for key in ["/t/b", "/t/a", "/t/c/x", "/tt/a", "/s/a", "/t"] {
        store.create(key, val(key)).await.unwrap();
    }
    let keys: Vec<_> = all(&store, "/t/", None)
        .await
        .into_iter()
        .map(|kv| kv.key)
        .collect();
    assert_eq!(keys, ["/t/a", "/t/b", "/t/c/x"]);
    let response = store
        .range(RangeRequest {
            prefix: "/t/".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!response.more);
    assert_eq!(response.revision, revision(&store).await);
    assert_eq!(response.kvs[0].value, val("/t/a"));
}

async fn read_pages(
    store: &Arc<dyn Store>,
    prefix: &str,
    page: usize,
    at: Option<i64>,
) -> (Vec<KeyValue>, usize) {
    let mut out = Vec::new();
    let mut start_after = None;
    let mut revision = at;
    let mut pages = 0;
    loop {
        let response = store
            .range(RangeRequest {
                prefix: prefix.into(),
                start_after: start_after.clone(),
                revision,
                limit: Some(page),
            })
            .await
            .unwrap();
        pages += 1;
        assert!(response.kvs.len() <= page);
        revision = Some(response.revision);
        start_after = response.kvs.last().map(|kv| kv.key.clone());
        out.extend(response.kvs);
        if !response.more {
            return (out, pages);
        }
    }
}

pub async fn range_pages_with_limit_and_start_after(store: Arc<dyn Store>) {
    for i in 0..25 {
        store.create(&format!("/t/{i:03}"), val("v")).await.unwrap();
    }
    let (kvs, pages) = read_pages(&store, "/t/", 10, None).await;
    assert_eq!(pages, 3);
    let keys: Vec<_> = kvs.iter().map(|kv| kv.key.clone()).collect();
    let expected: Vec<_> = (0..25).map(|i| format!("/t/{i:03}")).collect();
    assert_eq!(keys, expected);
    let (_, pages) = read_pages(&store, "/t/", 25, None).await;
    assert_eq!(pages, 1, "an exact fit says there is no more");
}

pub async fn pagination_stays_consistent_at_one_revision_while_writes_go_on(store: Arc<dyn Store>) {
    for i in 0..60 {
        store
            .create(&format!("/t/{i:03}"), val("old"))
            .await
            .unwrap();
    }
    let snapshot = all(&store, "/t/", None).await;
    let first = store
        .range(RangeRequest {
            prefix: "/t/".into(),
            limit: Some(7),
            ..Default::default()
        })
        .await
        .unwrap();
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..60 {
                let key = format!("/t/{i:03}");
                if i % 3 == 0 {
                    store.delete(&key, None).await.unwrap();
                } else {
                    let kv = store.get(&key).await.unwrap().unwrap();
                    store
                        .update(&key, val("new"), kv.mod_revision)
                        .await
                        .unwrap();
                }
                store
                    .create(&format!("/t/{i:03}x"), val("new"))
                    .await
                    .unwrap();
            }
        })
    };
    let mut seen = first.kvs.clone();
    let (rest, _) = {
        let mut out = Vec::new();
        let mut start_after = first.kvs.last().map(|kv| kv.key.clone());
        let mut more = first.more;
        while more {
            let page = store
                .range(RangeRequest {
                    prefix: "/t/".into(),
                    start_after: start_after.clone(),
                    revision: Some(first.revision),
                    limit: Some(7),
                })
                .await
                .unwrap();
            assert_eq!(page.revision, first.revision);
            start_after = page.kvs.last().map(|kv| kv.key.clone());
            more = page.more;
            out.extend(page.kvs);
            tokio::task::yield_now().await;
        }
        (out, ())
    };
    writer.await.unwrap();
    seen.extend(rest);
    assert_eq!(seen, snapshot, "every page reads the first page's revision");
}

pub async fn range_at_an_old_revision_sees_old_values(store: Arc<dyn Store>) {
    let a = store.create("/t/a", val("a1")).await.unwrap();
    store.create("/t/b", val("b1")).await.unwrap();
    let then = revision(&store).await;
    store
        .update("/t/a", val("a2"), a.mod_revision)
        .await
        .unwrap();
    store.delete("/t/b", None).await.unwrap();
    store.create("/t/c", val("c1")).await.unwrap();

    let old: BTreeMap<_, _> = all(&store, "/t/", Some(then))
        .await
        .into_iter()
        .map(|kv| (kv.key, kv.value))
        .collect();
    assert_eq!(
        old,
        BTreeMap::from([("/t/a".into(), val("a1")), ("/t/b".into(), val("b1"))])
    );
    let now: BTreeMap<_, _> = all(&store, "/t/", None)
        .await
        .into_iter()
        .map(|kv| (kv.key, kv.value))
        .collect();
    assert_eq!(
        now,
        BTreeMap::from([("/t/a".into(), val("a2")), ("/t/c".into(), val("c1"))])
    );
}

pub async fn watch_from_an_old_revision_replays_history_in_order(store: Arc<dyn Store>) {
    let a = store.create("/t/a", val("1")).await.unwrap();
    let a2 = store
        .update("/t/a", val("2"), a.mod_revision)
        .await
        .unwrap();
    store.delete("/t/a", None).await.unwrap();
    let mut watch = store.watch("/t/", a.mod_revision).await.unwrap();

    let created = next_event(&mut watch).await;
    assert!(created.is_create());
    assert_eq!(created.kv, a);
    assert_eq!(created.prev, None);
    let modified = next_event(&mut watch).await;
    assert_eq!(modified.kind, EventKind::Put);
    assert!(!modified.is_create());
    assert_eq!(modified.kv, a2);
    assert_eq!(modified.prev.as_ref(), Some(&a));
    let deleted = next_event(&mut watch).await;
    assert_eq!(deleted.kind, EventKind::Delete);
    assert_eq!(deleted.kv.key, "/t/a");
    assert_eq!(deleted.revision(), a2.mod_revision + 1);
    assert_eq!(deleted.prev.as_ref(), Some(&a2));

    // History then live, with no gap and no repeat.
    let b = store.create("/t/b", val("b")).await.unwrap();
    assert_eq!(next_event(&mut watch).await.kv, b);
}

pub async fn watch_from_now_sees_live_writes_with_previous_values(store: Arc<dyn Store>) {
    store.create("/t/before", val("x")).await.unwrap();
    let mut watch = store.watch("/t/", 0).await.unwrap();
    let a = store.create("/t/a", val("1")).await.unwrap();
    let a2 = store
        .update("/t/a", val("2"), a.mod_revision)
        .await
        .unwrap();
    let event = next_event(&mut watch).await;
    assert_eq!(event.kv, a, "the write before the watch is not replayed");
    let event = next_event(&mut watch).await;
    assert_eq!((event.kv, event.prev), (a2, Some(a)));
}

pub async fn watch_only_sees_its_prefix(store: Arc<dyn Store>) {
    let mut watch = store.watch("/t/pods/", 0).await.unwrap();
    store.create("/t/pods0", val("no")).await.unwrap();
    store.create("/t/services/a", val("no")).await.unwrap();
    let pod = store.create("/t/pods/a", val("yes")).await.unwrap();
    assert_eq!(next_event(&mut watch).await.kv, pod);
}

async fn expect_compacted_watch(store: &Arc<dyn Store>, from: i64) {
    match store.watch("/t/", from).await {
        Err(StoreError::Compacted { .. }) => {}
        Err(other) => panic!("expected Compacted, got {other}"),
        Ok(mut watch) => {
            let item = tokio::time::timeout(Duration::from_secs(10), watch.next())
                .await
                .expect("an answer within 10s");
            assert!(
                matches!(item, Some(Err(StoreError::Compacted { .. }))),
                "expected a Compacted error, got {item:?}"
            );
        }
    }
}

pub async fn compaction_makes_old_revisions_gone(store: Arc<dyn Store>) {
    let mut kv = store.create("/t/a", val("0")).await.unwrap();
    let first = kv.mod_revision;
    for i in 1..10 {
        kv = store
            .update("/t/a", val(&i.to_string()), kv.mod_revision)
            .await
            .unwrap();
    }
    store.create("/t/gone", val("x")).await.unwrap();
    store.delete("/t/gone", None).await.unwrap();
    let target = kv.mod_revision;
    store.compact(target).await.unwrap();

    expect_compacted_watch(&store, first).await;
    match store
        .range(RangeRequest {
            prefix: "/t/".into(),
            revision: Some(first),
            ..Default::default()
        })
        .await
    {
        Err(StoreError::Compacted { .. }) => {}
        other => panic!("expected Compacted, got {other:?}"),
    }
    let at_target = all(&store, "/t/", Some(target)).await;
    assert_eq!(
        at_target,
        vec![kv.clone()],
        "the compacted revision itself stays readable"
    );
    let now = all(&store, "/t/", None).await;
    assert_eq!(now, vec![kv.clone()]);

    let mut watch = store.watch("/t/", target + 1).await.unwrap();
    let created = next_event(&mut watch).await;
    assert_eq!(created.kv.key, "/t/gone");
    let deleted = next_event(&mut watch).await;
    assert_eq!(deleted.kind, EventKind::Delete);
    let next = store
        .update("/t/a", val("after"), kv.mod_revision)
        .await
        .unwrap();
    let event = next_event(&mut watch).await;
    assert_eq!(event.kv, next);
    assert_eq!(event.prev, Some(kv), "previous values survive compaction");
}

pub async fn large_values_round_trip_and_oversized_ones_are_refused(store: Arc<dyn Store>) {
    let big: Bytes = (0..MAX_VALUE_BYTES)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<_>>()
        .into();
    let mut watch = store.watch("/t/", 0).await.unwrap();
    let kv = store.create("/t/big", big.clone()).await.unwrap();
    store.create("/t/big2", big.clone()).await.unwrap();
    assert_eq!(store.get("/t/big").await.unwrap().unwrap().value, big);
    assert_eq!(next_event(&mut watch).await.kv, kv);
    assert_eq!(all(&store, "/t/", None).await.len(), 2);

    let too_big = Bytes::from(vec![0u8; MAX_VALUE_BYTES + 1]);
    match store.create("/t/huge", too_big.clone()).await {
        Err(StoreError::ValueTooLarge { size, .. }) => assert_eq!(size, MAX_VALUE_BYTES + 1),
        other => panic!("expected ValueTooLarge, got {other:?}"),
    }
    assert!(matches!(
        store.update("/t/big", too_big, kv.mod_revision).await,
        Err(StoreError::ValueTooLarge { .. })
    ));
    assert_eq!(store.get("/t/huge").await.unwrap(), None);
}

pub async fn many_concurrent_watchers_each_see_every_event(store: Arc<dyn Store>) {
    const WATCHERS: usize = 100;
    const WRITES: usize = 200;
    let mut watchers = Vec::new();
    for _ in 0..WATCHERS {
        watchers.push(store.watch("/t/", 0).await.unwrap());
    }
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..WRITES / 4 {
                    store
                        .create(&format!("/t/{w}-{i}"), val("v"))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let readers: Vec<_> = watchers
        .into_iter()
        .map(|mut watch| {
            tokio::spawn(async move {
                let mut revisions = Vec::new();
                for _ in 0..WRITES {
                    revisions.push(next_event(&mut watch).await.revision());
                }
                revisions
            })
        })
        .collect();
    let mut first: Option<Vec<i64>> = None;
    for reader in readers {
        let revisions = reader.await.unwrap();
        assert!(
            revisions.windows(2).all(|w| w[0] < w[1]),
            "events in revision order"
        );
        match &first {
            Some(first) => assert_eq!(&revisions, first, "every watcher sees the same events"),
            None => first = Some(revisions),
        }
    }
}

pub async fn bad_keys_are_refused(store: Arc<dyn Store>) {
    for key in ["", "no-slash", "/nul\0byte"] {
        assert!(
            matches!(store.get(key).await, Err(StoreError::InvalidKey { .. })),
            "get {key:?}"
        );
        assert!(
            matches!(
                store.create(key, val("x")).await,
                Err(StoreError::InvalidKey { .. })
            ),
            "create {key:?}"
        );
        assert!(
            matches!(
                store.delete(key, None).await,
                Err(StoreError::InvalidKey { .. })
            ),
            "delete {key:?}"
        );
        let range = store
            .range(RangeRequest {
                prefix: key.into(),
                ..Default::default()
            })
            .await;
        assert!(
            matches!(range, Err(StoreError::InvalidKey { .. })),
            "range {key:?}"
        );
        assert!(matches!(
            store.watch(key, 0).await,
            Err(StoreError::InvalidKey { .. })
        ));
    }
    assert_eq!(revision(&store).await, revision(&store).await);
    assert!(
        all(&store, "/", None).await.is_empty(),
        "nothing was written"
    );
}

pub async fn future_revisions_are_refused(store: Arc<dyn Store>) {
    store.create("/t/a", val("1")).await.unwrap();
    let now = revision(&store).await;
    let result = store
        .range(RangeRequest {
            prefix: "/t/".into(),
            revision: Some(now + 100),
            ..Default::default()
        })
        .await;
    assert!(
        matches!(result, Err(StoreError::FutureRevision { .. })),
        "{result:?}"
    );
}
