//! The write path of server-side apply: the configuration is merged by
//! the apply engine (`crate::fields::apply`) into the current object, or
//! into nothing when the object is absent, and stored through
//! [`Objects::update_owned`] or [`Objects::create_owned`] with the
//! managedFields the engine computed.

use keelson_api::{ApiError, StatusReason};
use serde_json::Value;

use super::{Objects, Ownership, Update, WriteOptions};
use crate::fields::apply::applied_object;
use crate::fields::apply::ownership::Applier;
use crate::meta::{meta_str, set_meta};
use crate::schema::{FieldValidation, Source};

/// How often an apply that lost a create race is retried as an update.
const ATTEMPTS: usize = 3;

/// One apply request.
pub struct Request<'a> {
    pub target: &'a Update<'a>,
    /// `dryRun`, and the `fieldManager` (required, see [`check_options`]).
    pub options: &'a WriteOptions,
    /// `force=true`: take fields other managers own.
    pub force: bool,
    pub validation: FieldValidation,
}

/// What an apply did.
pub struct Outcome {
    /// Whether the object was created (201) rather than updated (200).
    pub created: bool,
    pub object: Value,
    /// `fieldValidation` warnings.
    pub warnings: Vec<String>,
}

impl Objects {
    /// Applies `config` as `request` says: creates the object when absent.
    pub async fn apply(&self, request: &Request<'_>, config: Value) -> Result<Outcome, ApiError> {
        apply(self, request, config).await
    }
}

async fn apply(
    objects: &Objects,
    request: &Request<'_>,
    mut config: Value,
) -> Result<Outcome, ApiError> {
    let target = request.target;
    let resource = target.resource;
    check_config(target, &mut config)?;
    let warnings = request
        .validation
        .check(resource, &mut config, Source::Apply)?;
    let who = Applier {
        manager: request.options.manager(),
        subresource: target.subresource,
        api_version: &resource.api_version(),
        force: request.force,
        now: &crate::meta::now_timestamp(),
    };
    for _ in 0..ATTEMPTS {
        let updated = objects
            .update_owned(target, request.options, Ownership::Given, |current| {
                applied_object(resource, Some(current), &config, &who)
            })
            .await;
        match updated {
            Ok(object) => {
                return Ok(Outcome {
                    created: false,
                    object,
                    warnings,
                });
            }
            Err(err) if err.reason == StatusReason::NotFound && target.subresource.is_none() => {}
            Err(err) => return Err(err),
        }
        let object = applied_object(resource, None, &config, &who)?;
        let namespace = resource.namespaced.then_some(target.namespace);
        match objects
            .create_owned(
                resource,
                namespace,
                object,
                request.options,
                Ownership::Given,
            )
            .await
        {
            Ok(object) => {
                return Ok(Outcome {
                    created: true,
                    object,
                    warnings,
                });
            }
            // Another client created it meanwhile: apply to theirs.
            Err(err) if err.reason == StatusReason::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
    Err(ApiError::conflict(
        resource.group,
        resource.plural,
        target.name,
    ))
}

/// Refuses configurations upstream refuses, and names the object as the
/// URL does when the configuration leaves its name out.
fn check_config(target: &Update<'_>, config: &mut Value) -> Result<(), ApiError> {
    for field in ["kind", "apiVersion"] {
        if config
            .get(field)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            let name = if field == "kind" {
                "Kind"
            } else {
                "APIVersion"
            };
            return Err(ApiError::bad_request(format!(
                "Object '{name}' is missing in '{config}'"
            )));
        }
    }
    super::create::check_type(target.resource, config)?;
    if config.pointer("/metadata/managedFields").is_some() {
        return Err(ApiError::bad_request("metadata.managedFields must be nil"));
    }
    let name = meta_str(config, "name");
    if name.is_empty() {
        set_meta(config, "name", Some(Value::from(target.name)));
    } else if name != target.name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({name}) does not match the name on the URL ({})",
            target.name
        )));
    }
    Ok(())
}
