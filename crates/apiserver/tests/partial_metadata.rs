//! Metadata-only clients (kube-rs `*_metadata`) get `PartialObjectMetadata`
//! on every verb that answers with an object; an answer the client cannot
//! take is a 406 before anything is written.

mod support;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;
use support::{Server, failure};

on_every_backend!(metadata_forms_on_every_verb);

async fn metadata_forms_on_every_verb(server: Server) {
    let api: Api<ConfigMap> = Api::namespaced(server.client.clone(), "default");
    let config: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "meta", "labels": {"a": "b"}}, "data": {"k": "v"}
    }))
    .expect("a ConfigMap");
    api.create(&PostParams::default(), &config)
        .await
        .expect("created");

    let got = api.get_metadata("meta").await.expect("metadata");
    assert_eq!(
        got.types.as_ref().map(|t| t.kind.as_str()),
        Some("PartialObjectMetadata")
    );
    assert_eq!(
        got.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("a"))
            .map(String::as_str),
        Some("b")
    );

    let list = api
        .list_metadata(&ListParams::default())
        .await
        .expect("a list");
    assert_eq!(list.types.kind, "PartialObjectMetadataList");
    assert!(
        list.items
            .iter()
            .any(|item| item.metadata.name.as_deref() == Some("meta"))
    );

    let patch = json!({"metadata": {"annotations": {"seen": "yes"}}});
    let patched = api
        .patch_metadata("meta", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patched");
    assert_eq!(
        patched.types.as_ref().map(|t| t.kind.as_str()),
        Some("PartialObjectMetadata")
    );
    let annotations = patched.metadata.annotations.expect("annotations");
    assert_eq!(annotations.get("seen").map(String::as_str), Some("yes"));
    let stored = api.get("meta").await.expect("the object");
    assert_eq!(
        stored.data.and_then(|d| d.get("k").cloned()).as_deref(),
        Some("v")
    );

    let params = WatchParams::default().timeout(5);
    let mut events = api
        .watch_metadata(&params, "0")
        .await
        .expect("a watch")
        .boxed();
    let first = events
        .try_next()
        .await
        .expect("an event")
        .expect("the watch goes on");
    match first {
        WatchEvent::Added(object) => {
            assert_eq!(
                object.types.as_ref().map(|t| t.kind.as_str()),
                Some("PartialObjectMetadata")
            );
        }
        other => panic!("expected ADDED, got {other:?}"),
    }

    // A form the server does not serve is refused, and nothing is written.
    let refused = server
        .raw_accept(
            "PUT",
            "/api/v1/namespaces/default/configmaps/meta",
            "application/json;as=Widget;g=meta.k8s.io;v=v1",
            serde_json::to_vec(&json!({"metadata": {"name": "meta"}, "data": {}})).expect("json"),
        )
        .await;
    failure(&refused, 406);
    let kept = api.get("meta").await.expect("the object");
    assert_eq!(
        kept.data.and_then(|d| d.get("k").cloned()).as_deref(),
        Some("v")
    );
}
