//! keelson's scheduler: it watches pods that no node runs yet and binds
//! each to the node upstream's kube-scheduler (v1.33, default profile)
//! would choose, as an API client.
//!
//! - [`framework`]: one trait per extension point, the status that
//!   decides retry or unschedulable, node and pod infos, and the profile
//!   runtime;
//! - [`plugins`]: the default profile's plugins, one module each.

pub mod framework;
pub mod plugins;
