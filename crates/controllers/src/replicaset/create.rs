//! How a ReplicaSet creates pods: the pod made from its template, how many
//! at most in one sync, and the slow-start batches that stop a failing
//! create (say, quota exceeded) from being tried hundreds of times at once.

use keelson_api::k8s_openapi::api::apps::v1::ReplicaSet;
use keelson_api::k8s_openapi::api::core::v1::Pod;
use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::claim::{OwnerKind, controller_ref_of};

/// The most pods one sync creates or deletes (upstream's `BurstReplicas`).
pub const BURST_REPLICAS: usize = 500;

/// The size of the first slow-start batch; each next one doubles.
pub const SLOW_START_INITIAL_BATCH_SIZE: usize = 1;

/// The longest `generateName` prefix that leaves room for the suffix the
/// API server adds and still makes a valid DNS subdomain.
const MAX_PREFIX_LEN: usize = 252;

/// The batch sizes in which `count` creates are made: 1, 2, 4, ... with the
/// last cut to what remains. The loop runs each batch's creates together
/// and stops after the first batch in which any failed: the creates of the
/// later batches are skipped (and their expectations lowered), to be tried
/// again on the next sync.
pub fn slow_start_batches(count: usize) -> Vec<usize> {
    let mut batches = Vec::new();
    let mut remaining = count;
    let mut size = SLOW_START_INITIAL_BATCH_SIZE.min(remaining);
    while size > 0 {
        batches.push(size);
        remaining -= size;
        size = (2 * size).min(remaining);
    }
    batches
}

/// The pod to create for `rs`: the template's labels, annotations,
/// finalizers and spec, a `generateName` of `<rs-name>-`, in the
/// ReplicaSet's namespace, controlled by the ReplicaSet (controller and
/// blockOwnerDeletion set).
pub fn pod_from_template(rs: &ReplicaSet, kind: OwnerKind) -> Pod {
    let template = rs.spec.as_ref().and_then(|spec| spec.template.as_ref());
    let meta = template.and_then(|t| t.metadata.as_ref());
    Pod {
        metadata: ObjectMeta {
            namespace: rs.metadata.namespace.clone(),
            generate_name: Some(generate_name(rs.metadata.name.as_deref().unwrap_or(""))),
            labels: meta.and_then(|m| m.labels.clone()),
            annotations: meta.and_then(|m| m.annotations.clone()),
            finalizers: meta.and_then(|m| m.finalizers.clone()),
            owner_references: Some(vec![controller_ref_of(rs, kind)]),
            ..ObjectMeta::default()
        },
        spec: template.and_then(|t| t.spec.clone()),
        status: None,
    }
}

/// Whether the template can make pods at all: upstream refuses to create
/// a pod without labels, as no selector could ever find it again.
pub fn template_has_labels(rs: &ReplicaSet) -> bool {
    rs.spec
        .as_ref()
        .and_then(|spec| spec.template.as_ref()?.metadata.as_ref())
        .and_then(|meta| meta.labels.as_ref())
        .is_some_and(|labels| !labels.is_empty())
}

/// `<name>-`, or the bare name when the dash would make it too long.
fn generate_name(name: &str) -> String {
    if name.len() < MAX_PREFIX_LEN + 1 {
        format!("{name}-")
    } else {
        name.to_string()
    }
}
