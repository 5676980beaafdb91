//! A pod as the scheduler holds it: the object, and what is read of it on
//! every node of every cycle computed once (its requests, its parsed
//! inter-pod affinity terms), as upstream's `framework.PodInfo`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::{Pod, PodAffinityTerm, WeightedPodAffinityTerm};
use keelson_api::label_selector::Selector;

use super::resource::{Resource, pod_non_zero_requests, pod_requests};

/// A pod affinity term with its selectors parsed, as upstream's
/// `framework.AffinityTerm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffinityTerm {
    /// The namespaces named; the pod's own when the term names none and
    /// has no namespace selector.
    pub namespaces: BTreeSet<String>,
    pub selector: Selector,
    pub topology_key: String,
    /// Namespaces selected by their labels (none when absent; all with
    /// `{}`).
    pub namespace_selector: Selector,
}

impl AffinityTerm {
    /// Parses `term` of `pod`.
    pub fn new(pod: &Pod, term: &PodAffinityTerm) -> Result<AffinityTerm, String> {
        let selector = Selector::from_optional_label_selector(term.label_selector.as_ref())
            .map_err(|err| err.to_string())?;
        let namespace_selector =
            Selector::from_optional_label_selector(term.namespace_selector.as_ref())
                .map_err(|err| err.to_string())?;
        let named = term.namespaces.clone().unwrap_or_default();
        let namespaces = if named.is_empty() && term.namespace_selector.is_none() {
            BTreeSet::from([namespace(pod).to_string()])
        } else {
            named.into_iter().collect()
        };
        Ok(AffinityTerm {
            namespaces,
            selector,
            topology_key: term.topology_key.clone(),
            namespace_selector,
        })
    }

    /// Whether `pod`, in a namespace labelled `namespace_labels`, is one
    /// this term selects.
    pub fn matches(&self, pod: &Pod, namespace_labels: &BTreeMap<String, String>) -> bool {
        let in_namespace = self.namespaces.contains(namespace(pod))
            || self.namespace_selector.matches(namespace_labels);
        in_namespace && self.selector.matches(labels(pod))
    }
}

/// An affinity term with its weight, for scoring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightedAffinityTerm {
    pub term: AffinityTerm,
    pub weight: i32,
}

/// A pod and what is computed of it once.
#[derive(Debug, Clone)]
pub struct PodInfo {
    pub pod: Arc<Pod>,
    /// Its requests, for fitting ([`pod_requests`]).
    pub requests: Resource,
    /// Its requests with missing ones defaulted, for scoring.
    pub non_zero_requests: Resource,
    pub required_affinity_terms: Vec<AffinityTerm>,
    pub required_anti_affinity_terms: Vec<AffinityTerm>,
    pub preferred_affinity_terms: Vec<WeightedAffinityTerm>,
    pub preferred_anti_affinity_terms: Vec<WeightedAffinityTerm>,
    /// Why its affinity terms could not be parsed, if they could not: such
    /// a pod is unschedulable with this message.
    pub parse_error: Option<String>,
}

impl PodInfo {
    pub fn new(pod: Arc<Pod>) -> PodInfo {
        let mut errors = Vec::new();
        let affinity = pod.spec.as_ref().and_then(|s| s.affinity.as_ref());
        let pod_affinity = affinity.and_then(|a| a.pod_affinity.as_ref());
        let anti_affinity = affinity.and_then(|a| a.pod_anti_affinity.as_ref());
        let required = |terms: Option<&Vec<PodAffinityTerm>>, errors: &mut Vec<String>| {
            parse_terms(&pod, terms.into_iter().flatten(), errors)
        };
        let preferred = |terms: Option<&Vec<WeightedPodAffinityTerm>>, errors: &mut Vec<String>| {
            parse_weighted(&pod, terms.into_iter().flatten(), errors)
        };
        let required_affinity_terms = required(
            pod_affinity.and_then(|a| {
                a.required_during_scheduling_ignored_during_execution
                    .as_ref()
            }),
            &mut errors,
        );
        let required_anti_affinity_terms = required(
            anti_affinity.and_then(|a| {
                a.required_during_scheduling_ignored_during_execution
                    .as_ref()
            }),
            &mut errors,
        );
        let preferred_affinity_terms = preferred(
            pod_affinity.and_then(|a| {
                a.preferred_during_scheduling_ignored_during_execution
                    .as_ref()
            }),
            &mut errors,
        );
        let preferred_anti_affinity_terms = preferred(
            anti_affinity.and_then(|a| {
                a.preferred_during_scheduling_ignored_during_execution
                    .as_ref()
            }),
            &mut errors,
        );
        PodInfo {
            requests: pod_requests(&pod),
            non_zero_requests: pod_non_zero_requests(&pod),
            pod,
            required_affinity_terms,
            required_anti_affinity_terms,
            preferred_affinity_terms,
            preferred_anti_affinity_terms,
            parse_error: (!errors.is_empty()).then(|| errors.join("; ")),
        }
    }

