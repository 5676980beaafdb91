//! Priority, as upstream's plugin: a new pod's `priorityClassName`
//! resolves to its `priority` and `preemptionPolicy` (a `globalDefault`
//! class applies to pods that name none; without one, priority 0 and
//! `PreemptLowerPriority`); a pod may not give other values itself, and
//! an update keeps what the create resolved. Only one PriorityClass may be
//! the global default.

use async_trait::async_trait;
use keelson_api::{ApiError, StatusReason};
use serde_json::{Map, Value};

use super::{Lookups, forbidden, is_write_of};
use crate::objects::Objects;
use crate::objects::admission::{Admission, Attributes, Operation};

const GROUP: &str = "scheduling.k8s.io";
const PLURAL: &str = "priorityclasses";
/// The preemption policy of pods without a class to say otherwise.
const PREEMPT_LOWER: &str = "PreemptLowerPriority";

/// Resolves pods' priorities and guards the single global default class.
pub struct Priority {
    lookups: Lookups,
}

impl Priority {
    pub fn new(lookups: Lookups) -> Self {
        Priority { lookups }
    }
}

/// What a pod's class gives it.
#[derive(Debug, Clone, PartialEq)]
struct Resolved {
    /// The class name to record (the default class's, for pods naming none).
    class: Option<String>,
    priority: i64,
    preemption_policy: Option<String>,
}

#[async_trait]
impl Admission for Priority {
    fn name(&self) -> &'static str {
        "Priority"
    }

    async fn admit(
        &self,
        objects: &Objects,
        write: &Attributes<'_>,
        pod: &mut Value,
    ) -> Result<(), ApiError> {
        if is_write_of(write, "", "pods", &[Operation::Update]) {
            if let Some(old) = write.old {
                keep_resolved(pod, old);
            }
            return Ok(());
        }
        if !is_write_of(write, "", "pods", &[Operation::Create]) {
            return Ok(());
        }
        let named = spec_text(pod, "priorityClassName").map(str::to_string);
        let resolved = match named {
            Some(name) => self.named_class(objects, write, &name).await?,
            None => self.default_class(objects).await?,
        };
        apply(write, pod, resolved)
    }

    async fn validate(
        &self,
        objects: &Objects,
        write: &Attributes<'_>,
        class: &Value,
    ) -> Result<(), ApiError> {
        let writes = [Operation::Create, Operation::Update];
        if !is_write_of(write, GROUP, PLURAL, &writes) || !is_global_default(class) {
            return Ok(());
        }
        // From the store, not the cache: two defaults must not slip in
        // one after the other.
        let classes = super::list_live(objects, GROUP, PLURAL).await?;
        match lowest_default(&classes) {
            Some(other) if name_of(other) != write.name => Err(forbidden(
                write,
                &format!(
                    "PriorityClass {} is already marked as default. Only one default can exist",
                    name_of(other)
                ),
            )),
            _ => Ok(()),
        }
    }
}

fn spec_text<'a>(pod: &'a Value, field: &str) -> Option<&'a str> {
    pod.pointer(&format!("/spec/{field}"))
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
}

