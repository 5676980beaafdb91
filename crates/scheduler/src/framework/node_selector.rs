//! Node selection terms and taints as several plugins read them: whether a
//! node matches a `NodeSelector` (a pod's required node affinity, a
//! PersistentVolume's node affinity), whether it matches a pod's
//! `nodeSelector` and required affinity together (upstream's
//! `RequiredNodeAffinity`), and whether tolerations tolerate taints.

use std::collections::BTreeMap;

use keelson_api::k8s_openapi::api::core::v1::{
    Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration,
};

static NO_LABELS: BTreeMap<String, String> = BTreeMap::new();

/// Whether `node` matches one of `selector`'s terms (a term with no
/// requirements matches nothing, as upstream's). An invalid requirement
/// (an unknown operator, `Gt` on a non-number) is an error.
pub fn selector_matches(selector: &NodeSelector, node: &Node) -> Result<bool, String> {
    let mut first_error = None;
    for term in &selector.node_selector_terms {
        match term_matches(term, node) {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    first_error.map_or(Ok(false), Err)
}

/// Whether `node` matches every requirement of `term`; an empty term
/// matches nothing.
pub fn term_matches(term: &NodeSelectorTerm, node: &Node) -> Result<bool, String> {
    let expressions = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if expressions.is_empty() && fields.is_empty() {
        return Ok(false);
    }
    let labels = node.metadata.labels.as_ref().unwrap_or(&NO_LABELS);
    for requirement in expressions {
        if !requirement_matches(requirement, labels)? {
            return Ok(false);
        }
    }
    if fields.is_empty() {
        return Ok(true);
    }
    let name = node.metadata.name.clone().unwrap_or_default();
    let node_fields = BTreeMap::from([("metadata.name".to_string(), name)]);
    for requirement in fields {
        if requirement.key != "metadata.name" {
            return Err(format!(
                "{:?} is not a valid field selector key",
                requirement.key
            ));
        }
        if !matches!(requirement.operator.as_str(), "In" | "NotIn") {
            return Err(format!(
                "{:?} is not a valid field selector operator",
                requirement.operator
            ));
        }
        if !requirement_matches(requirement, &node_fields)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// One requirement on `labels` (In, NotIn, Exists, DoesNotExist, Gt, Lt).
pub fn requirement_matches(
    requirement: &NodeSelectorRequirement,
    labels: &BTreeMap<String, String>,
) -> Result<bool, String> {
    let values = requirement.values.as_deref().unwrap_or_default();
    let value = labels.get(&requirement.key);
    let number = |text: &str| {
        text.parse::<i64>().map_err(|_| {
            format!("for 'Gt', 'Lt' operators, the value must be an integer: {text:?}")
        })
    };
    let compare = |less: bool| -> Result<bool, String> {
        let [bound] = values else {
            return Err("for 'Gt', 'Lt' operators, exactly one value is required".to_string());
        };
        let bound = number(bound)?;
        Ok(match value.map(|v| v.parse::<i64>()) {
            Some(Ok(have)) => (less && have < bound) || (!less && have > bound),
            _ => false,
        })
    };
    match requirement.operator.as_str() {
        "In" => Ok(value.is_some_and(|v| values.contains(v))),
        "NotIn" => Ok(!value.is_some_and(|v| values.contains(v))),
        "Exists" => Ok(value.is_some()),
        "DoesNotExist" => Ok(value.is_none()),
        "Gt" => compare(false),
        "Lt" => compare(true),
        other => Err(format!("{other:?} is not a valid node selector operator")),
    }
}

/// Whether `node` matches `pod`'s `nodeSelector` and its required node
/// affinity (upstream's `GetRequiredNodeAffinity(pod).Match(node)`); an
/// invalid term counts as not matching.
pub fn pod_matches_node(pod: &Pod, node: &Node) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return true;
    };
    let labels = node.metadata.labels.as_ref().unwrap_or(&NO_LABELS);
    let selected = spec
        .node_selector
        .iter()
        .flatten()
        .all(|(key, value)| labels.get(key) == Some(value));
    if !selected {
        return false;
    }
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    required.is_none_or(|selector| selector_matches(selector, node).unwrap_or(false))
}

/// Whether `toleration` tolerates `taint` (upstream's `ToleratesTaint`).
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect = toleration.effect.as_deref().unwrap_or_default();
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or_default();
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match toleration.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        "Equal" | "" => {
            toleration.value.as_deref().unwrap_or_default()
                == taint.value.as_deref().unwrap_or_default()
        }
        _ => false,
    }
}

/// The first of `taints` that passes `consider` and no toleration
/// tolerates (upstream's `FindMatchingUntoleratedTaint`).
pub fn find_untolerated_taint<'a>(
    taints: &'a [Taint],
    tolerations: &[Toleration],
    consider: impl Fn(&Taint) -> bool,
) -> Option<&'a Taint> {
    taints
        .iter()
        .filter(|taint| consider(taint))
        .find(|taint| !tolerations.iter().any(|t| tolerates(t, taint)))
}

/// A node's taints (none when unset).
pub fn taints(node: &Node) -> &[Taint] {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default()
}

/// A pod's tolerations (none when unset).
pub fn tolerations(pod: &Pod) -> &[Toleration] {
    pod.spec
        .as_ref()
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(labels: serde_json::Value) -> Node {
        serde_json::from_value(json!({"metadata": {"name": "n1", "labels": labels}}))
            .expect("a node")
    }

    fn selector(terms: serde_json::Value) -> NodeSelector {
        serde_json::from_value(json!({"nodeSelectorTerms": terms})).expect("a selector")
    }

    #[test]
    fn terms_are_ored_and_their_requirements_anded() {
        let node = node(json!({"zone": "a", "cores": "8"}));
        let cases = [
            (
                json!([{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]),
                true,
            ),
            (
                json!([{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]},
                                           {"key": "cores", "operator": "Gt", "values": ["8"]}]}]),
                false,
            ),
            (
                json!([{"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]},
                    {"matchExpressions": [{"key": "cores", "operator": "Lt", "values": ["9"]}]}]),
                true,
            ),
            (
                json!([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]),
                true,
            ),
            (
                json!([{"matchExpressions": [{"key": "gpu", "operator": "DoesNotExist"}]}]),
                true,
            ),
            (json!([{}]), false),
        ];
        for (terms, expected) in cases {
            assert_eq!(
                selector_matches(&selector(terms.clone()), &node),
                Ok(expected),
                "{terms}"
            );
        }
    }

    #[test]
    fn an_invalid_requirement_is_an_error() {
        let node = node(json!({}));
        let bad = selector(
            json!([{"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["x"]}]}]),
        );
        assert!(selector_matches(&bad, &node).is_err());
    }

    #[test]
    fn tolerations_match_taints_by_key_value_and_effect() {
        let taint: Taint =
            serde_json::from_value(json!({"key": "k", "value": "v", "effect": "NoSchedule"}))
                .expect("a taint");
        let cases = [
            (
                json!({"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"}),
                true,
            ),
            (json!({"key": "k", "operator": "Exists"}), true),
            (json!({"operator": "Exists"}), true),
            (json!({"key": "k", "value": "w"}), false),
            (
                json!({"key": "k", "operator": "Exists", "effect": "NoExecute"}),
                false,
            ),
        ];
        for (toleration, expected) in cases {
            let toleration: Toleration =
                serde_json::from_value(toleration.clone()).expect("a toleration");
            assert_eq!(tolerates(&toleration, &taint), expected, "{toleration:?}");
        }
    }
}
