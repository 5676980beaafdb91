//! DefaultTolerationSeconds: a new pod tolerates a node that is not ready
//! or unreachable for 300 s before it is evicted, unless it says how it
//! tolerates those taints itself, as upstream's plugin.

use async_trait::async_trait;
use keelson_api::ApiError;
use serde_json::{Value, json};

use super::is_write_of;
use crate::objects::Objects;
use crate::objects::admission::{Admission, Attributes, Operation};

/// The taint of a node whose Ready condition is False.
const NOT_READY: &str = "node.kubernetes.io/not-ready";
/// The taint of a node whose Ready condition is Unknown.
const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// Upstream's default `--default-not-ready-toleration-seconds` and
/// `--default-unreachable-toleration-seconds`.
const SECONDS: i64 = 300;

/// Adds the default NoExecute tolerations to new pods.
pub struct DefaultTolerationSeconds;

#[async_trait]
impl Admission for DefaultTolerationSeconds {
    fn name(&self) -> &'static str {
        "DefaultTolerationSeconds"
    }

    async fn admit(
        &self,
        _objects: &Objects,
        write: &Attributes<'_>,
        pod: &mut Value,
    ) -> Result<(), ApiError> {
        if is_write_of(write, "", "pods", &[Operation::Create]) {
            add_default_tolerations(pod);
        }
        Ok(())
    }
}

/// Whether `toleration` already decides how the pod tolerates NoExecute
/// taints with `key`: it names the key (or none) and the effect NoExecute
/// (or none).
fn covers(toleration: &Value, key: &str) -> bool {
    let text = |field| toleration.get(field).and_then(Value::as_str).unwrap_or("");
    (text("key") == key || text("key").is_empty())
        && (text("effect") == "NoExecute" || text("effect").is_empty())
}

fn add_default_tolerations(pod: &mut Value) {
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let tolerations = spec
        .entry("tolerations")
        .or_insert_with(|| Value::Array(Vec::new()));
    if tolerations.is_null() {
        *tolerations = Value::Array(Vec::new());
    }
    let Some(list) = tolerations.as_array_mut() else {
        return;
    };
    for key in [NOT_READY, UNREACHABLE] {
        if !list.iter().any(|t| covers(t, key)) {
            list.push(json!({
                "key": key,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": SECONDS,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_after(tolerations: Value) -> Vec<(String, Option<i64>)> {
        let mut pod = json!({"spec": {"tolerations": tolerations}});
        add_default_tolerations(&mut pod);
        pod["spec"]["tolerations"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|t| {
                let key = t["key"].as_str().unwrap_or("").to_string();
                (key, t["tolerationSeconds"].as_i64())
            })
            .collect()
    }

    #[test]
    fn pods_get_both_tolerations_unless_they_tolerate_the_taints() {
        let both = vec![
            (NOT_READY.to_string(), Some(300)),
            (UNREACHABLE.to_string(), Some(300)),
        ];
        assert_eq!(keys_after(Value::Null), both);
        assert_eq!(keys_after(json!([])), both);
        let own = json!([{"key": NOT_READY, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}]);
        assert_eq!(
            keys_after(own),
            vec![
                (NOT_READY.to_string(), Some(5)),
                (UNREACHABLE.to_string(), Some(300)),
            ]
        );
        // Tolerating every taint leaves nothing to add.
        assert_eq!(
            keys_after(json!([{"operator": "Exists"}])),
            vec![(String::new(), None)]
        );
        // A NoSchedule toleration is no answer for NoExecute.
        let no_schedule =
            json!([{"key": UNREACHABLE, "operator": "Exists", "effect": "NoSchedule"}]);
        assert_eq!(keys_after(no_schedule).len(), 3);
    }
}
