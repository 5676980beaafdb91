//! NamespaceLifecycle: no new content in a namespace that is missing or
//! being deleted, as upstream's plugin of that name. Namespaces are read
//! through [`Lookups`]: from the watch cache once it has seen this server's
//! own changes to them, else from the store.

use async_trait::async_trait;
use keelson_api::ApiError;
use keelson_api::registry;
use serde_json::Value;

use super::Lookups;
use crate::meta::meta_str;
use crate::objects::Objects;
use crate::objects::admission::{Admission, Attributes, Operation};

/// Refuses creates in a namespace that does not exist (404) or is
/// terminating (403).
pub struct NamespaceLifecycle {
    lookups: Lookups,
}

impl NamespaceLifecycle {
    pub fn new(lookups: Lookups) -> Self {
        NamespaceLifecycle { lookups }
    }
}

#[async_trait]
impl Admission for NamespaceLifecycle {
    fn name(&self) -> &'static str {
        "NamespaceLifecycle"
    }

    async fn admit(
        &self,
        objects: &Objects,
        write: &Attributes<'_>,
        _object: &mut Value,
    ) -> Result<(), ApiError> {
        let (Operation::Create, Some(namespace)) = (write.operation, write.namespace) else {
            return Ok(());
        };
        let namespaces =
            registry::by_resource("", "namespaces").expect("namespaces are registered");
        let found = self.lookups.get(objects, namespaces, "", namespace).await?;
        let terminating = !meta_str(&found, "deletionTimestamp").is_empty()
            || found.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating");
        if !terminating {
            return Ok(());
        }
        let resource = write.resource;
        Err(ApiError::forbidden(
            resource.group,
            resource.plural,
            write.name,
            &format!(
                "unable to create new content in namespace {namespace} because it is being terminated"
            ),
        ))
    }
}
