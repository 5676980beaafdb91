//! Opening the embedded store on bad ground: damaged or foreign files, a
//! half-written database, a second opener. Each gives a typed error with a
//! clear message, never a panic, and never replaces the file's contents.

use bytes::Bytes;
use keelson_store::embedded::{DATABASE_FILE, EmbeddedStore, Options};
use keelson_store::{Store, StoreError};

fn open(dir: &std::path::Path) -> Result<EmbeddedStore, StoreError> {
    EmbeddedStore::open(dir, Options::default())
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let garbage: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();

    match open(dir.path()) {
        Err(StoreError::Corrupt { path: p, detail }) => {
            assert!(p.ends_with(DATABASE_FILE), "{p}");
            assert!(!detail.is_empty());
        }
        Err(other) => panic!("expected Corrupt, got {other}"),
        Ok(_) => panic!("a garbage file opened as a database"),
    }
    assert_eq!(
        std::fs::read(&path).unwrap(),
        garbage,
        "the file is left untouched"
    );
}

#[tokio::test]
async fn a_half_written_database_is_refused_not_silently_emptied() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path()).unwrap();
        for i in 0..500 {
            let value = Bytes::from(vec![b'x'; 1000]);
            store.create(&format!("/k/{i:04}"), value).await.unwrap();
        }
        store.close();
    }
    let path = dir.path().join(DATABASE_FILE);
    let full = std::fs::read(&path).unwrap();
    std::fs::write(&path, &full[..full.len() / 2]).unwrap();

    match open(dir.path()) {
        Err(StoreError::Corrupt { detail, .. }) => {
            assert!(detail.contains("truncated"), "{detail}")
        }
        Err(other) => panic!("expected Corrupt, got {other}"),
        Ok(store) => {
            // If the database library can recover, nothing acknowledged may be missing.
            let revision = store.current_revision().await.unwrap();
            assert_eq!(revision, 500, "a recovered database must keep every write");
            for i in 0..500 {
                assert!(store.get(&format!("/k/{i:04}")).await.unwrap().is_some());
            }
        }
    }
}

#[test]
fn a_data_dir_that_is_a_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    let err = open(&not_a_dir).err().expect("opening inside a file fails");
    assert!(err.to_string().contains("data directory"), "{err}");
}

#[test]
fn a_second_opener_is_told_the_database_is_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let _first = open(dir.path()).unwrap();
    match open(dir.path()) {
        Err(StoreError::Unavailable(message)) => {
            assert!(message.contains("already open"), "{message}")
        }
        Err(other) => panic!("expected Unavailable, got {other}"),
        Ok(_) => panic!("the database opened twice"),
    }
}

#[tokio::test]
async fn data_survives_a_clean_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let kv = store
        .create("/k/a", Bytes::from_static(b"v"))
        .await
        .unwrap();
    store.close();
    drop(store);
    let store = open(dir.path()).unwrap();
    assert_eq!(store.get("/k/a").await.unwrap(), Some(kv.clone()));
    assert_eq!(store.current_revision().await.unwrap(), kv.mod_revision);
    let next = store
        .create("/k/b", Bytes::from_static(b"v"))
        .await
        .unwrap();
    assert_eq!(
        next.mod_revision,
        kv.mod_revision + 1,
        "revisions continue after reopen"
    );
}

#[tokio::test]
async fn writes_after_close_are_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    store.close();
    let result = store.create("/k/a", Bytes::from_static(b"v")).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}