    /// Whether it has affinity or anti-affinity terms of any kind.
    pub fn has_affinity(&self) -> bool {
        !(self.required_affinity_terms.is_empty()
            && self.required_anti_affinity_terms.is_empty()
            && self.preferred_affinity_terms.is_empty()
            && self.preferred_anti_affinity_terms.is_empty())
    }

    pub fn has_required_anti_affinity(&self) -> bool {
        !self.required_anti_affinity_terms.is_empty()
    }

    pub fn namespace(&self) -> &str {
        namespace(&self.pod)
    }

    pub fn name(&self) -> &str {
        self.pod.metadata.name.as_deref().unwrap_or_default()
    }

    pub fn uid(&self) -> &str {
        self.pod.metadata.uid.as_deref().unwrap_or_default()
    }

    /// The pod's priority (0 when unset).
    pub fn priority(&self) -> i32 {
        priority(&self.pod)
    }
}

fn parse_terms<'a>(
    pod: &Pod,
    terms: impl Iterator<Item = &'a PodAffinityTerm>,
    errors: &mut Vec<String>,
) -> Vec<AffinityTerm> {
    terms
        .filter_map(|term| {
            AffinityTerm::new(pod, term)
                .map_err(|e| errors.push(e))
                .ok()
        })
        .collect()
}

fn parse_weighted<'a>(
    pod: &Pod,
    terms: impl Iterator<Item = &'a WeightedPodAffinityTerm>,
    errors: &mut Vec<String>,
) -> Vec<WeightedAffinityTerm> {
    terms
        .filter_map(|weighted| {
            let term = AffinityTerm::new(pod, &weighted.pod_affinity_term);
            term.map_err(|e| errors.push(e))
                .ok()
                .map(|term| WeightedAffinityTerm {
                    term,
                    weight: weighted.weight,
                })
        })
        .collect()
}

/// A pod's namespace (`default` when unset).
pub fn namespace(pod: &Pod) -> &str {
    pod.metadata.namespace.as_deref().unwrap_or("default")
}

/// A pod's labels (none when unset).
pub fn labels(pod: &Pod) -> &BTreeMap<String, String> {
    static NONE: BTreeMap<String, String> = BTreeMap::new();
    pod.metadata.labels.as_ref().unwrap_or(&NONE)
}

/// A pod's priority (0 when unset), as upstream's `corev1helpers.PodPriority`.
pub fn priority(pod: &Pod) -> i32 {
    pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(affinity: serde_json::Value) -> PodInfo {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "web"},
            "spec": {"containers": [{"name": "a"}], "affinity": affinity},
        }))
        .expect("a pod");
        PodInfo::new(Arc::new(pod))
    }

    #[test]
    fn a_term_naming_no_namespace_means_the_pods_own() {
        let info = pod(
            json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}
            ]}}),
        );
        let term = &info.required_anti_affinity_terms[0];
        assert_eq!(term.namespaces, BTreeSet::from(["web".to_string()]));
        assert!(!term.namespace_selector.matches(&BTreeMap::new()));
        assert!(info.has_required_anti_affinity() && info.parse_error.is_none());
    }

    #[test]
    fn a_malformed_selector_is_kept_as_the_pods_parse_error() {
        let info = pod(
            json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchExpressions": [{"key": "app", "operator": "Near"}]}, "topologyKey": "zone"}
            ]}}),
        );
        assert!(info.parse_error.expect("an error").contains("Near"));
    }
}
