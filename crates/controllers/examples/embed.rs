//! keelson's controllers embedded in a program of its own: the built-ins,
//! plus an operator of a kind of its own (`Website`), whose CRD it
//! installs and whose objects it reconciles into Deployments it owns.
//!
//! Against a running keelson (`keelson up`), with its admin kubeconfig:
//! `KUBECONFIG=$DATA_DIR/admin.kubeconfig cargo run -p keelson-controllers --example embed`

use std::sync::Arc;

use k8s_openapi::api::apps::v1::Deployment;
use keelson_api::k8s_openapi;
use keelson_controllers::framework::{self, Context, Error};
use keelson_controllers::manager::ControllerManager;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::{Client, CustomResource, CustomResourceExt, Resource, ResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A website: so many replicas of an image.
#[derive(CustomResource, Deserialize, Serialize, Clone, Debug, JsonSchema)]
#[kube(
    group = "example.keelson.dev",
    version = "v1",
    kind = "Website",
    namespaced
)]
pub struct WebsiteSpec {
    pub image: String,
    pub replicas: i32,
}

/// Installs the `Website` CRD, then runs the built-ins and the operator
/// until `shutdown`.
pub async fn run(client: Client, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let crds = Api::all(client.clone());
    let apply = PatchParams::apply("website-operator").force();
    crds.patch(
        "websites.example.keelson.dev",
        &apply,
        &Patch::Apply(Website::crd()),
    )
    .await?;
    // The kind is served once the definition is Established.
    let established = kube::runtime::conditions::is_crd_established();
    let wait =
        kube::runtime::wait::await_condition(crds, "websites.example.keelson.dev", established);
    tokio::time::timeout(std::time::Duration::from_secs(10), wait).await??;
    ControllerManager::new(client)
        .add("website-operator", |context| async move {
            let websites = Api::<Website>::all(context.client.clone());
            let deployments = context.informers.get::<Deployment>();
            let controller = Controller::new(websites, Default::default())
                .owns_shared_stream(deployments.objects());
            framework::drive(controller, Arc::new(context), reconcile).await;
        })
        .run_until(shutdown)
        .await
}

/// A Website's Deployment, as it should be, applied server-side.
async fn reconcile(site: Arc<Website>, context: Arc<Context>) -> Result<Action, Error> {
    let name = site.name_any();
    let labels = json!({"app.kubernetes.io/name": name});
    let owner = site
        .controller_owner_ref(&())
        .expect("a stored Website has a uid");
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "ownerReferences": [owner]},
        "spec": {
            "replicas": site.spec.replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": site.spec.image}]}}
        }
    });
    let namespace = site.namespace().unwrap_or_default();
    let api: Api<Deployment> = Api::namespaced(context.client.clone(), &namespace);
    let apply = PatchParams::apply("website-operator").force();
    api.patch(&name, &apply, &Patch::Apply(deployment)).await?;
    Ok(Action::await_change())
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let client = Client::try_default().await?;
    run(client, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
