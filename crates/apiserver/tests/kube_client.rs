//! The API server in-process on 127.0.0.1:0 with kube-rs as the client:
//! typed CRUD, conflicts, selectors, pagination, a kube-runtime watcher,
//! watch resume and 410 Gone. Every test runs on the embedded store and on a
//! real etcd (Debian's etcd-server).

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{DeleteParams, ListParams, ObjectMeta, PostParams, WatchEvent, WatchParams};
use kube::runtime::watcher;
use support::{Server, code};

on_every_backend!(
    typed_crud_with_conflicts,
    lists_filter_by_labels_and_page_consistently,
    a_watcher_sees_every_change_in_order,
    watches_resume_from_a_resource_version_and_old_ones_are_gone,
);

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

async fn typed_crud_with_conflicts(server: Server) {
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

async fn lists_filter_by_labels_and_page_consistently(server: Server) {
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

async fn a_watcher_sees_every_change_in_order(server: Server) {
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

async fn watches_resume_from_a_resource_version_and_old_ones_are_gone(server: Server) {
    let api: Api<ConfigMap> = Api::namespaced(server.client.clone(), "default");
    let pp = PostParams::default();
    let first = api.create(&pp, &config_map("one", &[])).await.unwrap();
    let first_rv = first.metadata.resource_version.clone().unwrap();
    let second = api.create(&pp, &config_map("two", &[])).await.unwrap();
    let second_rv = second.metadata.resource_version.clone().unwrap();
    api.create(&pp, &config_map("three", &[])).await.unwrap();

    // Resuming from the second object's version replays only what came after.
    let mut events = api
        .watch(&WatchParams::default(), &second_rv)
        .await
        .unwrap()
        .boxed();
    let event = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("an event within 10s")
        .expect("the watch goes on")
        .expect("a decodable event");
    match event {
        WatchEvent::Added(cm) => assert_eq!(cm.metadata.name.as_deref(), Some("three")),
        other => panic!("expected ADDED three, got {other:?}"),
    }

    // Compacted history: a watch from before it gets 410 Gone as an ERROR
    // event, and a continue token from before it 410 Expired.
    let page = api.list(&ListParams::default().limit(1)).await.unwrap();
    let token = page.metadata.continue_.clone().expect("a continue token");
    api.create(&pp, &config_map("four", &[])).await.unwrap();
    let now = server.store.current_revision().await.unwrap();
    server.store.compact(now).await.unwrap();
    let mut events = api
        .watch(&WatchParams::default(), &first_rv)
        .await
        .unwrap()
        .boxed();
    let event = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("an answer within 10s")
        .expect("one event")
        .expect("a decodable event");
    match event {
        WatchEvent::Error(status) => assert_eq!(status.code, 410, "{status:?}"),
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
    let expired = api
        .list(&ListParams::default().limit(1).continue_token(&token))
        .await
        .unwrap_err();
    assert_eq!(code(expired), 410);
}
