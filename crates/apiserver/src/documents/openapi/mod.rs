//! The OpenAPI v3 documents: `/openapi/v3` (the index) and one document
//! per group-version (`/openapi/v3/api/v1`, `/openapi/v3/apis/apps/v1`),
//! built once from the registry and k8s-openapi's schemas and kept as
//! bytes.
//!
//! They carry what kubectl reads: each kind's schema marked with
//! `x-kubernetes-group-version-kind` and the list semantics of
//! [`keelson_api::list_types`] (from which `kubectl apply` computes its
//! strategic merge patch), and each resource's PATCH operation with its
//! group-version-kind, the `fieldValidation` parameter (without which
//! kubectl falls back to validating against `/openapi/v2`) and the four
//! patch content types.

mod paths;
mod schemas;

use std::collections::HashMap;
use std::sync::{OnceLock, PoisonError, RwLock};

use bytes::Bytes;
use keelson_api::registry::{self, ResourceInfo};
use serde_json::{Map, Value, json};

pub use paths::PATCH_CONTENT_TYPES;

/// One served document.
struct Document {
    /// `api/v1`, `apis/apps/v1`: the key in the index.
    path: String,
    group: &'static str,
    version: &'static str,
    /// The serialized document.
    bytes: Bytes,
    /// A stable hash of `bytes`, hex.
    hash: String,
    /// The document's component schemas, for the server's own use.
    schemas: Map<String, Value>,
}

/// The documents of the built-in group-versions, built once.
fn built_in() -> &'static [Document] {
    static DOCUMENTS: OnceLock<Vec<Document>> = OnceLock::new();
    DOCUMENTS.get_or_init(|| {
        let mut group_versions: Vec<(&'static str, &'static str)> = Vec::new();
        for resource in registry::all() {
            if !group_versions.contains(&(resource.group, resource.version)) {
                group_versions.push((resource.group, resource.version));
            }
        }
        group_versions
            .into_iter()
            .map(|(group, version)| document_of(group, version, &resources_of(group, version)))
            .collect()
    })
}

/// The built-in resources of a group-version, or the custom ones.
fn resources_of(group: &str, version: &str) -> Vec<&'static ResourceInfo> {
    registry::resources_in(group, version).collect()
}

fn document_of(
    group: &'static str,
    version: &'static str,
    resources: &[&'static ResourceInfo],
) -> Document {
    let document = build_document(group, version, resources);
    let bytes = serde_json::to_vec(&document).expect("a JSON value always serializes");
    let schemas = match document.pointer("/components/schemas") {
        Some(Value::Object(schemas)) => schemas.clone(),
        _ => Map::new(),
    };
    Document {
        path: paths::prefix(group, version)
            .trim_start_matches('/')
            .to_string(),
        group,
        version,
        hash: format!("{:016X}", fnv1a(&bytes)),
        schemas,
        bytes: Bytes::from(bytes),
    }
}

/// The documents of custom group-versions, made when first asked for and
/// kept (as the registry keeps the resources) until the custom resources
/// change ([`registry::custom_generation`]).
#[derive(Default)]
struct Made {
    generation: u64,
    documents: HashMap<(String, String), &'static Document>,
}

static CUSTOM: RwLock<Option<Made>> = RwLock::new(None);

/// The document of a custom group-version, as its resources are now.
fn custom(group: &'static str, version: &'static str) -> Option<&'static Document> {
    let generation = registry::custom_generation();
    let key = (group.to_string(), version.to_string());
    {
        let made = CUSTOM.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(made) = made.as_ref().filter(|m| m.generation == generation)
            && let Some(document) = made.documents.get(&key)
        {
            return Some(document);
        }
    }
    let resources: Vec<&'static ResourceInfo> = registry::custom()
        .iter()
        .copied()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    if resources.is_empty() {
        return None;
    }
    let document: &'static Document = Box::leak(Box::new(document_of(group, version, &resources)));
    let mut made = CUSTOM.write().unwrap_or_else(PoisonError::into_inner);
    let made = made.get_or_insert_with(Made::default);
    if made.generation != generation {
        made.generation = generation;
        made.documents.clear();
    }
    made.documents.insert(key, document);
    Some(document)
}

/// Every document served: the built-in ones, then the custom ones.
fn documents() -> Vec<&'static Document> {
    let mut all: Vec<&'static Document> = built_in().iter().collect();
    let mut seen: Vec<(&'static str, &'static str)> = Vec::new();
    for resource in registry::custom().iter() {
        let gv = (resource.group, resource.version);
        if seen.contains(&gv) || all.iter().any(|d| (d.group, d.version) == gv) {
            continue;
        }
        seen.push(gv);
        all.extend(custom(gv.0, gv.1));
    }
    all
}

/// The document of one group-version, if served.
fn document(group: &str, version: &str) -> Option<&'static Document> {
    if let Some(found) = built_in()
        .iter()
        .find(|d| d.group == group && d.version == version)
    {
        return Some(found);
    }
    let found = registry::custom()
        .iter()
        .copied()
        .find(|r| r.group == group && r.version == version)?;
    custom(found.group, found.version)
}

/// FNV-1a, 64 bits: stable across builds and platforms, which is all the
/// index's `hash` (a cache key for clients) needs.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The document of one group-version (`""` for the core group).
fn build_document(group: &str, version: &str, resources: &[&'static ResourceInfo]) -> Value {
    let resources: Vec<&ResourceInfo> = resources.to_vec();
    let mut paths = Map::new();
    for resource in &resources {
        paths::add_resource(&mut paths, resource);
    }
    json!({
        "openapi": "3.0.0",
        "info": { "title": "Kubernetes", "version": crate::KUBERNETES_VERSION },
        "paths": paths,
        "components": { "schemas": schemas::components(group, version, &resources) },
    })
}

/// `GET /openapi/v3`: where each group-version's document is, with a hash
/// of its content in the URL so that clients can cache it.
pub fn v3_index() -> Value {
    let paths: Map<String, Value> = documents()
        .iter()
        .map(|d| {
            let url = format!("/openapi/v3/{}?hash={}", d.path, d.hash);
            (d.path.clone(), json!({ "serverRelativeURL": url }))
        })
        .collect();
    json!({ "paths": paths })
}

/// `GET /openapi/v3/api/v1` or `/openapi/v3/apis/G/V`: the serialized
/// document of a group-version (`""` for the core group), if served.
/// Cloning the bytes is cheap; the document is built once.
pub fn v3_document(group: &str, version: &str) -> Option<Bytes> {
    document(group, version).map(|d| d.bytes.clone())
}

/// The hash the index gives for a group-version's document (what clients
/// send back as `?hash=`).
pub fn v3_hash(group: &str, version: &str) -> Option<&'static str> {
    document(group, version).map(|d| d.hash.as_str())
}

/// The component schemas (`io.k8s.api.apps.v1.Deployment`, ...) of a
/// group-version's document, for the server's own checks.
pub fn schemas(group: &str, version: &str) -> Option<&'static Map<String, Value>> {
    document(group, version).map(|d| &d.schemas)
}
