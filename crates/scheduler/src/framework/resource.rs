//! Amounts of resources as the scheduler counts them (milli-CPU, bytes,
//! pods, and extended resources by name), and what a pod requests:
//! upstream's `resourcehelper.PodRequests`, with containers summed, init
//! containers taken at their largest, sidecars (init containers with
//! `restartPolicy: Always`) counted for the rest of the pod's life, and
//! the pod's overhead added.

use std::collections::BTreeMap;

use keelson_api::Quantity;
use keelson_api::k8s_openapi::api::core::v1::{Container, Pod};
use keelson_api::k8s_openapi::apimachinery::pkg::api::resource::Quantity as WireQuantity;

pub const CPU: &str = "cpu";
pub const MEMORY: &str = "memory";
pub const EPHEMERAL_STORAGE: &str = "ephemeral-storage";
pub const PODS: &str = "pods";

/// The CPU a container without a CPU request is counted as for scoring
/// (upstream's `DefaultMilliCPURequest`), so that spreading sees it.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// The memory counted likewise (`DefaultMemoryRequest`, 200 MiB).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// Amounts of resources, as upstream's `framework.Resource`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resource {
    pub milli_cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    pub allowed_pod_number: i64,
    /// Extended resources (`example.com/gpu`) and hugepages, by name.
    pub scalar: BTreeMap<String, i64>,
}

impl Resource {
    /// The amounts of a resource list (requests, limits, allocatable).
    pub fn from_list(list: Option<&BTreeMap<String, WireQuantity>>) -> Resource {
        let mut resource = Resource::default();
        for (name, quantity) in list.into_iter().flatten() {
            resource.set(name, quantity);
        }
        resource
    }

    fn set(&mut self, name: &str, quantity: &WireQuantity) {
        let parsed = Quantity::parse(&quantity.0).ok();
        let value = |milli: bool| {
            parsed
                .as_ref()
                .and_then(|q| if milli { q.milli_value() } else { q.value() })
                .unwrap_or(0)
        };
        match name {
            CPU => self.milli_cpu = value(true),
            MEMORY => self.memory = value(false),
            EPHEMERAL_STORAGE => self.ephemeral_storage = value(false),
            PODS => self.allowed_pod_number = value(false),
            other if is_scalar(other) => {
                self.scalar.insert(other.to_string(), value(false));
            }
            _ => {}
        }
    }

    /// The amount of `name` (`cpu` in milli-units).
    pub fn get(&self, name: &str) -> i64 {
        match name {
            CPU => self.milli_cpu,
            MEMORY => self.memory,
            EPHEMERAL_STORAGE => self.ephemeral_storage,
            PODS => self.allowed_pod_number,
            other => self.scalar.get(other).copied().unwrap_or(0),
        }
    }

    pub fn add(&mut self, other: &Resource) {
        self.combine(other, |a, b| a.saturating_add(b));
    }

    pub fn sub(&mut self, other: &Resource) {
        self.combine(other, |a, b| a.saturating_sub(b));
    }

    /// Each amount the larger of the two.
    pub fn max(&mut self, other: &Resource) {
        self.combine(other, i64::max);
    }

    fn combine(&mut self, other: &Resource, f: impl Fn(i64, i64) -> i64) {
        self.milli_cpu = f(self.milli_cpu, other.milli_cpu);
        self.memory = f(self.memory, other.memory);
        self.ephemeral_storage = f(self.ephemeral_storage, other.ephemeral_storage);
        self.allowed_pod_number = f(self.allowed_pod_number, other.allowed_pod_number);
        for (name, amount) in &other.scalar {
            let mine = self.scalar.entry(name.clone()).or_insert(0);
            *mine = f(*mine, *amount);
        }
    }
}

/// Whether `name` is counted by name beside CPU, memory and storage
/// (upstream's `IsScalarResourceName`): an extended resource
/// (`example.com/gpu`), a prefixed native one (`kubernetes.io/...`),
/// hugepages or attachable volumes.
pub fn is_scalar(name: &str) -> bool {
    name.starts_with("hugepages-")
        || name.starts_with("attachable-volumes-")
        || (name.contains('/') && !name.starts_with("requests."))
}

