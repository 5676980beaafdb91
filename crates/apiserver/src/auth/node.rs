//! The Node authorizer (upstream's `--authorization-mode=Node`): what a
//! node agent (`system:node:NAME` in `system:nodes`) may read and write.
//!
//! A node reads a Secret, ConfigMap, PersistentVolumeClaim,
//! PersistentVolume or ServiceAccount token only when a pod bound to it
//! uses that object: upstream keeps a graph of those relations, fed by
//! informers; here the relation is looked up in the server's watch caches
//! when a node asks (pods bound to the node, the objects they name, the
//! claims' volumes), which gives the same answers. Its own Node, its own
//! Lease in `kube-node-lease`, the pods bound to it (by `get`, or a list
//! or watch with the `spec.nodeName` field selector) and their statuses are
//! decided as upstream's authorizer with `AuthorizeNodeWithSelectors` (on
//! by default in v1.33); everything else by the static rules of the
//! `system:node` ClusterRole. What a write may change is NodeRestriction
//! admission's part ([`crate::registry::admission::NodeRestriction`]).
//!
//! An answer is `Allow` or no opinion with upstream's reason; RBAC then
//! decides what the Node authorizer does not allow.

use std::sync::Arc;

use keelson_api::ApiError;
use keelson_api::field_selector::{Operator, Selector};
use keelson_api::registry::{self, ResourceInfo};
use serde_json::Value;

use super::rbac::rules::Rule;
use super::request_info::Attributes;
use super::user::User;
use crate::watch::Caches;

/// The group of every node.
pub const NODES: &str = "system:nodes";
/// The prefix of a node's user name.
pub const NODE_USER_PREFIX: &str = "system:node:";
/// The namespace of node leases.
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

/// The node `user` is: `Some(name)` for `system:node:NAME` in
/// `system:nodes` (an empty name when the user names none), `None` for
/// anyone else.
pub fn node_of(user: &User) -> Option<&str> {
    let name = user.name.strip_prefix(NODE_USER_PREFIX)?;
    user.in_group(NODES).then_some(name)
}

/// The Node authorizer's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// No opinion, with upstream's reason (maybe empty).
    NoOpinion(String),
}

fn no(reason: impl Into<String>) -> Result<Verdict, ApiError> {
    Ok(Verdict::NoOpinion(reason.into()))
}

/// The Node authorizer of one server.
#[derive(Clone)]
pub struct NodeAuthorizer {
    caches: Caches,
    /// The `system:node` ClusterRole's rules, for what is not subdivided.
    rules: Arc<Vec<Rule>>,
}

/// The kinds whose relation to a node is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pod,
    Secret,
    ConfigMap,
    Claim,
    Volume,
    ServiceAccount,
}

impl Kind {
    /// The name upstream's graph gives the kind in its messages.
    fn vertex(self) -> &'static str {
        match self {
            Kind::Pod => "pod",
            Kind::Secret => "secret",
            Kind::ConfigMap => "configmap",
            Kind::Claim => "pvc",
            Kind::Volume => "pv",
            Kind::ServiceAccount => "serviceAccount",
        }
    }
}

impl NodeAuthorizer {
    /// The authorizer reading relations from `caches`, allowing what
    /// `rules` (the `system:node` role's) allow.
    pub fn new(caches: Caches, rules: Vec<Rule>) -> Self {
        NodeAuthorizer {
            caches,
            rules: Arc::new(rules),
        }
    }

    /// Decides `request` for `user`; no opinion for anyone not a node.
    pub async fn authorize(&self, user: &User, request: &Attributes) -> Result<Verdict, ApiError> {
        let Some(node) = node_of(user) else {
            return no("");
        };
        if node.is_empty() {
            return no(format!("unknown node for user {:?}", user.name));
        }
        if request.resource_request {
            match (request.api_group.as_str(), request.resource.as_str()) {
                ("", "secrets") => return self.read_namespaced(node, Kind::Secret, request).await,
                ("", "configmaps") => {
                    return self.read_namespaced(node, Kind::ConfigMap, request).await;
                }
                ("", "persistentvolumeclaims") if request.subresource == "status" => {
                    return self.status_update(node, Kind::Claim, request).await;
                }
                ("", "persistentvolumeclaims") => {
                    return self.get(node, Kind::Claim, request).await;
                }
                ("", "persistentvolumes") => return self.get(node, Kind::Volume, request).await,
                ("", "serviceaccounts") => return self.create_token(node, request).await,
                ("coordination.k8s.io", "leases") => return lease(node, request),
                ("storage.k8s.io", "csinodes") => return csi_node(node, request),
                ("", "nodes") => return node_object(node, request),
                ("", "pods") => return self.pod(node, request).await,
                _ => {}
            }
        }
        match self.rules.iter().any(|rule| rule.allows(request)) {
            true => Ok(Verdict::Allow),
            false => no(""),
        }
    }

