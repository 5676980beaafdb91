//! Per-kind defaulting: the values a Kubernetes v1.33 API server fills in
//! when an object is created or updated (`replicas: 1`, `RollingUpdate
//! 25%/25%`, `imagePullPolicy`, `dnsPolicy: ClusterFirst`, ...), applied to
//! the object as JSON so that fields keelson's types do not know survive.
//!
//! The rules follow upstream's `pkg/apis/*/v1/defaults.go` and the
//! declarative defaults of the API types, plus the few values upstream's
//! create strategies always set and clients see as defaults (a Namespace's
//! `kubernetes` finalizer and `kubernetes.io/metadata.name` label, a
//! Service's `ipFamilyPolicy`). What needs server state (a Job's selector,
//! which needs the uid; cluster IPs; the service account) is left to the
//! server: see [`job_selector_defaults`].
//!
//! The rules are grouped here by kind family; each kind's
//! [`crate::strategy`] names the ones that apply to it.

pub(crate) mod apiextensions;
pub(crate) mod autoscaling;
pub(crate) mod cluster;
pub(crate) mod core;
pub(crate) mod pod;
pub(crate) mod replication;
pub(crate) mod workloads;

use serde_json::Value;

use crate::registry::ResourceInfo;

pub(crate) use pod::VOLUME_SOURCES;
pub use pod::default_pull_policy;
pub use workloads::job_selector_defaults;

/// Fills the defaults of `resource`'s kind into `object`, a JSON object of
/// that kind. Fields already set are kept; unknown fields are untouched.
/// Applying the defaults twice gives the same object.
pub fn apply_defaults(resource: &ResourceInfo, object: &mut Value) {
    if !object.is_object() {
        return;
    }
    resource.strategy.defaults(object);
}
