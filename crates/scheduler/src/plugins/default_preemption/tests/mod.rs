//! Tests of preemption against a profile of two small plugins of their
//! own (a cpu and pod-count fit, and one whose AddPod/RemovePod fail on
//! nodes labelled `error=true`, as upstream's `TestPlugin`), so that they
//! depend on no other plugin; cases and expected results are upstream's.

mod post_filter;
mod selection;

use std::collections::HashMap;
use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::{Node, Pod};
use keelson_api::k8s_openapi::api::policy::v1::PodDisruptionBudget;
use serde_json::{Value, json};

use crate::framework::runtime::{ExtensionPoint, Framework};
use crate::framework::{
    Code, CycleState, Filter, Listers, NodeInfo, NodeToStatus, Nominator, Plugin, PodInfo,
    PostFilter, PostFilterContext, PostFilterResult, PreFilter, PreFilterResult, Snapshot, Status,
};

use super::{DefaultPreemption, DefaultPreemptionArgs};

pub const LOW: i32 = 0;
pub const MID: i32 = 100;
pub const HIGH: i32 = 1000;
pub const VERY_HIGH: i32 = 10000;

/// Fits by CPU and by number of pods, with upstream's reasons.
struct Fit;

impl Plugin for Fit {
    fn name(&self) -> &str {
        "Fit"
    }
    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }
}

impl Filter for Fit {
    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let mut reasons = Vec::new();
        if node.pods.len() as i64 + 1 > node.allocatable.allowed_pod_number {
            reasons.push("Too many pods");
        }
        let cpu = node.requested.milli_cpu + pod.requests.milli_cpu;
        if pod.requests.milli_cpu > 0 && cpu > node.allocatable.milli_cpu {
            reasons.push("Insufficient cpu");
        }
        if reasons.is_empty() {
            Status::success()
        } else {
            Status::new(Code::Unschedulable, reasons)
        }
    }
}

/// Fails AddPod and RemovePod on nodes labelled `error=true`.
struct Failing;

impl Plugin for Failing {
    fn name(&self) -> &str {
        "test-plugin"
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilter> {
        Some(self)
    }
}

impl PreFilter for Failing {
    fn pre_filter(
        &self,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _snapshot: &Snapshot,
        _listers: &Listers,
    ) -> (Option<PreFilterResult>, Status) {
        (None, Status::success())
    }

    fn add_pod(
        &self,
        _: &mut CycleState,
        pod: &PodInfo,
        _: &Arc<PodInfo>,
        node: &NodeInfo,
    ) -> Status {
        failing_on(node, "add", pod)
    }

    fn remove_pod(
        &self,
        _: &mut CycleState,
        pod: &PodInfo,
        _: &Arc<PodInfo>,
        node: &NodeInfo,
    ) -> Status {
        failing_on(node, "remove", pod)
    }
}

fn failing_on(node: &NodeInfo, verb: &str, pod: &PodInfo) -> Status {
    if node.labels().get("error").map(String::as_str) == Some("true") {
        return Status::error(format!("failed to {verb} pod: {}", pod.name()));
    }
    Status::success()
}

/// A pod named `name` (its uid the same) of `priority`, asking for `cpu`
/// ("" for nothing).
pub fn pod(name: &str, priority: i32, cpu: &str) -> Value {
    let resources = if cpu.is_empty() {
        json!({})
    } else {
        json!({"requests": {"cpu": cpu}})
    };
    json!({
        "metadata": {"name": name, "namespace": "default", "uid": name},
        "spec": {"priority": priority, "containers": [{"name": "c", "resources": resources}]},
        "status": {},
    })
}

/// `pod` started at `seconds` after the epoch.
pub fn started(mut pod: Value, seconds: i64) -> Value {
    let time = jiff::Timestamp::from_second(seconds).expect("a time");
    pod["status"]["startTime"] = json!(time.to_string());
    pod
}

/// `pod` with the label `key=value`.
pub fn labelled(mut pod: Value, key: &str, value: &str) -> Value {
    pod["metadata"]["labels"][key] = json!(value);
    pod
}

pub fn info(pod: &Value) -> Arc<PodInfo> {
    let pod: Pod = serde_json::from_value(pod.clone()).expect("a pod");
    Arc::new(PodInfo::new(Arc::new(pod)))
}

/// A node with room for `pods` pods and `cpu`, and labels.
pub fn node(name: &str, pods: i64, cpu: &str, labels: Value) -> Value {
    let allocatable = json!({"pods": pods.to_string(), "cpu": cpu});
    json!({
        "metadata": {"name": name, "labels": labels},
        "status": {"allocatable": allocatable, "capacity": allocatable},
    })
}

/// A PodDisruptionBudget selecting `key=value` pods of `default`.
pub fn budget(name: &str, key: &str, value: &str, allowed: i32, disrupted: &[&str]) -> Value {
    let disrupted: serde_json::Map<String, Value> = disrupted
        .iter()
        .map(|p| (p.to_string(), json!("1970-01-01T00:00:00Z")))
        .collect();
    json!({
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"selector": {"matchLabels": {key: value}}},
        "status": {
            "currentHealthy": 1, "desiredHealthy": 1, "expectedPods": 1,
            "disruptionsAllowed": allowed, "disruptedPods": disrupted,
        },
    })
}