    async fn status_update(
        &self,
        node: &str,
        kind: Kind,
        request: &Attributes,
    ) -> Result<Verdict, ApiError> {
        if !matches!(request.verb.as_str(), "update" | "patch") {
            return no("can only get/update/patch this type");
        }
        self.related(node, kind, request).await
    }

    async fn get(&self, node: &str, kind: Kind, request: &Attributes) -> Result<Verdict, ApiError> {
        if request.verb != "get" {
            return no("can only get individual resources of this type");
        }
        if !request.subresource.is_empty() {
            return no("cannot get subresource");
        }
        self.related(node, kind, request).await
    }

    async fn read_namespaced(
        &self,
        node: &str,
        kind: Kind,
        request: &Attributes,
    ) -> Result<Verdict, ApiError> {
        if !matches!(request.verb.as_str(), "get" | "list" | "watch") {
            return no("can only read resources of this type");
        }
        if !request.subresource.is_empty() {
            return no("cannot read subresource");
        }
        if request.namespace.is_empty() {
            return no("can only read namespaced object of this type");
        }
        self.related(node, kind, request).await
    }

    async fn create_token(&self, node: &str, request: &Attributes) -> Result<Verdict, ApiError> {
        if request.verb != "create" || request.name.is_empty() {
            return no("can only create tokens for individual service accounts");
        }
        if request.subresource != "token" {
            return no("can only create token subresource of serviceaccount");
        }
        self.related(node, Kind::ServiceAccount, request).await
    }

    async fn pod(&self, node: &str, request: &Attributes) -> Result<Verdict, ApiError> {
        match (request.subresource.as_str(), request.verb.as_str()) {
            ("", "get") => self.get(node, Kind::Pod, request).await,
            ("", "list" | "watch") => {
                if selects_node(&request.field_selector, "spec.nodeName", node) {
                    return Ok(Verdict::Allow);
                }
                if !request.name.is_empty() {
                    return self.related(node, Kind::Pod, request).await;
                }
                no("can only list/watch pods with spec.nodeName field selector")
            }
            // Mirror pods, and pod deletion: NodeRestriction limits them
            // to pods bound to the node.
            ("", "create" | "delete") | ("status", "update" | "patch") | ("eviction", "create") => {
                Ok(Verdict::Allow)
            }
            _ => no(""),
        }
    }

    /// Allows the request when the object it names is used by a pod bound
    /// to `node`.
    async fn related(
        &self,
        node: &str,
        kind: Kind,
        request: &Attributes,
    ) -> Result<Verdict, ApiError> {
        if request.name.is_empty() {
            return no("No Object name found");
        }
        match self
            .has_path(node, kind, &request.namespace, &request.name)
            .await?
        {
            true => Ok(Verdict::Allow),
            false => no(format!(
                "no relationship found between node '{node}' and this object"
            )),
        }
    }

