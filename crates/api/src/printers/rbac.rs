//! The tables of role bindings, cluster role bindings and API services
//! (roles and cluster roles print upstream's default table).

use jiff::Timestamp;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use serde_json::{Value, json};

use super::format::age;
use super::{AGE, Column, NAME, Row, col, wide};

/// The columns of a binding's table; `what` names the kind in the subject
/// columns' descriptions.
macro_rules! binding_columns {
    ($role:literal, $what:literal) => {
        &[
            NAME,
            col("Role", "string", $role),
            AGE,
            wide("Users", "string", concat!("Users in the ", $what)),
            wide("Groups", "string", concat!("Groups in the ", $what)),
            wide(
                "ServiceAccounts",
                "string",
                concat!("ServiceAccounts in the ", $what),
            ),
        ]
    };
}

pub(crate) const ROLE_BINDING: &[Column] = binding_columns!(
    "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.",
    "roleBinding"
);

pub(crate) const CLUSTER_ROLE_BINDING: &[Column] = binding_columns!(
    "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.",
    "clusterRoleBinding"
);

pub(crate) const API_SERVICE: &[Column] = &[
    NAME,
    col(
        "Service",
        "string",
        "The reference to the service that hosts this API endpoint.",
    ),
    col("Available", "string", "Whether this service is available."),
    AGE,
];

/// A binding's row: its role as `Kind/name`, then its users, groups and
/// service accounts (`namespace/name`).
fn binding_row(meta: ObjectMeta, role: &RoleRef, subjects: &[Subject], now: Timestamp) -> Row {
    let of = |kind: &str| -> String {
        subjects
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| match kind {
                "ServiceAccount" => format!("{}/{}", s.namespace.as_deref().unwrap_or(""), s.name),
                _ => s.name.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    Row::new(vec![
        json!(meta.name.unwrap_or_default()),
        json!(format!("{}/{}", role.kind, role.name)),
        json!(age(meta.creation_timestamp.as_ref(), now)),
        json!(of("User")),
        json!(of("Group")),
        json!(of("ServiceAccount")),
    ])
}

pub(crate) fn role_binding(object: &Value, now: Timestamp) -> Option<Row> {
    let binding: RoleBinding = super::typed(object)?;
    let subjects = binding.subjects.unwrap_or_default();
    Some(binding_row(
        binding.metadata,
        &binding.role_ref,
        &subjects,
        now,
    ))
}

pub(crate) fn cluster_role_binding(object: &Value, now: Timestamp) -> Option<Row> {
    let binding: ClusterRoleBinding = super::typed(object)?;
    let subjects = binding.subjects.unwrap_or_default();
    Some(binding_row(
        binding.metadata,
        &binding.role_ref,
        &subjects,
        now,
    ))
}

/// `Local` or the service's `namespace/name`, and `True`, `False
/// (Reason)` or `Unknown` from the `Available` condition.
pub(crate) fn api_service(object: &Value, now: Timestamp) -> Option<Row> {
    let service: APIService = super::typed(object)?;
    let spec = service.spec.unwrap_or_default();
    let backend = spec.service.map_or_else(
        || "Local".to_string(),
        |s| {
            format!(
                "{}/{}",
                s.namespace.unwrap_or_default(),
                s.name.unwrap_or_default()
            )
        },
    );
    let conditions = service
        .status
        .and_then(|s| s.conditions)
        .unwrap_or_default();
    let available = conditions
        .iter()
        .find(|c| c.type_ == "Available")
        .map_or_else(
            || "Unknown".to_string(),
            |c| match c.reason.as_deref().filter(|r| !r.is_empty()) {
                Some(reason) if c.status != "True" => format!("{} ({reason})", c.status),
                _ => c.status.clone(),
            },
        );
    Some(Row::new(vec![
        json!(service.metadata.name.unwrap_or_default()),
        json!(backend),
        json!(available),
        json!(age(service.metadata.creation_timestamp.as_ref(), now)),
    ]))
}
