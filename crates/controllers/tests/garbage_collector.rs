//! The garbage collector against the API server in-process: a deleted
//! owner's dependents go (background), wait for it (foreground), or stay
//! without their reference (orphan); a reference with the wrong uid
//! dangles; a dependent with a living second owner only loses the
//! reference to the one deleted; an owner in another namespace is absent
//! (and the dependent gets an `OwnerRefInvalidNamespace` warning).

use std::future::Future;
use std::time::Duration;

use keelson_api::k8s_openapi::api::core::v1::{ConfigMap, Secret};
use keelson_apiserver::testing;
use kube::api::{Api, DeleteParams, PostParams, PropagationPolicy};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

/// The collector, stopped when the test ends (or fails).
struct Collector(tokio::task::JoinHandle<()>);

impl Drop for Collector {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn start(client: &Client) -> Collector {
    Collector(tokio::spawn(keelson_controllers::garbagecollector::run(
        client.clone(),
        client.clone(),
    )))
}

/// An owner reference to `owner`.
fn owned_by(owner: &ConfigMap, block: bool) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "name": owner.name_any(),
        "uid": owner.uid().unwrap_or_default(), "blockOwnerDeletion": block})
}

async fn config_map(api: &Api<ConfigMap>, name: &str, owners: Vec<Value>) -> ConfigMap {
    let object = serde_json::from_value(json!({
        "metadata": {"name": name, "ownerReferences": owners, "finalizers": []}
    }))
    .expect("a ConfigMap");
    api.create(&PostParams::default(), &object)
        .await
        .expect("created")
}

async fn secret(api: &Api<Secret>, name: &str, owners: Vec<Value>) {
    let object = serde_json::from_value(json!({
        "metadata": {"name": name, "ownerReferences": owners}
    }))
    .expect("a Secret");
    api.create(&PostParams::default(), &object)
        .await
        .expect("created");
}

/// Waits (at most 20 s) until `check` holds.
async fn until<F: Future<Output = bool>>(what: &str, check: impl Fn() -> F) {
    for _ in 0..400 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not within 20 s");
}

async fn gone<K>(api: &Api<K>, name: &str) -> bool
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    matches!(api.get_opt(name).await, Ok(None))
}

fn delete_with(policy: PropagationPolicy) -> DeleteParams {
    DeleteParams {
        propagation_policy: Some(policy),
        ..DeleteParams::default()
    }
}

#[tokio::test]
async fn a_deleted_owner_takes_its_dependents_along() {
    let server = testing::embedded().await;
    let _gc = start(&server.client);
    let maps: Api<ConfigMap> = Api::namespaced(server.client.clone(), "default");
    let secrets: Api<Secret> = Api::namespaced(server.client.clone(), "default");
    let owner = config_map(&maps, "owner", vec![]).await;
    config_map(&maps, "child", vec![owned_by(&owner, false)]).await;
    secret(&secrets, "child", vec![owned_by(&owner, false)]).await;
    maps.delete("owner", &delete_with(PropagationPolicy::Background))
        .await
        .expect("deleted");
    until("the dependents collected", || async {
        gone(&maps, "child").await && gone(&secrets, "child").await
    })
    .await;
}

#[tokio::test]
async fn a_foreground_deletion_waits_for_the_blocking_dependents() {
    let server = testing::embedded().await;
    let maps: Api<ConfigMap> = Api::namespaced(server.client.clone(), "default");
    let owner = config_map(&maps, "owner", vec![]).await;
    config_map(&maps, "child", vec![owned_by(&owner, true)]).await;
    // The child holds a finalizer of its own, so the owner must wait.
    let held = json!({"metadata": {"finalizers": ["example.com/hold"]}});
    maps.patch(
        "child",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&held),
    )
    .await
    .expect("held");
    let _gc = start(&server.client);
    maps.delete("owner", &delete_with(PropagationPolicy::Foreground))
        .await
        .expect("deleted");
    until("the child being deleted", || async {
        maps.get("child")
            .await
            .is_ok_and(|c| c.metadata.deletion_timestamp.is_some())
    })
    .await;
    let waiting = maps.get("owner").await.expect("the owner waits");
    assert!(
        waiting
            .finalizers()
            .iter()
            .any(|f| f == "foregroundDeletion")
    );
    assert!(waiting.metadata.deletion_timestamp.is_some());
    let release = json!({"metadata": {"finalizers": null}});
    maps.patch(
        "child",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&release),
    )
    .await
    .expect("released");
    until("the owner gone after its child", || async {
        gone(&maps, "child").await && gone(&maps, "owner").await
    })
    .await;
}

