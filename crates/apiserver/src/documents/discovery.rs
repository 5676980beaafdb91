//! Discovery documents, all built from [`keelson_api::registry`]: the
//! legacy ones (`/api` `APIVersions`, `/apis` `APIGroupList`, `/apis/G`
//! `APIGroup`, `/api/v1` and `/apis/G/V` `APIResourceList`) and the
//! aggregated `APIGroupDiscoveryList` (`apidiscovery.k8s.io/v2` and
//! `v2beta1`) with which kubectl discovers everything in two requests.
//!
//! The registry lists every subresource upstream has, each with how keelson
//! serves it; discovery advertises only the served ones (the same table
//! routes requests), so that kubectl never offers a command that would
//! fail with 404.

use keelson_api::registry::{self, ResourceInfo, Subresource};
use serde_json::{Map, Value, json};

/// Content type of an `apidiscovery.k8s.io/v2` answer.
pub const CONTENT_TYPE_V2: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
/// Content type of an `apidiscovery.k8s.io/v2beta1` answer.
pub const CONTENT_TYPE_V2BETA1: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

/// Which root an aggregated document describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregated {
    /// `/api`: the core group.
    Core,
    /// `/apis`: every named group.
    Groups,
}

/// The version of the aggregated discovery format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoveryVersion {
    /// `apidiscovery.k8s.io/v2` (kubectl 1.30+).
    V2,
    /// `apidiscovery.k8s.io/v2beta1` (kubectl up to 1.29).
    V2Beta1,
}

impl DiscoveryVersion {
    /// The `apiVersion` of the document.
    pub fn api_version(self) -> &'static str {
        match self {
            Self::V2 => "apidiscovery.k8s.io/v2",
            Self::V2Beta1 => "apidiscovery.k8s.io/v2beta1",
        }
    }

    /// The `Content-Type` of the answer.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::V2 => CONTENT_TYPE_V2,
            Self::V2Beta1 => CONTENT_TYPE_V2BETA1,
        }
    }
}

/// Which discovery format an `Accept` header asks for first: an aggregated
/// version, or `None` for the plain documents (also when nothing in the
/// header is understood).
pub fn negotiate(accept: &str) -> Option<DiscoveryVersion> {
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media_type = parts.next().unwrap_or_default().to_ascii_lowercase();
        let params: Vec<(&str, &str)> = parts.filter_map(|p| p.split_once('=')).collect();
        let param = |name: &str| {
            params
                .iter()
                .find(|(key, _)| key.trim().eq_ignore_ascii_case(name))
                .map(|(_, value)| value.trim())
        };
        if !matches!(
            media_type.as_str(),
            "application/json" | "application/*" | "*/*"
        ) {
            continue;
        }
        match (param("g"), param("v"), param("as")) {
            (Some("apidiscovery.k8s.io"), Some("v2"), Some("APIGroupDiscoveryList")) => {
                return Some(DiscoveryVersion::V2);
            }
            (Some("apidiscovery.k8s.io"), Some("v2beta1"), Some("APIGroupDiscoveryList")) => {
                return Some(DiscoveryVersion::V2Beta1);
            }
            (None, _, None) => return None,
            // Another typed answer (a Table, say) is nothing discovery has.
            _ => continue,
        }
    }
    None
}

/// `GET /api`: the `APIVersions` of the core group, reachable at
/// `server_address` (`host:port`) from every client.
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            { "clientCIDR": "0.0.0.0/0", "serverAddress": server_address }
        ],
    })
}

/// The named groups, in registry order, each with its versions.
fn named_groups() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut groups: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for (group, version) in registry::group_versions() {
        if group.is_empty() {
            continue;
        }
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, versions)) => versions.push(version),
            None => groups.push((group, vec![version])),
        }
    }
    groups
}

fn group_json(group: &str, versions: &[&str]) -> Value {
    let version = |v: &str| json!({ "groupVersion": format!("{group}/{v}"), "version": v });
    json!({
        "name": group,
        "versions": versions.iter().map(|v| version(v)).collect::<Vec<_>>(),
        "preferredVersion": version(versions[0]),
    })
}

/// `GET /apis`: the `APIGroupList` of every named group.
pub fn api_group_list() -> Value {
    let groups: Vec<Value> = named_groups()
        .iter()
        .map(|(group, versions)| group_json(group, versions))
        .collect();
    json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups })
}

/// `GET /apis/G`: the `APIGroup` of `group`, if keelson serves it.
pub fn api_group(group: &str) -> Option<Value> {
    let (name, versions) = named_groups().into_iter().find(|(g, _)| *g == group)?;
    let mut document = group_json(name, &versions);
    let object = document.as_object_mut()?;
    object.insert("kind".into(), json!("APIGroup"));
    object.insert("apiVersion".into(), json!("v1"));
    Some(document)
}

