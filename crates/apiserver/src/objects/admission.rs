//! What every create and update passes before it is stored, in upstream's
//! order: the kind's defaults, the mutating admission steps, the kind's
//! strategy (what a new object derives from itself, validation), then the
//! validating admission steps. The steps (NamespaceLifecycle, Priority,
//! ...) live in the registry layer above, behind [`Admission`], and may
//! read other objects through the [`Objects`] they are handed; the object
//! layer calls the ones it was given, in order.

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
    /// The deletion of a stored object (`old`); only the validating
    /// phase sees it, with the stored object.
    Delete,
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
    /// The subresource written through (`status`), if any.
    pub subresource: Option<&'a str>,
    /// The stored object an update changes.
    pub old: Option<&'a Value>,
    /// `dryRun=All`: nothing is kept.
    pub dry_run: bool,
}

/// One admission step. Either phase may refuse the write with the error
/// the client sees; a step implements the phases it takes part in.
#[async_trait]
pub trait Admission: Send + Sync {
    /// The step's name, as upstream names its plugin (`NamespaceLifecycle`).
    fn name(&self) -> &'static str;

    /// The mutating phase: may change `object`.
    async fn admit(
        &self,
        _objects: &Objects,
        _write: &Attributes<'_>,
        _object: &mut Value,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// The validating phase, on the object as it will be stored.
    async fn validate(
        &self,
        _objects: &Objects,
        _write: &Attributes<'_>,
        _object: &Value,
    ) -> Result<(), ApiError> {
        Ok(())
    }
}

impl Objects {
    /// The validating phase alone, for a deletion (`object` is the stored
    /// one) and for the subresource creates that store no object of
    /// their own (an Eviction, a TokenRequest).
    pub async fn validate_only(
        &self,
        write: &Attributes<'_>,
        object: &Value,
    ) -> Result<(), ApiError> {
        for step in self.admission.iter() {
            step.validate(self, write, object).await?;
        }
        Ok(())
    }

    /// The mutating phase of every step, in order.
    pub(crate) async fn mutate(
        &self,
        write: &Attributes<'_>,
        object: &mut Value,
    ) -> Result<(), ApiError> {
        for step in self.admission.iter() {
            step.admit(self, write, object).await?;
        }
        Ok(())
    }

    /// What follows the mutating phase: the kind's defaults (again, for
    /// what the steps and the server added), what a new object derives
    /// from itself, the kind's validation, the validating phase, and the
    /// zero values Go would write.
    pub(crate) async fn check(
        &self,
        write: &Attributes<'_>,
        object: &mut Value,
    ) -> Result<(), ApiError> {
        let resource = write.resource;
        keelson_api::defaults::apply_defaults(resource, object);
        if write.operation == Operation::Create {
            resource.strategy.complete_create(object);
        }
        keelson_api::validate::validate(resource, object, write.old)?;
        for step in self.admission.iter() {
            step.validate(self, write, object).await?;
        }
        keelson_api::zero_values::fill(resource, object);
        Ok(())
    }
}