fn name_of(object: &Value) -> &str {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn is_global_default(class: &Value) -> bool {
    class.get("globalDefault").and_then(Value::as_bool) == Some(true)
}

/// The global default class; when a race made several, the lowest value.
fn lowest_default(classes: &[Value]) -> Option<&Value> {
    let value = |class: &Value| class.get("value").and_then(Value::as_i64).unwrap_or(0);
    classes
        .iter()
        .filter(|class| is_global_default(class))
        .min_by_key(|class| value(class))
}

fn resolved_from(class: &Value, record_name: bool) -> Resolved {
    Resolved {
        class: record_name.then(|| name_of(class).to_string()),
        priority: class.get("value").and_then(Value::as_i64).unwrap_or(0),
        preemption_policy: class
            .get("preemptionPolicy")
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

impl Priority {
    async fn named_class(
        &self,
        objects: &Objects,
        write: &Attributes<'_>,
        name: &str,
    ) -> Result<Resolved, ApiError> {
        let not_found = || {
            forbidden(
                write,
                &format!("no PriorityClass with name {name} was found"),
            )
        };
        let classes = crate::registry::served(GROUP, PLURAL)?;
        match self.lookups.get(objects, classes, "", name).await {
            Ok(class) => Ok(resolved_from(&class, false)),
            Err(err) if err.reason == StatusReason::NotFound => Err(not_found()),
            Err(err) => Err(ApiError::internal(format!(
                "failed to get PriorityClass with name {name}: {}",
                err.message
            ))),
        }
    }

    async fn default_class(&self, objects: &Objects) -> Result<Resolved, ApiError> {
        let classes = self.lookups.list_all(objects, GROUP, PLURAL).await?;
        Ok(match lowest_default(&classes) {
            Some(class) => resolved_from(class, true),
            None => Resolved {
                class: None,
                priority: 0,
                preemption_policy: Some(PREEMPT_LOWER.to_string()),
            },
        })
    }
}

/// Writes what the class gave into the pod, refusing values the pod gave
/// that differ.
fn apply(write: &Attributes<'_>, pod: &mut Value, resolved: Resolved) -> Result<(), ApiError> {
    if let Some(given) = pod.pointer("/spec/priority").and_then(Value::as_i64)
        && given != resolved.priority
    {
        return Err(forbidden(
            write,
            &format!(
                "the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {} from the given PriorityClass name",
                resolved.priority
            ),
        ));
    }
    if let (Some(given), Some(policy)) = (
        spec_text(pod, "preemptionPolicy"),
        resolved.preemption_policy.as_deref(),
    ) && given != policy
    {
        return Err(forbidden(
            write,
            &format!(
                "the string value of PreemptionPolicy ({given}) must not be provided in pod spec; priority admission controller computed {policy} from the given PriorityClass name"
            ),
        ));
    }
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    if let Some(class) = resolved.class {
        spec.insert("priorityClassName".into(), Value::from(class));
    }
    spec.insert("priority".into(), Value::from(resolved.priority));
    if let Some(policy) = resolved.preemption_policy {
        spec.insert("preemptionPolicy".into(), Value::from(policy));
    }
    Ok(())
}

/// On update, the priority and preemption policy the create resolved stay
/// when the new object leaves them out.
fn keep_resolved(pod: &mut Value, old: &Value) {
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let old_spec = old.get("spec").and_then(Value::as_object);
    for field in ["priority", "preemptionPolicy"] {
        keep(spec, old_spec, field);
    }
}

fn keep(spec: &mut Map<String, Value>, old: Option<&Map<String, Value>>, field: &str) {
    let missing = spec.get(field).is_none_or(Value::is_null);
    if let (true, Some(value)) = (missing, old.and_then(|o| o.get(field))) {
        spec.insert(field.to_string(), value.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write() -> Attributes<'static> {
        let pods = keelson_api::registry::by_resource("", "pods").expect("pods");
        Attributes {
            operation: Operation::Create,
            resource: pods,
            namespace: Some("default"),
            name: "p",
            subresource: None,
            old: None,
            dry_run: false,
        }
    }

    fn class(name: &str, value: i64, default: bool) -> Value {
        json!({"metadata": {"name": name}, "value": value, "globalDefault": default,
               "preemptionPolicy": "Never"})
    }

    #[test]
    fn the_lowest_global_default_wins_a_race() {
        let classes = [
            class("a", 10, true),
            class("b", 5, true),
            class("c", 1, false),
        ];
        assert_eq!(lowest_default(&classes).map(name_of), Some("b"));
        assert_eq!(lowest_default(&classes[2..]), None);
    }

    #[test]
    fn resolved_values_are_written_and_others_refused() {
        let resolved = resolved_from(&class("high", 1000, false), false);
        let mut pod = json!({"spec": {"priorityClassName": "high"}});
        apply(&write(), &mut pod, resolved.clone()).expect("admitted");
        assert_eq!(pod["spec"]["priority"], 1000);
        assert_eq!(pod["spec"]["preemptionPolicy"], "Never");
        let mut wrong = json!({"spec": {"priority": 7}});
        let err = apply(&write(), &mut wrong, resolved.clone()).expect_err("refused");
        assert_eq!(err.reason, StatusReason::Forbidden);
        assert!(err.message.contains("the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 1000"), "{}", err.message);
        let mut policy = json!({"spec": {"preemptionPolicy": "PreemptLowerPriority"}});
        let err = apply(&write(), &mut policy, resolved).expect_err("refused");
        assert!(
            err.message.contains(
                "the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided"
            ),
            "{}",
            err.message
        );
    }

    #[test]
    fn updates_keep_what_the_create_resolved() {
        let old = json!({"spec": {"priority": 5, "preemptionPolicy": "Never"}});
        let mut pod = json!({"spec": {}});
        keep_resolved(&mut pod, &old);
        assert_eq!(
            pod["spec"],
            json!({"priority": 5, "preemptionPolicy": "Never"})
        );
    }
}
