//! The Namespace controller's loop against the API server in-process: a
//! deleted namespace with ConfigMaps, Secrets, a custom resource and pods
//! (on stand-in nodes, which finish their graceful deletions) is emptied;
//! while an object held by a finalizer remains, the namespace's conditions
//! say so in upstream's words; once it goes, the namespace goes.

use std::time::Duration;

use keelson_api::k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Secret, ServiceAccount};
use keelson_api::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use keelson_apiserver::stand_in::StandIn;
use keelson_apiserver::testing;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams,
};
use serde_json::json;

const NS: &str = "doomed";
const HOLD: &str = "example.com/hold";

async fn create<K>(api: &Api<K>, object: serde_json::Value)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let object: K = serde_json::from_value(object).expect("a valid object");
    match api.create(&PostParams::default(), &object).await {
        Ok(_) => {}
        // The testing server may make some of them itself.
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(err) => panic!("cannot create: {err}"),
    }
}

/// Waits (at most `seconds`) until `check` holds.
async fn until<F, Fut>(seconds: u64, what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..seconds * 10 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not within {seconds} s");
}

fn condition(namespace: &Namespace, type_: &str) -> Option<(String, String, String)> {
    let conditions = namespace.status.as_ref()?.conditions.as_ref()?;
    let found = conditions.iter().find(|c| c.type_ == type_)?;
    Some((
        found.status.clone(),
        found.reason.clone().unwrap_or_default(),
        found.message.clone().unwrap_or_default(),
    ))
}

async fn make_widgets(client: &kube::Client) -> Api<DynamicObject> {
    let definitions: Api<CustomResourceDefinition> = Api::all(client.clone());
    create(
        &definitions,
        json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object",
                        "x-kubernetes-preserve-unknown-fields": true}}}]}
        }),
    )
    .await;
    let gvk = GroupVersionKind::gvk("example.com", "v1", "Widget");
    let resource = ApiResource::from_gvk_with_plural(&gvk, "widgets");
    let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), NS, &resource);
    let widget: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}
    }))
    .expect("a widget");
    let mut made = false;
    for _ in 0..100 {
        if widgets
            .create(&PostParams::default(), &widget)
            .await
            .is_ok()
        {
            made = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(made, "the widget was not created once its kind was served");
    widgets
}

#[tokio::test]
async fn a_deleted_namespace_is_emptied_and_goes() {
    let server = testing::embedded().await;
    let client = server.client.clone();
    let _nodes = StandIn::start(client.clone(), &["n1"])
        .await
        .expect("stand-in nodes");
    let namespaces: Api<Namespace> = Api::all(client.clone());
    create(&namespaces, json!({"metadata": {"name": NS}})).await;
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), NS);
    create(&accounts, json!({"metadata": {"name": "default"}})).await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    create(&config_maps, json!({"metadata": {"name": "plain"}})).await;
    create(
        &config_maps,
        json!({"metadata": {"name": "held", "finalizers": [HOLD]}}),
    )
    .await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), NS);
    create(
        &secrets,
        json!({"metadata": {"name": "s1"}, "stringData": {"a": "b"}}),
    )
    .await;
    let widgets = make_widgets(&client).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    for name in ["p1", "p2"] {
        create(
            &pods,
            json!({"metadata": {"name": name}, "spec": {"nodeName": "n1",
                "terminationGracePeriodSeconds": 1,
                "containers": [{"name": "app", "image": "app:1"}]}}),
        )
        .await;
    }

    let controller = tokio::spawn(keelson_controllers::namespace::run(
        client.clone(),
        client.clone(),
    ));
    namespaces
        .delete(NS, &DeleteParams::default())
        .await
        .expect("deletion begins");

    // Everything but the held ConfigMap goes; the conditions say what is left.
    until(30, "the content but the held ConfigMap gone", || async {
        let left = (
            pods.list(&ListParams::default())
                .await
                .map(|l| l.items.len()),
            secrets
                .list(&ListParams::default())
                .await
                .map(|l| l.items.len()),
            widgets
                .list(&ListParams::default())
                .await
                .map(|l| l.items.len()),
            config_maps
                .list(&ListParams::default())
                .await
                .map(|l| l.items.len()),
        );
        matches!(left, (Ok(0), Ok(0), Ok(0), Ok(1)))
    })
    .await;
    until(30, "the conditions of what remains", || async {
        let Ok(namespace) = namespaces.get(NS).await else {
            return false;
        };
        condition(&namespace, "NamespaceContentRemaining")
            == Some((
                "True".into(),
                "SomeResourcesRemain".into(),
                "Some resources are remaining: configmaps. has 1 resource instances".into(),
            ))
            && condition(&namespace, "NamespaceFinalizersRemaining")
                == Some((
                    "True".into(),
                    "SomeFinalizersRemain".into(),
                    format!(
                        "Some content in the namespace has finalizers remaining: {HOLD} in 1 resource instances"
                    ),
                ))
    })
    .await;
    let namespace = namespaces.get(NS).await.expect("still there");
    assert_eq!(
        namespace.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    assert_eq!(
        condition(
            &namespaces.get(NS).await.expect("there"),
            "NamespaceDeletionDiscoveryFailure"
        )
        .map(|c| c.0),
        Some("False".into())
    );

    // Its finalizer done, the ConfigMap goes, and then the namespace.
    let release = json!({"metadata": {"finalizers": null}});
    config_maps
        .patch("held", &PatchParams::default(), &Patch::Merge(&release))
        .await
        .expect("released");
    until(30, "the namespace gone", || async {
        matches!(namespaces.get_opt(NS).await, Ok(None))
    })
    .await;
    controller.abort();
}
