//! The seam through which admission sees every write before it is stored,
//! as upstream's admission chain runs inside the registry's create and
//! update. The object layer calls the steps it was given, in order; the
//! steps themselves (NamespaceLifecycle, ...) live in the registry layer
//! above, and may read other objects through the [`Objects`] they are
//! handed.

use async_trait::async_trait;
use keelson_api::ApiError;
use keelson_api::registry::ResourceInfo;
use serde_json::Value;

use super::Objects;

/// What a write does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// A new object.
    Create,
    /// A change to a stored object.
    Update,
}

/// The write an admission step looks at.
#[derive(Debug, Clone, Copy)]
pub struct Attributes<'a> {
    pub operation: Operation,
    pub resource: &'a ResourceInfo,
    /// The namespace of a namespaced object.
    pub namespace: Option<&'a str>,
    /// The object's name (empty while a generated name is still to come).
    pub name: &'a str,
    /// The object as it will be stored.
    pub object: &'a Value,
}

/// One admission step: it may refuse a write.
#[async_trait]
pub trait Admission: Send + Sync {
    /// The step's name, as upstream names its plugin (`NamespaceLifecycle`).
    fn name(&self) -> &'static str;

    /// `Err` refuses the write with the error the client sees.
    async fn validate(&self, objects: &Objects, write: &Attributes<'_>) -> Result<(), ApiError>;
}

impl Objects {
    /// Passes `write` through every admission step, stopping at the first
    /// refusal.
    pub(crate) async fn admit_write(&self, write: &Attributes<'_>) -> Result<(), ApiError> {
        for step in self.admission.iter() {
            step.validate(self, write).await?;
        }
        Ok(())
    }
}
