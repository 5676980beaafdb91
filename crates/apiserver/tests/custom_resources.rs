//! A kube-rs operator's kind against keelson on both stores: a
//! `#[derive(CustomResource)]` type installed through
//! `CustomResourceExt::crd()`, `Established`, then its objects by every
//! verb a typed client uses: create, get, list, server-side apply from the
//! typed struct and from partial JSON, the scale and status subresources,
//! watch, delete_collection, and the definition's deletion, which takes
//! its objects and then its endpoints with it.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use keelson_apiserver::on_every_backend;
use keelson_apiserver::testing::{Server, code};
use kube::api::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchParams};
use kube::core::WatchEvent;
use kube::runtime::{conditions, wait::await_condition};
use kube::{CustomResource, CustomResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "keelson.test",
    version = "v1",
    kind = "Widget",
    namespaced,
    status = "WidgetStatus",
    shortname = "wg",
    scale(
        spec_replicas_path = ".spec.replicas",
        status_replicas_path = ".status.replicas"
    ),
    printcolumn(name = "Color", type_ = "string", json_path = ".spec.color")
)]
#[serde(rename_all = "camelCase")]
pub struct WidgetSpec {
    replicas: i32,
    color: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<i64>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema, Default)]
pub struct WidgetStatus {
    replicas: i32,
}

fn widget(name: &str, replicas: i32, color: &str) -> Widget {
    Widget::new(
        name,
        WidgetSpec {
            replicas,
            color: color.to_string(),
            size: None,
        },
    )
}

