//! Server-side apply: `PATCH` with `application/apply-patch+yaml`. The
//! applied configuration is merged into the live object along the kind's
//! schema ([`typed`]), ownership moves between managers as
//! structured-merge-diff moves it ([`ownership`]), kubectl's upgrade from
//! client-side apply is honoured ([`last_applied`]). The object layer
//! stores the result through its one write path (`Objects::apply`), so
//! defaults, validation, generation, namespaces and dry runs work as for
//! every other write.

pub mod fieldset;
pub mod last_applied;
pub mod ownership;
pub mod typed;

use keelson_api::error::{StatusCause, cause_type};
use keelson_api::registry::ResourceInfo;
use keelson_api::{ApiError, FieldError, FieldPath};
use serde_json::Value;

use crate::fields::managed::{self, SYSTEM_METADATA, owned_part};
use crate::meta::set_meta;
use crate::schema::Schemas;
use ownership::{Applier, Conflict};

/// The media type of apply patches.
pub const MEDIA_TYPE: &str = "application/apply-patch+yaml";

/// Checks the query of an apply as upstream's `ValidatePatchOptions`
/// does: `fieldManager` is required (422), `force` a boolean (400).
/// Returns `force`.
pub fn check_options(field_manager: Option<&str>, force: Option<&str>) -> Result<bool, ApiError> {
    if field_manager.is_none_or(str::is_empty) {
        let cause = FieldError::required(
            &FieldPath::new("fieldManager"),
            "is required for apply patch",
        );
        return Err(ApiError::invalid(
            "meta.k8s.io",
            "PatchOptions",
            "",
            &[cause],
        ));
    }
    match force {
        None | Some("") => Ok(false),
        Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
        Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
        Some(other) => Err(ApiError::bad_request(format!(
            "strconv.ParseBool: parsing {other:?}: invalid syntax"
        ))),
    }
}

/// Decodes an apply body: YAML, or JSON (which kubectl sends).
pub fn decode(bytes: &[u8]) -> Result<Value, ApiError> {
    let config = crate::codec::decode(bytes, "application/json")
        .or_else(|_| crate::codec::decode(bytes, "application/yaml"))?;
    if !config.is_object() {
        return Err(ApiError::bad_request(
            "an apply patch must be an object (a YAML or JSON document)",
        ));
    }
    Ok(config)
}

/// The object to store: `config` applied to `current` (`None`: absent),
/// with its managedFields.
pub(crate) fn applied_object(
    resource: &ResourceInfo,
    current: Option<&Value>,
    config: &Value,
    who: &Applier<'_>,
) -> Result<Value, ApiError> {
    let Some((schemas, root)) = Schemas::of(resource) else {
        return Err(ApiError::unsupported_media_type(format!(
            "server-side apply is not supported for {}",
            resource.plural
        )));
    };
    let has_status = resource.subresource("status").is_some();
    let view = |object: &Value| owned_part(object, who.subresource, has_status);
    let live = current.map(view);
    let entries = ownership::decode(current.and_then(|c| c.pointer("/metadata/managedFields")));
    let kubectl = who.manager == last_applied::KUBECTL && who.subresource.is_none();
    let allowed = current
        .filter(|_| kubectl && !who.force)
        .and_then(|c| last_applied::allowed(&schemas, root, c, who.api_version, has_status));
    let applied = ownership::apply(
        &schemas,
        root,
        live.as_ref(),
        &view(config),
        entries,
        who,
        allowed.as_ref(),
    )
    .map_err(|conflicts| conflict_error(&conflicts))?;
    let mut object = reassemble(current.unwrap_or(config), applied.object, who, has_status);
    if kubectl && current.and_then(last_applied::annotation).is_some() {
        let annotations = crate::meta::metadata_mut(&mut object)
            .entry("annotations")
            .or_insert_with(|| Value::Object(Default::default()));
        annotations[last_applied::ANNOTATION] = Value::from(last_applied::updated(config));
    }
    let entries = applied.entries.iter().map(|e| e.to_json()).collect();
    set_meta(&mut object, "managedFields", managed::encode(entries));
    let precondition = config.pointer("/metadata/resourceVersion").cloned();
    set_meta(&mut object, "resourceVersion", precondition);
    Ok(object)
}

/// The whole object from the new owned part and `base` (the live object,
/// or the configuration for a create): type, system metadata, and the part
/// the endpoint does not write (status, or all but status).
fn reassemble(base: &Value, view: Value, who: &Applier<'_>, has_status: bool) -> Value {
    if who.subresource == Some("status") {
        let mut out = base.clone();
        match (out.as_object_mut(), view.get("status")) {
            (Some(map), Some(status)) => {
                map.insert("status".into(), status.clone());
            }
            (Some(map), None) => {
                map.remove("status");
            }
            _ => {}
        }
        return out;
    }
    let mut out = view;
    for field in ["apiVersion", "kind"] {
        out[field] = base[field].clone();
    }
    for field in SYSTEM_METADATA {
        let value = base.get("metadata").and_then(|m| m.get(*field)).cloned();
        set_meta(&mut out, field, value);
    }
    if has_status && let Some(status) = base.get("status") {
        out["status"] = status.clone();
    }
    out
}

/// The 409 of an apply that conflicts, as upstream words it.
fn conflict_error(conflicts: &[Conflict]) -> ApiError {
    let causes = conflicts
        .iter()
        .map(|c| StatusCause {
            reason: cause_type::FIELD_MANAGER_CONFLICT.to_string(),
            message: format!("conflict with {}", c.manager),
            field: c.field.clone(),
        })
        .collect();
    ApiError::apply_conflict(causes, ownership::conflict_message(conflicts))
}

#[cfg(test)]
mod tests;
