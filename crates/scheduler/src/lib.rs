//! keelson's scheduler: it watches pods that no node runs yet and binds
//! each to the node upstream's kube-scheduler (v1.33, default profile)
//! would choose, as an API client.
//!
//! - [`framework`]: one trait per extension point, the status that
//!   decides retry or unschedulable, node and pod infos, and the profile
//!   runtime;
//! - [`plugins`]: the default profile's plugins, one module each;
//! - [`config`]: `KubeSchedulerConfiguration` and the profiles built from
//!   it;
//! - [`queue`]: the scheduling queue (active, backoff, unschedulable);
//! - [`cache`]: nodes and the pods bound or assumed on them;
//! - [`schedule`]: one pod's scheduling cycle, pure over a snapshot;
//! - [`scheduler`]: the loop that feeds them from watches and binds.

pub mod cache;
pub mod config;
pub mod framework;
pub mod plugins;
pub mod queue;
pub mod schedule;
pub mod scheduler;

/// What a failed API call says: the server's message, or the error.
pub(crate) fn error_message(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}