/// `GET /api/v1` or `/apis/G/V`: the `APIResourceList` of a group-version
/// (`""` for the core group), with one entry per resource and one per
/// served subresource (`pods/status`), sorted by name as upstream does.
pub fn api_resource_list(group: &str, version: &str) -> Option<Value> {
    let mut resources: Vec<Value> = Vec::new();
    for resource in registry::resources_in(group, version) {
        resources.push(api_resource(resource));
        for sub in resource.served_subresources() {
            resources.push(api_subresource(resource, sub));
        }
    }
    if resources.is_empty() {
        return None;
    }
    resources.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }))
}

/// One `APIResource` of a resource.
fn api_resource(resource: &ResourceInfo) -> Value {
    let mut entry = Map::new();
    entry.insert("name".into(), json!(resource.plural));
    entry.insert("singularName".into(), json!(resource.singular));
    entry.insert("namespaced".into(), json!(resource.namespaced));
    entry.insert("kind".into(), json!(resource.kind));
    entry.insert("verbs".into(), json!(resource.verbs));
    if !resource.short_names.is_empty() {
        entry.insert("shortNames".into(), json!(resource.short_names));
    }
    if !resource.categories.is_empty() {
        entry.insert("categories".into(), json!(resource.categories));
    }
    Value::Object(entry)
}

/// One `APIResource` of a subresource (`deployments/scale`); `group` and
/// `version` only when they differ from the parent's.
fn api_subresource(resource: &ResourceInfo, sub: &Subresource) -> Value {
    let mut entry = Map::new();
    entry.insert(
        "name".into(),
        json!(format!("{}/{}", resource.plural, sub.name)),
    );
    entry.insert("singularName".into(), json!(""));
    entry.insert("namespaced".into(), json!(resource.namespaced));
    if (sub.group, sub.version) != (resource.group, resource.version) {
        entry.insert("group".into(), json!(sub.group));
        entry.insert("version".into(), json!(sub.version));
    }
    entry.insert("kind".into(), json!(sub.kind));
    entry.insert("verbs".into(), json!(sub.verbs));
    Value::Object(entry)
}

/// The aggregated discovery document (`APIGroupDiscoveryList`) of `/api`
/// or `/apis`, in the requested format version.
pub fn aggregated(which: Aggregated, version: DiscoveryVersion) -> Value {
    let items: Vec<Value> = match which {
        Aggregated::Core => vec![group_discovery("", &["v1"])],
        Aggregated::Groups => named_groups()
            .iter()
            .map(|(group, versions)| group_discovery(group, versions))
            .collect(),
    };
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": version.api_version(),
        "metadata": {},
        "items": items,
    })
}

/// One `APIGroupDiscovery`.
fn group_discovery(group: &str, versions: &[&str]) -> Value {
    let mut metadata = json!({ "creationTimestamp": null });
    if !group.is_empty() {
        metadata["name"] = json!(group);
    }
    let versions: Vec<Value> = versions
        .iter()
        .map(|version| {
            let mut resources: Vec<&ResourceInfo> =
                registry::resources_in(group, version).collect();
            resources.sort_by_key(|r| r.plural);
            json!({
                "version": version,
                "resources": resources.into_iter().map(resource_discovery).collect::<Vec<_>>(),
                "freshness": "Current",
            })
        })
        .collect();
    json!({ "metadata": metadata, "versions": versions })
}

fn kind_json(group: &str, version: &str, kind: &str) -> Value {
    json!({ "group": group, "version": version, "kind": kind })
}

/// One `APIResourceDiscovery`.
fn resource_discovery(resource: &ResourceInfo) -> Value {
    let mut entry = Map::new();
    entry.insert("resource".into(), json!(resource.plural));
    entry.insert(
        "responseKind".into(),
        kind_json(resource.group, resource.version, resource.kind),
    );
    let scope = if resource.namespaced {
        "Namespaced"
    } else {
        "Cluster"
    };
    entry.insert("scope".into(), json!(scope));
    entry.insert("singularResource".into(), json!(resource.singular));
    entry.insert("verbs".into(), json!(resource.verbs));
    if !resource.short_names.is_empty() {
        entry.insert("shortNames".into(), json!(resource.short_names));
    }
    if !resource.categories.is_empty() {
        entry.insert("categories".into(), json!(resource.categories));
    }
    let subresources: Vec<Value> = resource
        .served_subresources()
        .map(|sub| {
            json!({
                "subresource": sub.name,
                "responseKind": kind_json(sub.group, sub.version, sub.kind),
                "verbs": sub.verbs,
            })
        })
        .collect();
    if !subresources.is_empty() {
        entry.insert("subresources".into(), json!(subresources));
    }
    Value::Object(entry)
}
