//! The objects the server creates at start when they are missing, as an
//! upstream API server's post-start hooks do: the bootstrap RBAC policy
//! ([`policy`], with the controllers' roles from [`controllers`] and the
//! Roles of `kube-system` and `kube-public` from [`namespaced`]), the
//! built-in PriorityClasses, and one local APIService per served
//! group-version ([`apiservices`]). Objects that exist are left
//! as they are; APIServices are marked available.

mod apiservices;
mod controllers;
mod namespaced;
mod policy;

use keelson_api::registry::{self, ResourceInfo};
use keelson_api::{ApiError, StatusReason};
use serde_json::{Value, json};

use crate::objects::{Objects, Update, WriteOptions};

/// The manager the bootstrap writes are recorded under.
const MANAGER: &str = "kube-apiserver";

/// `(name, value, description)` of the PriorityClasses only the system
/// may define.
const PRIORITY_CLASSES: &[(&str, i64, &str)] = &[
    (
        "system-node-critical",
        2_000_001_000,
        "Used for system critical pods that must not be moved from their current node.",
    ),
    (
        "system-cluster-critical",
        2_000_000_000,
        "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
    ),
];

/// The rules of upstream's `system:node` ClusterRole, which the Node
/// authorizer applies to what it does not subdivide.
pub fn node_rules() -> Vec<crate::auth::rbac::rules::Rule> {
    policy::node_rules()
        .into_iter()
        .filter_map(|rule| serde::Deserialize::deserialize(rule).ok())
        .collect()
}

/// Creates whichever bootstrap objects are missing.
pub async fn ensure(objects: &Objects) -> Result<(), ApiError> {
    let options = WriteOptions {
        dry_run: false,
        field_manager: Some(MANAGER.to_string()),
    };
    let roles = resource("rbac.authorization.k8s.io", "clusterroles");
    for role in policy::cluster_roles() {
        create_missing(objects, roles, role, &options).await?;
    }
    let bindings = resource("rbac.authorization.k8s.io", "clusterrolebindings");
    for binding in policy::cluster_role_bindings() {
        create_missing(objects, bindings, binding, &options).await?;
    }
    let namespaced = resource("rbac.authorization.k8s.io", "roles");
    for (namespace, role) in namespaced::roles() {
        create_missing_in(objects, namespaced, &namespace, role, &options).await?;
    }
    let namespaced = resource("rbac.authorization.k8s.io", "rolebindings");
    for (namespace, binding) in namespaced::role_bindings() {
        create_missing_in(objects, namespaced, &namespace, binding, &options).await?;
    }
    let classes = resource("scheduling.k8s.io", "priorityclasses");
    for (name, value, description) in PRIORITY_CLASSES {
        let class = json!({
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": name},
            "value": value,
            "description": description,
        });
        create_missing(objects, classes, class, &options).await?;
    }
    ensure_api_services(objects, &options).await
}

fn resource(group: &str, plural: &str) -> &'static ResourceInfo {
    registry::by_resource(group, plural).expect("the bootstrap kinds are registered")
}

