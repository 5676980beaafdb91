//! How full a node would be with the pod on it, resource by resource,
//! and the scores made of that (upstream's `resourceAllocationScorer` and
//! the `LeastAllocated`, `MostAllocated`, `RequestedToCapacityRatio` and
//! balanced-allocation scorers). Everything here runs per node in Score,
//! so nothing allocates: the resources are walked in place.

use crate::framework::resource::{CPU, EPHEMERAL_STORAGE, MEMORY, is_scalar};
use crate::framework::{MAX_NODE_SCORE, NodeInfo, PodInfo};

use super::args::{ResourceSpec, Strategy};

/// The utilization (percent) a `RequestedToCapacityRatio` shape spans.
const MAX_UTILIZATION: i64 = 100;

/// The resources a plugin weighs and which of a node's sums it reads.
#[derive(Debug, Clone)]
pub struct ResourceAllocation {
    resources: Vec<Weighed>,
    /// Whether cpu and memory are counted as requested (balanced
    /// allocation) or with missing requests defaulted (`NodeResourcesFit`),
    /// as upstream's `useRequested`.
    use_requested: bool,
}

/// One weighed resource, its kind told apart once rather than by name on
/// every node.
#[derive(Debug, Clone)]
struct Weighed {
    name: String,
    kind: Kind,
    weight: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Cpu,
    Memory,
    EphemeralStorage,
    /// Extended resources and hugepages: scored when the pod requests
    /// them and the node has them.
    Scalar,
    /// Anything else (`pods`, a misspelling): never scored, as upstream.
    Unscored,
}

impl Kind {
    fn of(name: &str) -> Kind {
        match name {
            CPU => Kind::Cpu,
            MEMORY => Kind::Memory,
            EPHEMERAL_STORAGE => Kind::EphemeralStorage,
            other if is_scalar(other) => Kind::Scalar,
            _ => Kind::Unscored,
        }
    }
}

/// One resource of one node: what would be requested with the pod on it,
/// of what is allocatable (never 0), and its weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub requested: i64,
    pub allocatable: i64,
    pub weight: i64,
}

impl ResourceAllocation {
    /// Weighs `resources`; `use_requested` as the field says.
    pub fn new(resources: Vec<ResourceSpec>, use_requested: bool) -> ResourceAllocation {
        let resources = resources
            .into_iter()
            .map(|r| Weighed {
                kind: Kind::of(&r.name),
                name: r.name,
                weight: r.weight,
            })
            .collect();
        ResourceAllocation {
            resources,
            use_requested,
        }
    }

    /// What the pod requests of each resource, in the resources' order
    /// (computed once per cycle, in PreScore).
    pub fn pod_requests(&self, pod: &PodInfo) -> Vec<i64> {
        let requests = if self.use_requested {
            &pod.requests
        } else {
            &pod.non_zero_requests
        };
        self.resources
            .iter()
            .map(|r| requests.get(&r.name))
            .collect()
    }

    /// Whether the pod requests none of the resources (a best-effort pod,
    /// as far as these resources go).
    pub fn requests_nothing(pod_requests: &[i64]) -> bool {
        pod_requests.iter().all(|r| *r == 0)
    }

    /// The node's usage of each resource it has (allocatable above 0),
    /// with the pod's `pod_requests` added.
    pub fn usages<'a>(
        &'a self,
        node: &'a NodeInfo,
        pod_requests: &'a [i64],
    ) -> impl Iterator<Item = Usage> + Clone + 'a {
        self.resources
            .iter()
            .zip(pod_requests)
            .filter_map(move |(resource, pod_request)| {
                let (allocatable, requested) = self.on_node(node, resource, *pod_request);
                (allocatable != 0).then_some(Usage {
                    requested,
                    allocatable,
                    weight: resource.weight,
                })
            })
    }

    /// `(allocatable, requested with the pod)` of one resource: `(0, 0)`
    /// leaves it out of the score (an extended resource the pod does not
    /// request, or one the node does not have).
    fn on_node(&self, node: &NodeInfo, resource: &Weighed, pod_request: i64) -> (i64, i64) {
        let sums = if self.use_requested {
            &node.requested
        } else {
            &node.non_zero_requested
        };
        let allocatable = &node.allocatable;
        match resource.kind {
            Kind::Cpu => (allocatable.milli_cpu, sums.milli_cpu + pod_request),
            Kind::Memory => (allocatable.memory, sums.memory + pod_request),
            Kind::EphemeralStorage => (
                allocatable.ephemeral_storage,
                node.requested.ephemeral_storage + pod_request,
            ),
            Kind::Scalar if pod_request != 0 => match allocatable.scalar.get(&resource.name) {
                Some(amount) => (*amount, node.requested.get(&resource.name) + pod_request),
                None => (0, 0),
            },
            Kind::Scalar | Kind::Unscored => (0, 0),
        }
    }
}

