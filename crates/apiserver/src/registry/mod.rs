//! The registry layer, between HTTP and the generic object layer: what the
//! registry's subresource table says a subresource does beyond storing
//! fields ([`scale`], the pod actions [`pod_actions`]), the admission
//! steps every write passes ([`admission`]), Services' addresses
//! ([`allocation`], [`kubernetes_service`]), and the objects a cluster
//! starts with ([`bootstrap`]). The kinds' own rules live in their
//! strategies (`keelson_api::strategy`).

pub mod admission;
pub mod allocation;
pub mod bootstrap;
mod disruption;
pub mod kubernetes_service;
pub mod pod_actions;
pub mod scale;

use keelson_api::ApiError;

/// The 404 for a path that addresses nothing.
pub fn no_such_path() -> ApiError {
    ApiError {
        reason: keelson_api::StatusReason::NotFound,
        message: "the server could not find the requested resource".into(),
        details: None,
    }
}