    /// Whether a pod bound to `node` uses the `kind` object
    /// `namespace/name` (directly, or through a claim and its volume).
    async fn has_path(
        &self,
        node: &str,
        kind: Kind,
        namespace: &str,
        name: &str,
    ) -> Result<bool, ApiError> {
        tracing::trace!(
            node,
            kind = kind.vertex(),
            namespace,
            name,
            "node authorizer lookup"
        );
        if kind == Kind::Volume {
            return self.volume_in_use(node, name).await;
        }
        let pods = self.pods_on(node, Some(namespace)).await?;
        let direct = pods.iter().any(|pod| match kind {
            Kind::Pod => pod["metadata"]["name"] == name,
            Kind::ServiceAccount => service_account_of(pod) == name,
            Kind::Secret => references(pod).secrets.iter().any(|s| s == name),
            Kind::ConfigMap => references(pod).config_maps.iter().any(|c| c == name),
            Kind::Claim => references(pod).claims.iter().any(|c| c == name),
            Kind::Volume => false,
        });
        if direct || kind != Kind::Secret {
            return Ok(direct);
        }
        // A secret a persistent volume of the node's pods names.
        for volume in self.volumes_of(node).await? {
            if volume_secrets(&volume)
                .iter()
                .any(|(ns, secret)| ns == namespace && secret == name)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether the volume `name` is bound to a claim a pod of `node` uses.
    async fn volume_in_use(&self, node: &str, name: &str) -> Result<bool, ApiError> {
        Ok(self
            .volumes_of(node)
            .await?
            .iter()
            .any(|volume| volume["metadata"]["name"] == name))
    }

    /// The persistent volumes bound to the claims of `node`'s pods.
    async fn volumes_of(&self, node: &str) -> Result<Vec<Value>, ApiError> {
        let mut claims = Vec::new();
        for pod in self.pods_on(node, None).await? {
            let namespace = pod["metadata"]["namespace"].as_str().unwrap_or_default();
            for claim in references(&pod).claims {
                claims.push((namespace.to_string(), claim));
            }
        }
        if claims.is_empty() {
            return Ok(Vec::new());
        }
        let claim_resource = served("", "persistentvolumeclaims")?;
        let volume_resource = served("", "persistentvolumes")?;
        let claim_cache = self.caches.of(claim_resource).await?;
        let volume_cache = self.caches.of(volume_resource).await?;
        let mut volumes = Vec::new();
        for (namespace, claim) in claims {
            let key = registry::storage_key(claim_resource, &namespace, &claim);
            let Some(Some(found)) = claim_cache.lookup(&key) else {
                continue;
            };
            let Some(volume) = found["spec"]["volumeName"]
                .as_str()
                .filter(|v| !v.is_empty())
            else {
                continue;
            };
            let key = registry::storage_key(volume_resource, "", volume);
            if let Some(Some(volume)) = volume_cache.lookup(&key) {
                volumes.push(volume);
            }
        }
        Ok(volumes)
    }

    /// The pods bound to `node`, of `namespace` or of every namespace.
    async fn pods_on(&self, node: &str, namespace: Option<&str>) -> Result<Vec<Value>, ApiError> {
        let pods = served("", "pods")?;
        let cache = self.caches.of(pods).await?;
        let Some(snapshot) = cache.snapshot() else {
            return Err(ApiError::internal("the pod cache is not available"));
        };
        let prefix = registry::storage_prefix(pods, namespace);
        Ok(snapshot
            .under(&prefix)
            .filter(|pod| pod.value()["spec"]["nodeName"] == node)
            .map(|pod| pod.value().clone())
            .collect())
    }
}

fn served(group: &str, plural: &str) -> Result<&'static ResourceInfo, ApiError> {
    registry::by_resource(group, plural)
        .ok_or_else(|| ApiError::internal(format!("{plural} are not served")))
}

/// Whether a field selector requires `field` to equal `value`.
fn selects_node(selector: &str, field: &str, value: &str) -> bool {
    let Ok(selector) = Selector::parse(selector) else {
        return false;
    };
    selector.requirements().iter().any(|requirement| {
        requirement.field == field
            && requirement.operator == Operator::Equals
            && requirement.value == value
    })
}

fn lease(node: &str, request: &Attributes) -> Result<Verdict, ApiError> {
    let verb = request.verb.as_str();
    if !matches!(verb, "get" | "create" | "update" | "patch" | "delete") {
        return no("can only get, create, update, patch, or delete a node lease");
    }
    if request.namespace != NODE_LEASE_NAMESPACE {
        return no(format!(
            "can only access leases in the {NODE_LEASE_NAMESPACE:?} system namespace"
        ));
    }
    // A create names no object here; NodeRestriction checks its name.
    if verb != "create" && request.name != node {
        return no("can only access node lease with the same name as the requesting node");
    }
    Ok(Verdict::Allow)
}

fn csi_node(node: &str, request: &Attributes) -> Result<Verdict, ApiError> {
    let verb = request.verb.as_str();
    if !matches!(verb, "get" | "create" | "update" | "patch" | "delete") {
        return no("can only get, create, update, patch, or delete a CSINode");
    }
    if !request.subresource.is_empty() {
        return no("cannot authorize CSINode subresources");
    }
    if verb != "create" && request.name != node {
        return no("can only access CSINode with the same name as the requesting node");
    }
    Ok(Verdict::Allow)
}

fn node_object(node: &str, request: &Attributes) -> Result<Verdict, ApiError> {
    match (request.subresource.as_str(), request.verb.as_str()) {
        // NodeRestriction limits writes to the node's own object.
        ("", "create" | "update" | "patch") | ("status", "update" | "patch") => Ok(Verdict::Allow),
        ("", "get" | "list" | "watch") => match request.name.as_str() {
            name if name == node => Ok(Verdict::Allow),
            "" => no(format!(
                "node '{node}' cannot read all nodes, only its own Node object"
            )),
            other => no(format!(
                "node '{node}' cannot read '{other}', only its own Node object"
            )),
        },
        _ => no(""),
    }
}

/// The ServiceAccount a pod runs as.
fn service_account_of(pod: &Value) -> &str {
    pod["spec"]["serviceAccountName"]
        .as_str()
        .or_else(|| pod["spec"]["serviceAccount"].as_str())
        .unwrap_or_default()
}

/// The objects of its namespace a pod names.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct References {
    pub secrets: Vec<String>,
    pub config_maps: Vec<String>,
    pub claims: Vec<String>,
}

