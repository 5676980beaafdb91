//! The compactor on a real etcd: history older than one interval goes, and
//! two compactors sharing the store compact once per interval between them.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use keelson_harness::etcd::EtcdProcess;
use keelson_store::etcd::EtcdStore;
use keelson_store::{RangeRequest, Store, StoreError, compactor};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_history_is_compacted_after_an_interval() {
    let etcd = EtcdProcess::start()
        .await
        .unwrap_or_else(|err| panic!("cannot start etcd: {err}"));
    let store: Arc<dyn Store> = Arc::new(
        EtcdStore::connect(&[etcd.endpoint()])
            .await
            .expect("connect"),
    );
    let first = store
        .create("/t/a", Bytes::from_static(b"1"))
        .await
        .expect("create")
        .mod_revision;
    let interval = Duration::from_millis(300);
    let one = compactor::spawn(Arc::clone(&store), interval);
    let two = compactor::spawn(Arc::clone(&store), interval);
    let mut compacted = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        store
            .update(
                "/t/a",
                Bytes::from_static(b"x"),
                store.get("/t/a").await.unwrap().unwrap().mod_revision,
            )
            .await
            .expect("update");
        let old = store
            .range(RangeRequest {
                prefix: "/t/".into(),
                revision: Some(first),
                ..Default::default()
            })
            .await;
        if matches!(old, Err(StoreError::Compacted { .. })) {
            compacted = true;
            break;
        }
    }
    one.abort();
    two.abort();
    assert!(
        compacted,
        "the first revision is still readable after 5s of 300ms intervals"
    );
    let now = store
        .range(RangeRequest {
            prefix: "/t/".into(),
            ..Default::default()
        })
        .await
        .expect("current reads still work");
    assert_eq!(now.kvs.len(), 1);
}
