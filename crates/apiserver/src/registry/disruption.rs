//! Pod disruption budgets as an eviction honours them (upstream's
//! eviction REST): which budget covers a pod, whether the pod may go
//! without taking from it, and the status a budget has once an eviction
//! takes one of its allowed disruptions. The decisions are pure; the
//! eviction in [`super::pod_actions`] carries them out.

use keelson_api::error::StatusCause;
use keelson_api::label_selector::Selector;
use keelson_api::{ApiError, StatusReason};
use serde_json::{Value, json};

use crate::meta::{labels, meta_str};

/// The `reason` of the cause a refused eviction names its budget in.
const DISRUPTION_BUDGET_CAUSE: &str = "DisruptionBudget";
/// The message of an eviction a budget refuses.
const REFUSED: &str = "Cannot evict pod as it would violate the pod's disruption budget.";
/// How many recorded disruptions a budget may hold before its controller
/// has caught up.
const MAX_DISRUPTED_PODS: usize = 2000;

/// Whether `pod` may go without asking its budget: it has not started
/// (`Pending`), has finished, or is already being deleted.
pub fn ignores_budgets(pod: &Value) -> bool {
    let phase = pod.pointer("/status/phase").and_then(Value::as_str);
    matches!(phase, Some("Pending" | "Succeeded" | "Failed"))
        || !meta_str(pod, "deletionTimestamp").is_empty()
}

/// Whether deleting `pod` must be conditional on its resourceVersion, so
/// that it cannot turn ready meanwhile: every pod but a finished or
/// deleted one.
pub fn guards_resource_version(pod: &Value) -> bool {
    let phase = pod.pointer("/status/phase").and_then(Value::as_str);
    !matches!(phase, Some("Succeeded" | "Failed")) && meta_str(pod, "deletionTimestamp").is_empty()
}

/// Whether `pod`'s `Ready` condition is true.
fn is_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// The budgets of `budgets` (a namespace's) whose selector selects
/// `pod`. An absent, empty or invalid selector selects nothing.
pub fn covering<'a>(budgets: &'a [Value], pod: &Value) -> Vec<&'a Value> {
    let pod_labels = labels(pod);
    budgets
        .iter()
        .filter(|budget| {
            let selector = budget
                .pointer("/spec/selector")
                .filter(|s| !s.is_null())
                .and_then(|s| serde_json::from_value(s.clone()).ok())
                .and_then(|s| Selector::from_label_selector(&s).ok());
            selector.is_some_and(|s| !s.is_everything() && s.matches(&pod_labels))
        })
        .collect()
}

/// Whether an unready `pod` may go without taking from `budget`: always
/// under the `AlwaysAllow` policy, else when the budget is healthy
/// without it. A ready pod always takes from the budget.
pub fn spares_budget(budget: &Value, pod: &Value) -> bool {
    if is_ready(pod) {
        return false;
    }
    if budget.pointer("/spec/unhealthyPodEvictionPolicy") == Some(&json!("AlwaysAllow")) {
        return true;
    }
    let status = |key: &str| budget["status"][key].as_i64().unwrap_or(0);
    status("currentHealthy") >= status("desiredHealthy") && status("desiredHealthy") > 0
}

/// The refusal of an eviction, naming the budget in its cause.
fn refusal(retry_after: i32, why: String) -> ApiError {
    let mut error = ApiError::too_many_requests(REFUSED, retry_after);
    if let Some(details) = error.details.as_mut() {
        details.causes.push(StatusCause {
            reason: DISRUPTION_BUDGET_CAUSE.to_string(),
            message: why,
            field: String::new(),
        });
    }
    error
}

/// The 429 of a budget whose status is older than its spec (or which
/// changed while a guarded delete was under way): come back later.
pub fn still_processing(budget: &str) -> ApiError {
    refusal(
        10,
        format!("The disruption budget {budget} is still being processed by the server."),
    )
}

/// The 500 of a pod that more than one budget covers.
pub fn more_than_one() -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
        "code": 500,
    })
}

fn refused_by_policy(name: &str, why: &str) -> ApiError {
    ApiError::forbidden("policy", "poddisruptionbudget", name, why)
}