/// Creates `object` unless one of its name exists.
async fn create_missing(
    objects: &Objects,
    resource: &ResourceInfo,
    object: Value,
    options: &WriteOptions,
) -> Result<(), ApiError> {
    match objects.create(resource, None, object, options).await {
        Ok(_) => Ok(()),
        Err(err) if err.reason == StatusReason::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}

/// Creates `object` in `namespace` unless one of its name exists there.
async fn create_missing_in(
    objects: &Objects,
    resource: &ResourceInfo,
    namespace: &str,
    object: Value,
    options: &WriteOptions,
) -> Result<(), ApiError> {
    match objects
        .create(resource, Some(namespace), object, options)
        .await
    {
        Ok(_) => Ok(()),
        Err(err) if err.reason == StatusReason::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}

/// Registers every served group-version that has a built-in priority and
/// marks it available.
async fn ensure_api_services(objects: &Objects, options: &WriteOptions) -> Result<(), ApiError> {
    let services = resource("apiregistration.k8s.io", "apiservices");
    for (group, version) in registry::group_versions() {
        let Some(service) = apiservices::api_service(group, version) else {
            continue;
        };
        create_missing(objects, services, service, options).await?;
        let name = apiservices::name(group, version);
        if apiservices::is_available(&objects.get(services, "", &name).await?) {
            continue;
        }
        let target = Update {
            resource: services,
            namespace: "",
            name: &name,
            subresource: Some("status"),
        };
        let now = crate::meta::now_timestamp();
        objects
            .update(&target, options, |current| {
                let mut next = current.clone();
                next["status"] = apiservices::available(&now);
                crate::meta::set_meta(&mut next, "resourceVersion", None);
                Ok(next)
            })
            .await?;
    }
    Ok(())
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;

    async fn objects() -> (crate::testing::Server, Objects) {
        let server = crate::testing::embedded().await;
        let caches = crate::watch::Caches::new(server.store.clone());
        let objects = Objects::new(server.store.clone())
            .with_admission(super::super::admission::chain(&caches).steps);
        (server, objects)
    }

    #[tokio::test]
    async fn creates_the_policy_classes_and_api_services_once() {
        let (_server, objects) = objects().await;
        ensure(&objects).await.expect("bootstraps");
        ensure(&objects).await.expect("bootstraps again");
        let roles = resource("rbac.authorization.k8s.io", "clusterroles");
        let admin = objects.get(roles, "", "admin").await.expect("admin");
        let rules = admin["rules"].as_array().expect("aggregated rules");
        assert!(rules.iter().any(|r| {
            r["resources"]
                .as_array()
                .is_some_and(|r| r.contains(&json!("rolebindings")))
        }));
        assert!(rules.iter().any(|r| {
            r["resources"]
                .as_array()
                .is_some_and(|r| r.contains(&json!("pods/log")))
        }));
        let view = objects.get(roles, "", "view").await.expect("view");
        assert_eq!(
            view["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"],
            "true"
        );
        let bindings = resource("rbac.authorization.k8s.io", "clusterrolebindings");
        let public = objects
            .get(bindings, "", "system:public-info-viewer")
            .await
            .expect("binding");
        assert_eq!(public["subjects"][1]["name"], "system:unauthenticated");
        let controller = objects
            .get(bindings, "", "system:controller:deployment-controller")
            .await
            .expect("a controller's binding");
        assert_eq!(controller["subjects"][0]["name"], "deployment-controller");
        let roles_in = resource("rbac.authorization.k8s.io", "roles");
        let lock = objects
            .get(
                roles_in,
                "kube-system",
                "system::leader-locking-kube-scheduler",
            )
            .await
            .expect("a kube-system Role");
        assert_eq!(lock["rules"][1]["resourceNames"][0], "kube-scheduler");
        let bindings_in = resource("rbac.authorization.k8s.io", "rolebindings");
        let signer = objects
            .get(
                bindings_in,
                "kube-public",
                "system:controller:bootstrap-signer",
            )
            .await
            .expect("a kube-public RoleBinding");
        assert_eq!(signer["subjects"][0]["namespace"], "kube-system");
        let classes = resource("scheduling.k8s.io", "priorityclasses");
        let critical = objects
            .get(classes, "", "system-node-critical")
            .await
            .expect("class");
        assert_eq!(
            (
                critical["value"].clone(),
                critical["preemptionPolicy"].clone()
            ),
            (json!(2_000_001_000), json!("PreemptLowerPriority"))
        );
        let services = resource("apiregistration.k8s.io", "apiservices");
        let core = objects.get(services, "", "v1.").await.expect("v1.");
        assert_eq!(core["spec"]["groupPriorityMinimum"], 18000);
        assert!(core["spec"]["service"].is_null());
        assert!(apiservices::is_available(&core));
        let apps = objects.get(services, "", "v1.apps").await.expect("v1.apps");
        assert_eq!(apps["status"]["conditions"][0]["reason"], "Local");
    }
}