/// Installs the Widget definition and waits until it is established and
/// served.
async fn install(server: &Server) -> Api<Widget> {
    let definitions: Api<CustomResourceDefinition> = Api::all(server.client.clone());
    definitions
        .create(&PostParams::default(), &Widget::crd())
        .await
        .expect("the definition is created");
    let established = await_condition(
        definitions,
        "widgets.keelson.test",
        conditions::is_crd_established(),
    );
    tokio::time::timeout(Duration::from_secs(10), established)
        .await
        .expect("established within 10 s")
        .expect("the definition is watched");
    let widgets: Api<Widget> = Api::namespaced(server.client.clone(), "default");
    // Served once established.
    for _ in 0..100 {
        if widgets.list(&ListParams::default()).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    widgets
}

async fn an_operators_kind_is_served_by_every_verb(server: Server) {
    let widgets = install(&server).await;
    let created = widgets
        .create(&PostParams::default(), &widget("one", 1, "red"))
        .await
        .expect("a widget is created");
    assert_eq!(created.spec.color, "red");
    assert!(created.metadata.uid.is_some());
    assert_eq!(created.metadata.generation, Some(1));
    let got = widgets.get("one").await.expect("the widget is read");
    assert_eq!(got.spec, created.spec);

    // Server-side apply from the typed struct, then from partial JSON.
    let manager = PatchParams::apply("widget-operator").force();
    let applied = widgets
        .patch("two", &manager, &Patch::Apply(&widget("two", 2, "blue")))
        .await
        .expect("a widget is applied");
    assert_eq!(applied.spec.replicas, 2);
    let partial = json!({
        "apiVersion": "keelson.test/v1", "kind": "Widget",
        "metadata": {"name": "two"}, "spec": {"color": "green", "replicas": 2}
    });
    let applied = widgets
        .patch("two", &manager, &Patch::Apply(&partial))
        .await
        .expect("partial JSON is applied");
    assert_eq!(applied.spec.color, "green");
    let managers: Vec<String> = applied
        .managed_fields()
        .iter()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(
        managers.contains(&"widget-operator".to_string()),
        "{managers:?}"
    );
    // A merge patch; a strategic merge patch is refused as upstream does.
    let merged = widgets
        .patch(
            "two",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 3}})),
        )
        .await
        .expect("a merge patch");
    assert_eq!(merged.spec.size, Some(3));
    let strategic = widgets
        .patch(
            "two",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"size": 4}})),
        )
        .await
        .expect_err("strategic merge patch of a custom resource");
    assert_eq!(code(strategic), 415);

    // Scale and status.
    let scale = widgets.get_scale("one").await.expect("the scale");
    assert_eq!(scale.spec.and_then(|s| s.replicas), Some(1));
    widgets
        .patch_scale(
            "one",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .expect("the scale is patched");
    assert_eq!(widgets.get("one").await.expect("read").spec.replicas, 5);
    let status = json!({"status": {"replicas": 4}});
    let with_status = widgets
        .patch_status("one", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .expect("the status is patched");
    assert_eq!(with_status.status, Some(WidgetStatus { replicas: 4 }));
    // A write of the main resource leaves the status alone.
    let mut changed = with_status.clone();
    changed.spec.color = "black".to_string();
    changed.status = None;
    let replaced = widgets
        .replace("one", &PostParams::default(), &changed)
        .await
        .expect("the widget is replaced");
    assert_eq!(replaced.status, Some(WidgetStatus { replicas: 4 }));
    assert_eq!(replaced.metadata.generation, Some(3));

    // Watch, list and delete_collection.
    let mut events = widgets
        .watch(&WatchParams::default(), "0")
        .await
        .expect("a watch")
        .boxed();
    widgets
        .create(&PostParams::default(), &widget("three", 1, "white"))
        .await
        .expect("a third widget");
    let mut seen = Vec::new();
    while let Ok(Ok(Some(event))) =
        tokio::time::timeout(Duration::from_secs(5), events.try_next()).await
    {
        if let WatchEvent::Added(widget) = event {
            seen.push(widget.name_any());
            if seen.contains(&"three".to_string()) {
                break;
            }
        }
    }
    assert!(seen.contains(&"three".to_string()), "{seen:?}");
    let names: Vec<String> = widgets
        .list(&ListParams::default())
        .await
        .expect("a list")
        .items
        .iter()
        .map(|w| w.name_any())
        .collect();
    assert_eq!(names, ["one", "three", "two"]);
    widgets
        .delete_collection(&DeleteParams::default(), &ListParams::default().labels(""))
        .await
        .expect("delete_collection");
    assert!(
        widgets
            .list(&ListParams::default())
            .await
            .expect("a list")
            .items
            .is_empty()
    );
}

async fn deleting_the_definition_takes_its_objects_and_endpoints(server: Server) {
    let widgets = install(&server).await;
    widgets
        .create(&PostParams::default(), &widget("left", 1, "red"))
        .await
        .expect("a widget");
    let definitions: Api<CustomResourceDefinition> = Api::all(server.client.clone());
    definitions
        .delete("widgets.keelson.test", &DeleteParams::default())
        .await
        .expect("the definition's deletion starts");
    let mut gone = false;
    for _ in 0..200 {
        if let Err(err) = definitions.get("widgets.keelson.test").await {
            assert_eq!(code(err), 404);
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !gone {
        let left = definitions
            .get("widgets.keelson.test")
            .await
            .expect("still there");
        panic!(
            "the definition is not gone within 10 s: {}",
            serde_json::to_string(&left).unwrap_or_default()
        );
    }
    // Its objects went first; then its endpoints.
    let mut served = true;
    for _ in 0..100 {
        match widgets.list(&ListParams::default()).await {
            Err(err) => {
                assert_eq!(code(err), 404);
                served = false;
                break;
            }
            Ok(list) => assert!(list.items.is_empty(), "objects outlive their definition"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!served, "the endpoints go with the definition");
    let key_prefix = "/registry/keelson.test/widgets/";
    let left = server
        .store
        .range(keelson_store::RangeRequest {
            prefix: key_prefix.to_string(),
            start_after: None,
            revision: None,
            limit: None,
        })
        .await
        .expect("a range");
    assert!(left.kvs.is_empty(), "objects left in the store");
}

on_every_backend!(
    an_operators_kind_is_served_by_every_verb,
    deleting_the_definition_takes_its_objects_and_endpoints
);
