//! InterPodAffinity's PreScore, Score and Normalize (upstream's
//! `scoring.go`): every existing pod adds to (or takes from) the domains
//! of its node by the weights of the terms linking it to the incoming pod;
//! a node scores the sum over its domains, normalized to 0..=100 between
//! the lowest and the highest.

use std::collections::BTreeMap;
use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::Pod;

use super::{InterPodAffinity, NO_LABELS, TopologyCounts, merge_namespaces};
use crate::framework::pod_info::{AffinityTerm, WeightedAffinityTerm};
use crate::framework::{
    CycleState, Listers, MAX_NODE_SCORE, NodeInfo, NodeScore, PodInfo, PreScore, Score, Snapshot,
    Status,
};

/// The cycle state key of the PreScore sums.
const PRE_SCORE_STATE_KEY: &str = "PreScoreInterPodAffinity";

/// What PreScore computes for Score: the summed weight of each domain.
#[derive(Debug, Clone)]
struct PreScoreState {
    topology_score: Arc<TopologyCounts>,
}

/// What one existing pod is weighed against.
struct Weighing<'a> {
    incoming: &'a Pod,
    /// The incoming pod's preferred terms, namespace selectors merged.
    affinity: Vec<WeightedAffinityTerm>,
    anti_affinity: Vec<WeightedAffinityTerm>,
    namespace_labels: BTreeMap<String, String>,
    hard_weight: i32,
}

impl Weighing<'_> {
    /// Adds what `existing`, on `node`, gives the domains of its node.
    fn process(&self, existing: &PodInfo, node: &NodeInfo, scores: &mut TopologyCounts) {
        let labels = node.labels();
        if labels.is_empty() {
            return;
        }
        let mut add = |term: &AffinityTerm, weight: i32, pod: &Pod, ns: &BTreeMap<_, _>| {
            if !term.matches(pod, ns) {
                return;
            }
            if let Some(value) = labels.get(&term.topology_key) {
                scores.add(&term.topology_key, value, i64::from(weight));
            }
        };
        for t in &self.affinity {
            add(&t.term, t.weight, &existing.pod, &NO_LABELS);
        }
        for t in &self.anti_affinity {
            add(&t.term, -t.weight, &existing.pod, &NO_LABELS);
        }
        let ns = &self.namespace_labels;
        if self.hard_weight > 0 {
            for term in &existing.required_affinity_terms {
                add(term, self.hard_weight, self.incoming, ns);
            }
        }
        for t in &existing.preferred_affinity_terms {
            add(&t.term, t.weight, self.incoming, ns);
        }
        for t in &existing.preferred_anti_affinity_terms {
            add(&t.term, -t.weight, self.incoming, ns);
        }
    }
}

fn merge_weighted(terms: &[WeightedAffinityTerm], listers: &Listers) -> Vec<WeightedAffinityTerm> {
    terms
        .iter()
        .map(|t| WeightedAffinityTerm {
            term: merge_namespaces(&t.term, listers),
            weight: t.weight,
        })
        .collect()
}

impl PreScore for InterPodAffinity {
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
        listers: &Listers,
    ) -> Status {
        if nodes.is_empty() {
            return Status::skip();
        }
        if let Some(error) = &pod.parse_error {
            return Status::error(format!("failed to parse pod: {error}"));
        }
        let has_constraints = !pod.preferred_affinity_terms.is_empty()
            || !pod.preferred_anti_affinity_terms.is_empty();
        if self.ignore_preferred_terms_of_existing_pods && !has_constraints {
            return Status::skip();
        }
        let weighing = Weighing {
            incoming: &pod.pod,
            affinity: merge_weighted(&pod.preferred_affinity_terms, listers),
            anti_affinity: merge_weighted(&pod.preferred_anti_affinity_terms, listers),
            namespace_labels: listers.namespace_labels(pod.namespace()),
            hard_weight: self.hard_pod_affinity_weight,
        };
        // Without preferred terms of its own, only pods with terms of
        // theirs can weigh on the incoming pod.
        let all_nodes = if has_constraints {
            snapshot.nodes()
        } else {
            snapshot.have_pods_with_affinity()
        };
        let mut scores = TopologyCounts::default();
        for node in all_nodes {
            let pods = if has_constraints {
                &node.pods
            } else {
                &node.pods_with_affinity
            };
            for existing in pods {
                weighing.process(existing, node, &mut scores);
            }
        }
        if scores.is_empty() {
            return Status::skip();
        }
        let computed = PreScoreState {
            topology_score: Arc::new(scores),
        };
        state.write(PRE_SCORE_STATE_KEY, computed);
        Status::success()
    }
}

fn missing_state() -> Status {
    Status::error(format!(
        "reading {PRE_SCORE_STATE_KEY:?} from cycleState: not found"
    ))
}

impl Score for InterPodAffinity {
    fn score(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let computed = state
            .read::<PreScoreState>(PRE_SCORE_STATE_KEY)
            .ok_or_else(missing_state)?;
        let labels = node.labels();
        let score = computed
            .topology_score
            .domains()
            .filter_map(|(key, values)| values.get(labels.get(key)?))
            .sum();
        Ok(score)
    }

    /// Scales the sums to 0..=100 between the lowest and the highest (all
    /// 0 when they are equal).
    fn normalize(&self, state: &CycleState, _pod: &PodInfo, scores: &mut [NodeScore]) -> Status {
        let Some(computed) = state.read::<PreScoreState>(PRE_SCORE_STATE_KEY) else {
            return missing_state();
        };
        if computed.topology_score.is_empty() || scores.is_empty() {
            return Status::success();
        }
        let max = scores.iter().map(|s| s.score).max().unwrap_or(0);
        let min = scores.iter().map(|s| s.score).min().unwrap_or(0);
        let spread = max - min;
        for score in scores.iter_mut() {
            score.score = if spread > 0 {
                let fraction = (score.score - min) as f64 / spread as f64;
                (MAX_NODE_SCORE as f64 * fraction) as i64
            } else {
                0
            };
        }
        Status::success()
    }
}