#[tokio::test]
async fn an_orphaning_deletion_leaves_the_dependents() {
    let server = testing::embedded().await;
    let _gc = start(&server.client);
    let maps: Api<ConfigMap> = Api::namespaced(server.client.clone(), "default");
    let owner = config_map(&maps, "owner", vec![]).await;
    config_map(&maps, "child", vec![owned_by(&owner, true)]).await;
    maps.delete("owner", &delete_with(PropagationPolicy::Orphan))
        .await
        .expect("deleted");
    until("the owner gone", || async { gone(&maps, "owner").await }).await;
    let child = maps.get("child").await.expect("the child stays");
    assert!(child.owner_references().is_empty(), "{child:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(maps.get("child").await.is_ok());
}

#[tokio::test]
async fn a_reference_of_another_uid_dangles() {
    let server = testing::embedded().await;
    let _gc = start(&server.client);
    let maps: Api<ConfigMap> = Api::namespaced(server.client.clone(), "default");
    let owner = config_map(&maps, "owner", vec![]).await;
    let mut wrong = owned_by(&owner, false);
    wrong["uid"] = json!("00000000-0000-0000-0000-000000000000");
    config_map(&maps, "child", vec![wrong]).await;
    config_map(&maps, "kept", vec![owned_by(&owner, false)]).await;
    until("the dangling child collected", || async {
        gone(&maps, "child").await
    })
    .await;
    assert!(maps.get("owner").await.is_ok());
    assert!(maps.get("kept").await.is_ok());
}

#[tokio::test]
async fn a_dependent_with_a_living_owner_only_loses_a_reference() {
    let server = testing::embedded().await;
    let _gc = start(&server.client);
    let maps: Api<ConfigMap> = Api::namespaced(server.client.clone(), "default");
    let first = config_map(&maps, "first", vec![]).await;
    let second = config_map(&maps, "second", vec![]).await;
    config_map(
        &maps,
        "child",
        vec![owned_by(&first, false), owned_by(&second, false)],
    )
    .await;
    maps.delete("first", &DeleteParams::default())
        .await
        .expect("deleted");
    until("the reference to the first owner removed", || async {
        maps.get("child").await.is_ok_and(|c| {
            let names: Vec<String> = c
                .owner_references()
                .iter()
                .map(|o| o.name.clone())
                .collect();
            names == ["second"]
        })
    })
    .await;
    // And in the foreground: the waiting owner's reference goes as well.
    let third = config_map(&maps, "third", vec![]).await;
    let patch = json!({"metadata": {"ownerReferences": [owned_by(&second, false), owned_by(&third, true)]}});
    maps.patch(
        "child",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&patch),
    )
    .await
    .expect("a third owner");
    maps.delete("third", &delete_with(PropagationPolicy::Foreground))
        .await
        .expect("deleted");
    until("the third owner gone, the child kept", || async {
        gone(&maps, "third").await
            && maps.get("child").await.is_ok_and(|c| {
                let names: Vec<String> = c
                    .owner_references()
                    .iter()
                    .map(|o| o.name.clone())
                    .collect();
                names == ["second"]
            })
    })
    .await;
}

#[tokio::test]
async fn an_owner_in_another_namespace_is_absent_and_reported() {
    use keelson_api::k8s_openapi::api::core::v1::{Event, Namespace};
    let server = testing::embedded().await;
    let namespaces: Api<Namespace> = Api::all(server.client.clone());
    let other =
        serde_json::from_value(json!({"metadata": {"name": "other"}})).expect("a namespace");
    namespaces
        .create(&PostParams::default(), &other)
        .await
        .expect("created");
    let here: Api<ConfigMap> = Api::namespaced(server.client.clone(), "default");
    let there: Api<ConfigMap> = Api::namespaced(server.client.clone(), "other");
    let owner = config_map(&here, "owner", vec![]).await;
    let _gc = start(&server.client);
    // The owner is seen first (discovery and the first lists take well
    // under this in-process), so the reference from elsewhere names an
    // observed owner and is reported.
    tokio::time::sleep(Duration::from_millis(500)).await;
    config_map(&there, "child", vec![owned_by(&owner, false)]).await;
    until("the child collected", || async {
        gone(&there, "child").await
    })
    .await;
    assert!(here.get("owner").await.is_ok());
    let events: Api<Event> = Api::namespaced(server.client.clone(), "other");
    until("an OwnerRefInvalidNamespace event", || async {
        events.list(&Default::default()).await.is_ok_and(|list| {
            list.items.iter().any(|e| {
                e.reason.as_deref() == Some("OwnerRefInvalidNamespace")
                    && e.involved_object.name.as_deref() == Some("child")
            })
        })
    })
    .await;
}

#[tokio::test]
async fn a_custom_resource_owner_is_collected_like_any_other() {
    use keelson_api::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
    let server = testing::embedded().await;
    let definitions: Api<CustomResourceDefinition> = Api::all(server.client.clone());
    let definition = serde_json::from_value(json!({
        "metadata": {"name": "widgets.keelson.test"},
        "spec": {"group": "keelson.test", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    }))
    .expect("a definition");
    definitions
        .create(&PostParams::default(), &definition)
        .await
        .expect("created");
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("keelson.test", "v1", "Widget"),
        "widgets",
    );
    let widgets: Api<DynamicObject> =
        Api::namespaced_with(server.client.clone(), "default", &resource);
    let widget: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "keelson.test/v1", "kind": "Widget", "metadata": {"name": "owner"}
    }))
    .expect("a widget");
    let mut made = None;
    for _ in 0..200 {
        if let Ok(w) = widgets.create(&PostParams::default(), &widget).await {
            made = Some(w);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let owner = made.expect("the widget made once the definition is served");
    let maps: Api<ConfigMap> = Api::namespaced(server.client.clone(), "default");
    let reference = json!({"apiVersion": "keelson.test/v1", "kind": "Widget", "name": "owner",
        "uid": owner.uid().unwrap_or_default()});
    config_map(&maps, "child", vec![reference]).await;
    let _gc = start(&server.client);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        maps.get("child").await.is_ok(),
        "collected while its owner lives"
    );
    widgets
        .delete("owner", &DeleteParams::default())
        .await
        .expect("deleted");
    until("the child of the widget collected", || async {
        gone(&maps, "child").await
    })
    .await;
}
