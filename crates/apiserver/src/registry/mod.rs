//! The registry layer, between HTTP and the generic object layer: what the
//! registry's subresource table says a subresource does beyond storing
//! fields ([`scale`], the pod actions [`pod_actions`], ServiceAccount
//! tokens [`token_request`] signed by [`tokens`]), the admission
//! steps every write passes ([`admission`]), what the
//! server adds to CertificateSigningRequests ([`csr`]), Services' addresses
//! ([`allocation`], [`kubernetes_service`]), and the objects a cluster
//! starts with ([`bootstrap`]). The kinds' own rules live in their
//! strategies (`keelson_api::strategy`).

pub mod admission;
pub mod allocation;
pub mod bootstrap;
pub mod csr;
mod disruption;
pub mod kubernetes_service;
pub mod pod_actions;
pub mod scale;
pub mod token_request;
pub mod tokens;

use keelson_api::ApiError;
use keelson_api::registry::ResourceInfo;

/// The registered resource `group`/`plural`: an internal error (not a
/// panic) should a step look for one the registry does not serve.
pub fn served(group: &str, plural: &str) -> Result<&'static ResourceInfo, ApiError> {
    keelson_api::registry::by_resource(group, plural)
        .ok_or_else(|| ApiError::internal(format!("{plural}.{group} is not served")))
}

/// The 404 for a path that addresses nothing.
pub fn no_such_path() -> ApiError {
    ApiError {
        reason: keelson_api::StatusReason::NotFound,
        message: "the server could not find the requested resource".into(),
        details: None,
    }
}