/// A node's `NodeResourcesFit` score from its usages.
pub fn strategy_score(strategy: &Strategy, usages: impl Iterator<Item = Usage>) -> i64 {
    match strategy {
        Strategy::LeastAllocated => weighted_mean(usages, least_requested),
        Strategy::MostAllocated => weighted_mean(usages, most_requested),
        Strategy::RequestedToCapacityRatio(shape) => ratio_score(shape, usages),
    }
}

/// The weighted mean of each resource's score, rounded down.
fn weighted_mean(usages: impl Iterator<Item = Usage>, score: fn(i64, i64) -> i64) -> i64 {
    let (mut total, mut weights) = (0, 0);
    for usage in usages {
        total += score(usage.requested, usage.allocatable) * usage.weight;
        weights += usage.weight;
    }
    if weights == 0 { 0 } else { total / weights }
}

/// The share left free, 0..=100 (0 when over-committed).
fn least_requested(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

/// The share used, 0..=100 (100 when over-committed).
fn most_requested(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    requested.min(capacity) * MAX_NODE_SCORE / capacity
}

/// `RequestedToCapacityRatio`: each resource scored on the shape at its
/// utilization; resources scoring 0 are left out of the mean, which is
/// rounded to the nearest integer.
fn ratio_score(shape: &[(i64, i64)], usages: impl Iterator<Item = Usage>) -> i64 {
    let (mut total, mut weights) = (0_i64, 0_i64);
    for usage in usages {
        let utilization = if usage.requested > usage.allocatable {
            MAX_UTILIZATION
        } else {
            usage.requested * MAX_UTILIZATION / usage.allocatable
        };
        let score = broken_linear(shape, utilization);
        if score > 0 {
            total += score * usage.weight;
            weights += usage.weight;
        }
    }
    if weights == 0 {
        return 0;
    }
    (total as f64 / weights as f64).round() as i64
}

/// The shape's value at `p`: flat before the first point and after the
/// last, linear (integer division) between two points.
fn broken_linear(shape: &[(i64, i64)], p: i64) -> i64 {
    for (i, &(utilization, score)) in shape.iter().enumerate() {
        if p <= utilization {
            let Some(&(previous_utilization, previous_score)) = i.checked_sub(1).map(|j| &shape[j])
            else {
                return score;
            };
            return previous_score
                + (score - previous_score) * (p - previous_utilization)
                    / (utilization - previous_utilization);
        }
    }
    shape.last().map_or(0, |&(_, score)| score)
}

/// `NodeResourcesBalancedAllocation`: `(1 - std) * 100` of the resources'
/// fractions used (each capped at 1). Two resources take half their
/// difference as the deviation, as upstream does; one or none, 0.
pub fn balanced_score(usages: impl Iterator<Item = Usage> + Clone) -> i64 {
    let fraction = |u: Usage| (u.requested as f64 / u.allocatable as f64).min(1.0);
    let (mut count, mut total) = (0_usize, 0.0_f64);
    let (mut first, mut second) = (0.0, 0.0);
    for usage in usages.clone() {
        let f = fraction(usage);
        match count {
            0 => first = f,
            1 => second = f,
            _ => {}
        }
        total += f;
        count += 1;
    }
    let std = match count {
        0 | 1 => 0.0,
        2 => ((first - second) / 2.0).abs(),
        _ => {
            let mean = total / count as f64;
            let squares: f64 = usages.map(|u| (fraction(u) - mean).powi(2)).sum();
            (squares / count as f64).sqrt()
        }
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(requested: i64, allocatable: i64) -> Usage {
        Usage {
            requested,
            allocatable,
            weight: 1,
        }
    }

    #[test]
    fn the_shape_is_interpolated_with_integer_division() {
        let falling = [(0, 100), (100, 0)];
        assert_eq!(broken_linear(&falling, 90), 10);
        assert_eq!(broken_linear(&falling, 66), 34);
        let steps = [(10, 20), (50, 80)];
        assert_eq!(broken_linear(&steps, 0), 20);
        assert_eq!(broken_linear(&steps, 30), 50);
        assert_eq!(broken_linear(&steps, 100), 80);
    }

    #[test]
    fn over_committed_resources_score_as_full() {
        assert_eq!(least_requested(5000, 4000), 0);
        assert_eq!(most_requested(5000, 4000), 100);
        let usages = [usage(5000, 4000), usage(9000, 10000)];
        // cpu is over-committed: 0 on the falling shape, left out of the mean.
        assert_eq!(ratio_score(&[(0, 100), (100, 0)], usages.into_iter()), 10);
    }

    #[test]
    fn more_than_two_resources_take_the_standard_deviation() {
        let usages = [usage(1, 2), usage(1, 4), usage(3, 4)];
        // fractions 0.5, 0.25, 0.75: std = sqrt(0.125 / 3) = 0.2041
        assert_eq!(balanced_score(usages.into_iter()), 79);
        assert_eq!(balanced_score([usage(3, 4)].into_iter()), 100);
        assert_eq!(balanced_score([usage(3, 4), usage(1, 2)].into_iter()), 87);
    }
}