/// Nodes (each with the pods on it), budgets, and nominated pods.
#[derive(Default)]
pub struct Cluster {
    pub nodes: Vec<(Value, Vec<Value>)>,
    pub budgets: Vec<Value>,
    /// Pods nominated to a node, by node name.
    pub nominated: Vec<(Value, &'static str)>,
}

impl Cluster {
    pub fn snapshot(&self) -> Snapshot {
        let infos = self.nodes.iter().map(|(node, pods)| {
            let node: Node = serde_json::from_value(node.clone()).expect("a node");
            let mut info = NodeInfo::new(Arc::new(node));
            for pod in pods {
                info.add_pod(self::info(pod));
            }
            Arc::new(info)
        });
        Snapshot::new(infos.collect())
    }

    fn listers(&self) -> Listers {
        let listers = Listers::default();
        for pdb in &self.budgets {
            let pdb: PodDisruptionBudget = serde_json::from_value(pdb.clone()).expect("a PDB");
            listers.pod_disruption_budgets.insert(pdb);
        }
        listers
    }

    fn nominator(&self) -> Arc<Nominator> {
        let nominator = Arc::new(Nominator::default());
        for (pod, node) in &self.nominated {
            nominator.add(info(pod), node);
        }
        nominator
    }

    /// The profile of the two test plugins, sharing the nominator.
    pub fn framework(&self, nominator: Arc<Nominator>) -> Framework {
        let mut framework = Framework::new("default-scheduler", nominator);
        let enrol = |framework: &mut Framework, point, plugin: Arc<dyn Plugin>| {
            framework
                .enrol(point, plugin, 0)
                .expect("the plugin extends the point");
        };
        enrol(&mut framework, ExtensionPoint::PreFilter, Arc::new(Failing));
        enrol(&mut framework, ExtensionPoint::Filter, Arc::new(Fit));
        framework
    }

    /// Runs DefaultPreemption (default args, dry run from the first node)
    /// for `preemptor` after filtering gave `statuses`.
    pub fn preempt(
        &self,
        preemptor: &Value,
        statuses: &NodeToStatus,
    ) -> (Option<PostFilterResult>, Status) {
        let plugin =
            DefaultPreemption::with_offset(DefaultPreemptionArgs::default(), Box::new(|_| 0));
        self.preempt_with(&plugin, preemptor, statuses)
    }

    pub fn preempt_with(
        &self,
        plugin: &DefaultPreemption,
        preemptor: &Value,
        statuses: &NodeToStatus,
    ) -> (Option<PostFilterResult>, Status) {
        let nominator = self.nominator();
        let framework = self.framework(nominator.clone());
        let snapshot = self.snapshot();
        let listers = self.listers();
        let pod = info(preemptor);
        let mut state = CycleState::new();
        let (_, status) = framework.run_pre_filter(&mut state, &pod, &snapshot, &listers);
        assert!(status.is_success(), "{status}");
        let context = PostFilterContext {
            framework: &framework,
            snapshot: &snapshot,
            listers: &listers,
            nominator: &nominator,
        };
        plugin.post_filter(&state, &pod, statuses, &context)
    }
}

/// Every node named with `code` and no reasons, as upstream's tables give.
pub fn statuses(nodes: &[(&str, Code)]) -> NodeToStatus {
    nodes
        .iter()
        .map(|(name, code)| (name.to_string(), Status::new(*code, Vec::<String>::new())))
        .collect::<HashMap<_, _>>()
}

/// The names of pods.
pub fn names(pods: &[Arc<Pod>]) -> Vec<String> {
    pods.iter()
        .map(|p| p.metadata.name.clone().unwrap_or_default())
        .collect()
}
