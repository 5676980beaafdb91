//! The store contract on the embedded (redb) backend.

mod conformance;

use std::sync::Arc;

use conformance::Fixture;
use keelson_store::embedded::{EmbeddedStore, Options};

async fn embedded() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = EmbeddedStore::open(dir.path(), Options::default()).expect("open embedded store");
    Fixture {
        store: Arc::new(store),
        _guard: Box::new(dir),
    }
}

conformance_suite!(embedded);