/// The Secrets, ConfigMaps and claims `pod` uses: in its volumes
/// (projected sources, the secret references of volume plugins, the
/// claims of generic ephemeral volumes), its containers' environment
/// (init and ephemeral containers too) and its image pull secrets.
pub fn references(pod: &Value) -> References {
    let mut found = References::default();
    let spec = &pod["spec"];
    let pod_name = pod["metadata"]["name"].as_str().unwrap_or_default();
    let push = |list: &mut Vec<String>, name: &Value| {
        if let Some(name) = name.as_str().filter(|n| !n.is_empty()) {
            list.push(name.to_string());
        }
    };
    for secret in items(&spec["imagePullSecrets"]) {
        push(&mut found.secrets, &secret["name"]);
    }
    for container in ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|list| items(&spec[*list]))
    {
        for from in items(&container["envFrom"]) {
            push(&mut found.secrets, &from["secretRef"]["name"]);
            push(&mut found.config_maps, &from["configMapRef"]["name"]);
        }
        for env in items(&container["env"]) {
            let source = &env["valueFrom"];
            push(&mut found.secrets, &source["secretKeyRef"]["name"]);
            push(&mut found.config_maps, &source["configMapKeyRef"]["name"]);
        }
    }
    for volume in items(&spec["volumes"]) {
        push(&mut found.secrets, &volume["secret"]["secretName"]);
        push(&mut found.config_maps, &volume["configMap"]["name"]);
        push(
            &mut found.claims,
            &volume["persistentVolumeClaim"]["claimName"],
        );
        if volume["ephemeral"].is_object()
            && let Some(name) = volume["name"].as_str()
        {
            found.claims.push(format!("{pod_name}-{name}"));
        }
        for source in items(&volume["projected"]["sources"]) {
            push(&mut found.secrets, &source["secret"]["name"]);
            push(&mut found.config_maps, &source["configMap"]["name"]);
        }
        // The volume plugins that take a secret of the pod's namespace.
        for plugin in [
            "azureFile",
            "cephfs",
            "cinder",
            "csi",
            "flexVolume",
            "iscsi",
            "rbd",
            "scaleIO",
            "storageos",
        ] {
            let source = &volume[plugin];
            if !source.is_object() {
                continue;
            }
            push(&mut found.secrets, &source["secretName"]);
            push(&mut found.secrets, &source["secretRef"]["name"]);
            push(&mut found.secrets, &source["nodePublishSecretRef"]["name"]);
        }
    }
    found
}

/// The Secrets (namespace, name) a persistent volume's source names.
fn volume_secrets(volume: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let spec = &volume["spec"];
    let default_namespace = spec["claimRef"]["namespace"].as_str().unwrap_or_default();
    let mut push = |reference: &Value| {
        if let Some(name) = reference["name"].as_str().filter(|n| !n.is_empty()) {
            let namespace = reference["namespace"].as_str().unwrap_or(default_namespace);
            found.push((namespace.to_string(), name.to_string()));
        }
    };
    let csi = &spec["csi"];
    for reference in [
        "nodePublishSecretRef",
        "nodeStageSecretRef",
        "controllerPublishSecretRef",
        "controllerExpandSecretRef",
        "nodeExpandSecretRef",
    ] {
        push(&csi[reference]);
    }
    for plugin in [
        "cephfs",
        "cinder",
        "flexVolume",
        "iscsi",
        "rbd",
        "scaleIO",
        "storageos",
    ] {
        push(&spec[plugin]["secretRef"]);
    }
    if let Some(name) = spec["azureFile"]["secretName"].as_str() {
        let namespace = spec["azureFile"]["secretNamespace"]
            .as_str()
            .unwrap_or(default_namespace);
        found.push((namespace.to_string(), name.to_string()));
    }
    found
}

fn items(list: &Value) -> impl Iterator<Item = &Value> {
    list.as_array().into_iter().flatten()
}

#[cfg(test)]
mod tests;
