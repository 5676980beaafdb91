//! DefaultStorageClass, as upstream's plugin: a new claim that names no
//! storage class (neither `spec.storageClassName` nor the beta annotation;
//! an empty name is a choice of no class) gets the default class, the
//! newest of those annotated `storageclass.kubernetes.io/is-default-class:
//! "true"` (or its beta form), the name breaking ties.

use async_trait::async_trait;
use keelson_api::ApiError;
use serde_json::Value;

use super::{Lookups, is_write_of};
use crate::objects::Objects;
use crate::objects::admission::{Admission, Attributes, Operation};

const GROUP: &str = "storage.k8s.io";
const PLURAL: &str = "storageclasses";
const DEFAULT_ANNOTATIONS: &[&str] = &[
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
];
/// The claim annotation that named a class before `storageClassName`.
const BETA_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

/// Gives new claims without a class the default one.
pub struct DefaultStorageClass {
    lookups: Lookups,
}

impl DefaultStorageClass {
    pub fn new(lookups: Lookups) -> Self {
        DefaultStorageClass { lookups }
    }
}

#[async_trait]
impl Admission for DefaultStorageClass {
    fn name(&self) -> &'static str {
        "DefaultStorageClass"
    }

    async fn admit(
        &self,
        objects: &Objects,
        write: &Attributes<'_>,
        claim: &mut Value,
    ) -> Result<(), ApiError> {
        let creates_claim = is_write_of(write, "", "persistentvolumeclaims", &[Operation::Create]);
        if !creates_claim || has_class(claim) {
            return Ok(());
        }
        let classes = self.lookups.list_all(objects, GROUP, PLURAL).await?;
        if let (Some(class), Some(spec)) = (
            default_class(&classes),
            claim.get_mut("spec").and_then(Value::as_object_mut),
        ) {
            spec.insert("storageClassName".into(), Value::from(class));
        }
        Ok(())
    }
}

fn has_class(claim: &Value) -> bool {
    let named = claim
        .pointer("/spec/storageClassName")
        .is_some_and(|name| !name.is_null());
    let annotated = claim
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(BETA_CLASS))
        .is_some();
    named || annotated
}

fn is_default(class: &Value) -> bool {
    let annotations = class.pointer("/metadata/annotations");
    DEFAULT_ANNOTATIONS.iter().any(|key| {
        annotations
            .and_then(|a| a.get(*key))
            .and_then(Value::as_str)
            == Some("true")
    })
}

/// The newest default class's name; the first by name among equals.
fn default_class(classes: &[Value]) -> Option<String> {
    let key = |class: &Value| {
        let text = |path| class.pointer(path).and_then(Value::as_str).unwrap_or("");
        let created = text("/metadata/creationTimestamp")
            .parse::<jiff::Timestamp>()
            .ok();
        (created, text("/metadata/name").to_string())
    };
    let mut defaults: Vec<_> = classes.iter().filter(|c| is_default(c)).map(key).collect();
    defaults.sort_by(|(at_a, name_a), (at_b, name_b)| at_b.cmp(at_a).then(name_a.cmp(name_b)));
    defaults.into_iter().next().map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn class(name: &str, created: &str, default: Option<&str>) -> Value {
        let mut class = json!({"metadata": {"name": name, "creationTimestamp": created}});
        if let Some(value) = default {
            class["metadata"]["annotations"] = json!({DEFAULT_ANNOTATIONS[0]: value});
        }
        class
    }

    #[test]
    fn the_newest_default_class_wins_then_the_first_name() {
        let classes = [
            class("old", "2026-01-01T00:00:00Z", Some("true")),
            class("new-b", "2026-02-01T00:00:00Z", Some("true")),
            class("new-a", "2026-02-01T00:00:00Z", Some("true")),
            class("newest", "2026-03-01T00:00:00Z", Some("false")),
            class("plain", "2026-03-01T00:00:00Z", None),
        ];
        assert_eq!(default_class(&classes).as_deref(), Some("new-a"));
        assert_eq!(default_class(&classes[3..]), None);
    }

    #[test]
    fn an_empty_class_name_is_a_choice() {
        assert!(!has_class(&json!({"spec": {}})));
        assert!(!has_class(&json!({"spec": {"storageClassName": null}})));
        assert!(has_class(&json!({"spec": {"storageClassName": ""}})));
        assert!(has_class(
            &json!({"metadata": {"annotations": {BETA_CLASS: "x"}}, "spec": {}})
        ));
    }
}
