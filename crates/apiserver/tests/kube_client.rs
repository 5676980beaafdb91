//! The API server in-process on 127.0.0.1:0 with kube-rs as the client, on
//! the embedded store: typed CRUD, conflicts, selectors, pagination and a
//! kube-runtime watcher.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{DeleteParams, ListParams, ObjectMeta, PostParams};
use kube::runtime::watcher;
use kube::{Api, Client};

struct Server {
    client: Client,
    _dir: tempfile::TempDir,
}

async fn server() -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("embedded:{}", dir.path().display());
    let store = keelson_store::open(&url).await.expect("store");
    keelson_apiserver::bootstrap(store.clone())
        .await
        .expect("bootstrap");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(keelson_apiserver::serve(
        listener,
        Arc::clone(&store),
        std::future::pending(),
    ));
    let config = kube::Config::new(format!("http://{address}").parse().expect("url"));
    Server {
        client: Client::try_from(config).expect("client"),
        _dir: dir,
    }
}

fn config_map(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..Default::default()
        },
        data: Some(BTreeMap::from([("k".to_string(), "v".to_string())])),
        ..Default::default()
    }
}

fn code(err: kube::Error) -> u16 {
    match err {
        kube::Error::Api(status) => status.code,
        other => panic!("expected an API error, got {other}"),
    }
}

#[tokio::test]
async fn typed_crud_with_conflicts() {
    let server = server().await;
    let api: Api<ConfigMap> = Api::namespaced(server.client.clone(), "default");
    let pp = PostParams::default();

    let created = api
        .create(&pp, &config_map("a", &[("app", "x")]))
        .await
        .unwrap();
    let uid = created.metadata.uid.clone().expect("a uid");
    assert!(created.metadata.creation_timestamp.is_some());
    let rv = created
        .metadata
        .resource_version
        .clone()
        .expect("a resourceVersion");

    assert_eq!(
        code(api.create(&pp, &config_map("a", &[])).await.unwrap_err()),
        409
    );

    let mut changed = created.clone();
    changed.data = Some(BTreeMap::from([("k".to_string(), "w".to_string())]));
    let updated = api.replace("a", &pp, &changed).await.unwrap();
    assert_ne!(
        updated.metadata.resource_version.as_deref(),
        Some(rv.as_str())
    );
    assert_eq!(updated.metadata.uid.as_deref(), Some(uid.as_str()));

    // `changed` still carries the old resourceVersion: a stale write.
    assert_eq!(
        code(api.replace("a", &pp, &changed).await.unwrap_err()),
        409
    );
    assert_eq!(api.get("a").await.unwrap().data.unwrap()["k"], "w");

    api.delete("a", &DeleteParams::default()).await.unwrap();
    assert_eq!(code(api.get("a").await.unwrap_err()), 404);

    let missing: Api<ConfigMap> = Api::namespaced(server.client.clone(), "nowhere");
    assert_eq!(
        code(
            missing
                .create(&pp, &config_map("b", &[]))
                .await
                .unwrap_err()
        ),
        404
    );
}

#[tokio::test]
async fn lists_filter_by_labels_and_page_consistently() {
    let server = server().await;
    let api: Api<ConfigMap> = Api::namespaced(server.client.clone(), "default");
    for i in 0..7 {
        let tier = if i % 2 == 0 { "web" } else { "db" };
        api.create(
            &PostParams::default(),
            &config_map(&format!("cm{i}"), &[("tier", tier)]),
        )
        .await
        .unwrap();
    }
    let web = api
        .list(&ListParams::default().labels("tier=web"))
        .await
        .unwrap();
    assert_eq!(web.items.len(), 4);
    let names = |list: &kube::core::ObjectList<ConfigMap>| -> Vec<String> {
        list.items
            .iter()
            .map(|c| c.metadata.name.clone().unwrap())
            .collect()
    };

    let first = api.list(&ListParams::default().limit(3)).await.unwrap();
    assert_eq!(names(&first), ["cm0", "cm1", "cm2"]);
    let token = first.metadata.continue_.clone().expect("a continue token");
    // A write between pages does not show in the later pages.
    api.create(&PostParams::default(), &config_map("cm5a", &[]))
        .await
        .unwrap();
    let second = api
        .list(&ListParams::default().limit(3).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(names(&second), ["cm3", "cm4", "cm5"]);
    let token = second.metadata.continue_.clone().expect("another token");
    let third = api
        .list(&ListParams::default().limit(3).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(names(&third), ["cm6"]);
    assert!(third.metadata.continue_.as_deref().unwrap_or("").is_empty());
}

#[tokio::test]
async fn a_watcher_sees_every_change_in_order() {
    let server = server().await;
    let api: Api<ConfigMap> = Api::namespaced(server.client.clone(), "default");
    api.create(&PostParams::default(), &config_map("before", &[]))
        .await
        .unwrap();
    let mut events = watcher(api.clone(), watcher::Config::default()).boxed();
    let writer = {
        let api = api.clone();
        tokio::spawn(async move {
            for i in 0..5 {
                api.create(&PostParams::default(), &config_map(&format!("w{i}"), &[]))
                    .await
                    .unwrap();
            }
            api.delete("w0", &DeleteParams::default()).await.unwrap();
        })
    };
    let mut seen = Vec::new();
    while seen.len() < 7 {
        let event = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("an event within 10s")
            .expect("the watcher goes on")
            .expect("no watcher error");
        match event {
            watcher::Event::InitApply(cm) | watcher::Event::Apply(cm) => {
                seen.push(format!("apply {}", cm.metadata.name.unwrap()))
            }
            watcher::Event::Delete(cm) => {
                seen.push(format!("delete {}", cm.metadata.name.unwrap()))
            }
            watcher::Event::Init | watcher::Event::InitDone => {}
        }
    }
    writer.await.unwrap();
    assert_eq!(
        seen,
        [
            "apply before",
            "apply w0",
            "apply w1",
            "apply w2",
            "apply w3",
            "apply w4",
            "delete w0"
        ]
    );
}