/// What `pod` requests, for fitting: upstream's `PodRequests`.
pub fn pod_requests(pod: &Pod) -> Resource {
    requests_with(pod, false)
}

/// What `pod` requests, for scoring: a container without a CPU or memory
/// request counts as the defaults above (upstream's
/// `NonMissingContainerRequests`).
pub fn pod_non_zero_requests(pod: &Pod) -> Resource {
    requests_with(pod, true)
}

fn requests_with(pod: &Pod, non_zero: bool) -> Resource {
    let Some(spec) = pod.spec.as_ref() else {
        return Resource::default();
    };
    let requests = |container: &Container| container_requests(container, non_zero);
    let mut total = Resource::default();
    for container in &spec.containers {
        total.add(&requests(container));
    }
    let mut sidecars = Resource::default();
    let mut init_max = Resource::default();
    for container in spec.init_containers.iter().flatten() {
        let mut own = requests(container);
        if container.restart_policy.as_deref() == Some("Always") {
            sidecars.add(&own);
            own = sidecars.clone();
        } else {
            own.add(&sidecars);
        }
        init_max.max(&own);
    }
    total.add(&sidecars);
    total.max(&init_max);
    total.add(&Resource::from_list(spec.overhead.as_ref()));
    total
}

fn container_requests(container: &Container, non_zero: bool) -> Resource {
    let list = container
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref());
    let mut resource = Resource::from_list(list);
    if non_zero {
        let has = |name: &str| list.is_some_and(|list| list.contains_key(name));
        if !has(CPU) {
            resource.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
        }
        if !has(MEMORY) {
            resource.memory = DEFAULT_MEMORY_REQUEST;
        }
    }
    resource
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).expect("a pod")
    }

    fn container(name: &str, cpu: &str, memory: &str) -> serde_json::Value {
        json!({"name": name, "resources": {"requests": {"cpu": cpu, "memory": memory}}})
    }

    #[test]
    fn containers_add_up_and_init_containers_count_at_their_largest() {
        let pod = pod(json!({
            "containers": [container("a", "100m", "1Gi"), container("b", "200m", "1Gi")],
            "initContainers": [container("i", "500m", "1Mi"), container("j", "100m", "3Gi")],
            "overhead": {"cpu": "10m"},
        }));
        let requests = pod_requests(&pod);
        assert_eq!(requests.milli_cpu, 510);
        assert_eq!(requests.memory, 3 << 30);
    }

    #[test]
    fn sidecars_count_beside_the_containers_and_later_init_containers() {
        let mut sidecar = container("s", "300m", "1Gi");
        sidecar["restartPolicy"] = json!("Always");
        let pod = pod(json!({
            "containers": [container("a", "100m", "1Gi")],
            "initContainers": [sidecar, container("i", "500m", "1Gi")],
        }));
        let requests = pod_requests(&pod);
        // The init container runs beside the sidecar: 800m; the main
        // container beside it afterwards: 400m.
        assert_eq!(requests.milli_cpu, 800);
        assert_eq!(requests.memory, 2 << 30);
    }

    #[test]
    fn scoring_counts_missing_requests_as_the_defaults() {
        let pod = pod(json!({"containers": [{"name": "a"}, container("b", "0", "0")]}));
        assert_eq!(pod_requests(&pod), Resource::default());
        let non_zero = pod_non_zero_requests(&pod);
        assert_eq!(non_zero.milli_cpu, DEFAULT_MILLI_CPU_REQUEST);
        assert_eq!(non_zero.memory, DEFAULT_MEMORY_REQUEST);
    }

    #[test]
    fn extended_resources_are_scalar_and_kubernetes_names_are_not() {
        assert!(is_scalar("example.com/gpu"));
        assert!(is_scalar("hugepages-2Mi"));
        assert!(!is_scalar("requests.example.com/gpu"));
        assert!(!is_scalar("cpu"));
    }
}
