//! The upgrade from client-side to server-side apply, as upstream's
//! `lastAppliedManager` and `lastAppliedUpdater` do it for kubectl's
//! manager (`kubectl`) on objects carrying kubectl's
//! `last-applied-configuration` annotation: conflicts on fields whose live
//! value is still the one client-side apply last applied are taken without
//! `--force-conflicts`, and the annotation is kept up to date.

use serde_json::Value;

use super::fieldset::FieldSet;
use super::typed;
use crate::fields::managed::owned_part;
use crate::schema::Schemas;

/// kubectl's client-side apply annotation.
pub const ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// The only manager the upgrade applies to.
pub const KUBECTL: &str = "kubectl";

/// The fields the annotation of `live` sets to the values `live` still
/// has; `None` when there is no usable annotation.
pub fn allowed(
    schemas: &Schemas,
    root: &Value,
    live: &Value,
    api_version: &str,
    has_status: bool,
) -> Option<FieldSet> {
    let text = annotation(live)?;
    let last: Value = serde_json::from_str(text).ok()?;
    if last.get("apiVersion").and_then(Value::as_str) != Some(api_version) {
        return None;
    }
    let last = owned_part(&last, None, has_status);
    let live = owned_part(live, None, has_status);
    let mut set = typed::field_set(schemas, root, &last);
    set.unmark();
    let (changed, removed) = typed::compare(schemas, root, Some(&last), Some(&live));
    Some(set.difference(&changed).difference(&removed))
}

/// The annotation's value on `object`, if set and not empty.
pub fn annotation(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/annotations")?
        .get(ANNOTATION)?
        .as_str()
        .filter(|text| !text.is_empty())
}

/// The annotation's new value after an apply of `config`: the
/// configuration without the annotation, as kubectl writes it.
pub fn updated(config: &Value) -> String {
    let mut config = config.clone();
    if let Some(Value::Object(annotations)) = config.pointer_mut("/metadata/annotations") {
        annotations.remove(ANNOTATION);
    }
    let mut text = config.to_string();
    text.push('\n');
    text
}
