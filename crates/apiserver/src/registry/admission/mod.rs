//! Admission: the steps every create and update passes before it is
//! stored, behind the object layer's [`Admission`] seam, listed in one
//! place ([`chain`]) in the order of upstream's default plugins. Each step
//! is one module and looks only at the resources it is about, as upstream's
//! plugins do; all of them leave subresource writes alone.
//!
//! Of upstream's default chain, these are here: NamespaceLifecycle,
//! ServiceAccount (the defaulting part), Priority, DefaultTolerationSeconds
//! and DefaultStorageClass. Refusing pods whose ServiceAccount does not
//! exist comes with the ServiceAccount controller; LimitRanger and
//! ResourceQuota with their controllers.

mod default_storage_class;
mod default_toleration_seconds;
mod namespace_lifecycle;
mod priority;
mod service_account;

use std::sync::Arc;

use keelson_api::ApiError;
use keelson_api::registry::{self, ResourceInfo};
use serde_json::Value;

use crate::objects::admission::{Admission, Attributes, Operation};
use crate::objects::{ListOptions, Objects};

pub use default_storage_class::DefaultStorageClass;
pub use default_toleration_seconds::DefaultTolerationSeconds;
pub use namespace_lifecycle::NamespaceLifecycle;
pub use priority::Priority;
pub use service_account::ServiceAccount;

/// The admission steps of a keelson API server, in upstream's order.
pub fn chain() -> Vec<Arc<dyn Admission>> {
    vec![
        Arc::new(NamespaceLifecycle),
        Arc::new(ServiceAccount),
        Arc::new(Priority),
        Arc::new(DefaultTolerationSeconds),
        Arc::new(DefaultStorageClass),
    ]
}

/// Whether `write` creates (or, with `Operation::Update` in `operations`,
/// updates) an object of `group`/`plural` itself, not a subresource.
fn is_write_of(
    write: &Attributes<'_>,
    group: &str,
    plural: &str,
    operations: &[Operation],
) -> bool {
    write.subresource.is_none()
        && operations.contains(&write.operation)
        && write.resource.group == group
        && write.resource.plural == plural
}

/// The registered resource `group`/`plural`.
fn resource(group: &str, plural: &str) -> Result<&'static ResourceInfo, ApiError> {
    registry::by_resource(group, plural)
        .ok_or_else(|| ApiError::internal(format!("{plural}.{group} is not served")))
}

/// Every object of the cluster-scoped `group`/`plural`.
async fn list_all(objects: &Objects, group: &str, plural: &str) -> Result<Vec<Value>, ApiError> {
    let resource = resource(group, plural)?;
    let mut list = objects
        .list(resource, None, &ListOptions::default())
        .await?;
    match list["items"].take() {
        Value::Array(items) => Ok(items),
        _ => Ok(Vec::new()),
    }
}

/// The forbidden (403) refusal of an admission step, worded as upstream's
/// `admission.NewForbidden`.
fn forbidden(write: &Attributes<'_>, why: &str) -> ApiError {
    let resource = write.resource;
    ApiError::forbidden(resource.group, resource.plural, write.name, why)
}
