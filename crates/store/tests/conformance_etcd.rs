//! The store contract on the etcd backend, each test against its own real
//! etcd process (Debian's etcd-server).

mod conformance;

use std::sync::Arc;

use conformance::Fixture;
use keelson_harness::etcd::EtcdProcess;
use keelson_store::etcd::EtcdStore;

async fn etcd() -> Fixture {
    let process = EtcdProcess::start()
        .await
        .unwrap_or_else(|err| panic!("cannot start etcd for the conformance suite: {err}"));
    let store = EtcdStore::connect(&[process.endpoint()])
        .await
        .expect("connect to etcd");
    Fixture {
        store: Arc::new(store),
        _guard: Box::new(process),
    }
}

conformance_suite!(etcd);
