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

use std::sync::OnceLock;

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

fn documents() -> &'static [Document] {
    static DOCUMENTS: OnceLock<Vec<Document>> = OnceLock::new();
    DOCUMENTS.get_or_init(|| {
        registry::group_versions()
            .into_iter()
            .map(|(group, version)| {
                let document = build_document(group, version);
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
            })
            .collect()
    })
}

/// FNV-1a, 64 bits: stable across builds and platforms, which is all the
/// index's `hash` (a cache key for clients) needs.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The document of one group-version (`""` for the core group).
fn build_document(group: &str, version: &str) -> Value {
    let resources: Vec<&ResourceInfo> = registry::resources_in(group, version).collect();
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
    documents()
        .iter()
        .find(|d| d.group == group && d.version == version)
        .map(|d| d.bytes.clone())
}

/// The hash the index gives for a group-version's document (what clients
/// send back as `?hash=`).
pub fn v3_hash(group: &str, version: &str) -> Option<&'static str> {
    documents()
        .iter()
        .find(|d| d.group == group && d.version == version)
        .map(|d| d.hash.as_str())
}

/// The component schemas (`io.k8s.api.apps.v1.Deployment`, ...) of a
/// group-version's document, for the server's own checks.
pub fn schemas(group: &str, version: &str) -> Option<&'static Map<String, Value>> {
    documents()
        .iter()
        .find(|d| d.group == group && d.version == version)
        .map(|d| &d.schemas)
}