/// The status `budget` has once the eviction of `pod` at `now` takes one
/// of its allowed disruptions, or why it cannot.
pub fn take_disruption(budget: &Value, pod: &str, now: &str) -> Result<Value, ApiError> {
    let name = meta_str(budget, "name");
    let status = budget.get("status").cloned().unwrap_or_else(|| json!({}));
    let int = |key: &str| status[key].as_i64().unwrap_or(0);
    let generation = budget
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if int("observedGeneration") < generation {
        return Err(still_processing(name));
    }
    let allowed = int("disruptionsAllowed");
    if allowed < 0 {
        return Err(refused_by_policy(
            name,
            "pdb disruptions allowed is negative",
        ));
    }
    let disrupted = status["disruptedPods"].as_object().map_or(0, |m| m.len());
    if disrupted > MAX_DISRUPTED_PODS {
        let why = "DisruptedPods map too big - too many evictions not confirmed by PDB controller";
        return Err(refused_by_policy(name, why));
    }
    if allowed == 0 {
        let why = format!(
            "The disruption budget {name} needs {} healthy pods and has {} currently",
            int("desiredHealthy"),
            int("currentHealthy")
        );
        return Err(refusal(0, why));
    }
    let mut next = status;
    next["disruptionsAllowed"] = json!(allowed - 1);
    if allowed == 1 {
        insufficient_pods(&mut next, now);
    }
    if !next["disruptedPods"].is_object() {
        next["disruptedPods"] = json!({});
    }
    next["disruptedPods"][pod] = json!(now);
    Ok(next)
}

/// Marks a status with no disruption left `DisruptionAllowed=False`
/// (`InsufficientPods`), keeping the transition time if it already was.
fn insufficient_pods(status: &mut Value, now: &str) {
    let observed = status["observedGeneration"].clone();
    let mut conditions: Vec<Value> = status["conditions"].as_array().cloned().unwrap_or_default();
    let since = conditions
        .iter()
        .find(|c| c["type"] == "DisruptionAllowed" && c["status"] == "False")
        .map_or_else(|| json!(now), |c| c["lastTransitionTime"].clone());
    conditions.retain(|c| c["type"] != "DisruptionAllowed");
    conditions.push(json!({
        "type": "DisruptionAllowed",
        "status": "False",
        "reason": "InsufficientPods",
        "message": "",
        "observedGeneration": observed,
        "lastTransitionTime": since,
    }));
    status["conditions"] = Value::from(conditions);
}

/// Whether an error is a failed resourceVersion precondition.
pub fn is_conflict(error: &ApiError) -> bool {
    error.reason == StatusReason::Conflict
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(allowed: i64, generation: i64, observed: i64) -> Value {
        json!({
            "metadata": {"name": "b", "generation": generation},
            "spec": {"selector": {"matchLabels": {"app": "web"}}},
            "status": {"disruptionsAllowed": allowed, "observedGeneration": observed,
                       "desiredHealthy": 2, "currentHealthy": 2},
        })
    }

    #[test]
    fn budgets_give_up_disruptions_one_at_a_time() {
        let now = "2025-01-01T00:00:00Z";
        let next = take_disruption(&budget(2, 1, 1), "p", now).expect("allowed");
        assert_eq!(next["disruptionsAllowed"], 1);
        assert_eq!(next["disruptedPods"]["p"], now);
        assert!(next.get("conditions").is_none());
        let last = take_disruption(&budget(1, 1, 1), "p", now).expect("allowed");
        assert_eq!(last["conditions"][0]["reason"], "InsufficientPods");
        let none = take_disruption(&budget(0, 1, 1), "p", now).expect_err("refused");
        assert_eq!(none.reason, StatusReason::TooManyRequests);
        assert_eq!(
            none.details.as_ref().map(|d| d.causes[0].message.clone()),
            Some("The disruption budget b needs 2 healthy pods and has 2 currently".to_string())
        );
        let stale = take_disruption(&budget(3, 2, 1), "p", now).expect_err("stale");
        assert!(
            stale
                .details
                .as_ref()
                .is_some_and(|d| d.retry_after_seconds == 10)
        );
    }

    #[test]
    fn budgets_cover_pods_their_selector_selects() {
        let pod = json!({"metadata": {"labels": {"app": "web"}}});
        let empty = json!({"spec": {"selector": {}}});
        let budgets = [budget(1, 1, 1), empty, json!({"spec": {}})];
        assert_eq!(covering(&budgets, &pod).len(), 1);
        let pending = json!({"status": {"phase": "Pending"}});
        assert!(ignores_budgets(&pending) && guards_resource_version(&pending));
        let unready = json!({"status": {"phase": "Running"}});
        assert!(spares_budget(&budget(0, 1, 1), &unready));
    }
}
