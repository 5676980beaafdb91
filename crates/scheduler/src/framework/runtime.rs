//! A profile's plugins, run at each extension point in upstream's order
//! and with its rules: PreFilter narrowings merged, the first rejecting
//! Filter decides a node, Score plugins weighted and normalized, Reserve
//! undone in reverse, Bind tried until one does not skip.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keelson_api::k8s_openapi::api::core::v1::Pod;

use super::{
    ClusterEventWithHint, Code, CycleState, Listers, NodeInfo, NodeScore, NodeToStatus, Nominator,
    Plugin, PodInfo, PostFilterContext, PostFilterResult, PreFilterResult, QueuedPodInfo, Snapshot,
    Status,
};

/// The extension points, in the order a pod passes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExtensionPoint {
    QueueSort,
    PreEnqueue,
    PreFilter,
    Filter,
    PostFilter,
    PreScore,
    Score,
    Reserve,
    Permit,
    PreBind,
    Bind,
    PostBind,
}

impl ExtensionPoint {
    pub const ALL: [ExtensionPoint; 12] = [
        ExtensionPoint::QueueSort,
        ExtensionPoint::PreEnqueue,
        ExtensionPoint::PreFilter,
        ExtensionPoint::Filter,
        ExtensionPoint::PostFilter,
        ExtensionPoint::PreScore,
        ExtensionPoint::Score,
        ExtensionPoint::Reserve,
        ExtensionPoint::Permit,
        ExtensionPoint::PreBind,
        ExtensionPoint::Bind,
        ExtensionPoint::PostBind,
    ];

    /// Whether `plugin` implements this point.
    pub fn implemented_by(self, plugin: &dyn Plugin) -> bool {
        match self {
            ExtensionPoint::QueueSort => plugin.as_queue_sort().is_some(),
            ExtensionPoint::PreEnqueue => plugin.as_pre_enqueue().is_some(),
            ExtensionPoint::PreFilter => plugin.as_pre_filter().is_some(),
            ExtensionPoint::Filter => plugin.as_filter().is_some(),
            ExtensionPoint::PostFilter => plugin.as_post_filter().is_some(),
            ExtensionPoint::PreScore => plugin.as_pre_score().is_some(),
            ExtensionPoint::Score => plugin.as_score().is_some(),
            ExtensionPoint::Reserve => plugin.as_reserve().is_some(),
            ExtensionPoint::Permit => plugin.as_permit().is_some(),
            ExtensionPoint::PreBind => plugin.as_pre_bind().is_some(),
            ExtensionPoint::Bind => plugin.as_bind().is_some(),
            ExtensionPoint::PostBind => plugin.as_post_bind().is_some(),
        }
    }
}

/// One plugin of a profile at one point (with its weight, for Score).
#[derive(Clone)]
struct Enrolled {
    plugin: Arc<dyn Plugin>,
    weight: i64,
}

/// A profile: its name and its plugins at each point, in order.
pub struct Framework {
    name: String,
    points: HashMap<ExtensionPoint, Vec<Enrolled>>,
    /// The profile's `percentageOfNodesToScore`, if it sets one.
    pub percentage_of_nodes_to_score: Option<i32>,
    nominator: Arc<Nominator>,
    waiting: WaitingPods,
}

impl Framework {
    /// An empty profile named `name`.
    pub fn new(name: &str, nominator: Arc<Nominator>) -> Framework {
        Framework {
            name: name.to_string(),
            points: HashMap::new(),
            percentage_of_nodes_to_score: None,
            nominator,
            waiting: WaitingPods::default(),
        }
    }

    /// Enrols `plugin` at `point` (after those there), with `weight` for
    /// Score. Refused when the plugin does not implement the point.
    pub fn enrol(
        &mut self,
        point: ExtensionPoint,
        plugin: Arc<dyn Plugin>,
        weight: i64,
    ) -> Result<(), String> {
        if !point.implemented_by(plugin.as_ref()) {
            return Err(format!(
                "plugin {:?} does not extend {point:?}",
                plugin.name()
            ));
        }
        let list = self.points.entry(point).or_default();
        if list.iter().any(|e| e.plugin.name() == plugin.name()) {
            return Err(format!(
                "plugin {:?} already registered as {point:?}",
                plugin.name()
            ));
        }
        list.push(Enrolled { plugin, weight });
        Ok(())
    }

    /// The profile's `schedulerName`.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn nominator(&self) -> &Nominator {
        &self.nominator
    }

    /// The pods held by a Permit plugin.
    pub fn waiting_pods(&self) -> &WaitingPods {
        &self.waiting
    }

    /// The names of the plugins at `point`, in order (and their weights).
    pub fn plugins_at(&self, point: ExtensionPoint) -> Vec<(String, i64)> {
        self.at(point)
            .iter()
            .map(|e| (e.plugin.name().to_string(), e.weight))
            .collect()
    }

    fn at(&self, point: ExtensionPoint) -> &[Enrolled] {
        self.points.get(&point).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every plugin of the profile, once each.
    pub fn plugins(&self) -> Vec<Arc<dyn Plugin>> {
        let mut seen = BTreeSet::new();
        ExtensionPoint::ALL
            .iter()
            .flat_map(|p| self.at(*p))
            .filter(|e| seen.insert(e.plugin.name().to_string()))
            .map(|e| e.plugin.clone())
            .collect()
    }

    /// Every plugin's registered events, by plugin name; a plugin that
    /// registers none is given every event, as upstream does.
    pub fn events_to_register(&self) -> Vec<(String, ClusterEventWithHint)> {
        use super::{ActionType, EventResource};
        let mut events = Vec::new();
        for plugin in self.plugins() {
            let name = plugin.name().to_string();
            let registered = plugin.events_to_register().unwrap_or_else(|| {
                vec![ClusterEventWithHint::always(
                    EventResource::Wildcard,
                    ActionType::ALL,
                )]
            });
            events.extend(registered.into_iter().map(|e| (name.clone(), e)));
        }
        events
    }

    /// Whether `a` is scheduled before `b` (the QueueSort plugin; by
    /// arrival if there is none).
    pub fn less(&self, a: &QueuedPodInfo, b: &QueuedPodInfo) -> bool {
        match self.at(ExtensionPoint::QueueSort).first() {
            Some(e) => e.plugin.as_queue_sort().is_some_and(|q| q.less(a, b)),
            None => a.timestamp < b.timestamp,
        }
    }

    /// PreEnqueue: the first rejection, if any.
    pub fn run_pre_enqueue(&self, pod: &Pod) -> Status {
        for e in self.at(ExtensionPoint::PreEnqueue) {
            let Some(plugin) = e.plugin.as_pre_enqueue() else {
                continue;
            };
            let status = plugin.pre_enqueue(pod);
            if !status.is_success() {
                return status.with_plugin(e.plugin.name());
            }
        }
        Status::success()
    }

    /// PreFilter: the merged narrowing, and the status (Unschedulable from
    /// one plugin lets the others run, for preemption; any other failure
    /// stops at once).
    pub fn run_pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
        listers: &Listers,
    ) -> (Option<PreFilterResult>, Status) {
        let mut result: Option<PreFilterResult> = None;
        let mut narrowing = BTreeSet::new();
        let mut returned = Status::success();
        for e in self.at(ExtensionPoint::PreFilter) {
            let Some(plugin) = e.plugin.as_pre_filter() else {
                continue;
            };
            let name = e.plugin.name();
            let (r, status) = plugin.pre_filter(state, pod, snapshot, listers);
            match status.code() {
                Code::Success => {}
                Code::Skip => {
                    state.skip_filter_plugins.insert(name.to_string());
                    continue;
                }
                Code::Unschedulable => {
                    returned = status.with_plugin(name);
                    continue;
                }
                Code::UnschedulableAndUnresolvable => return (None, status.with_plugin(name)),
                _ => {
                    let message =
                        format!("running PreFilter plugin {name:?}: {}", status.message());
                    return (None, Status::error(message).with_plugin(name));
                }
            }
            let Some(r) = r else { continue };
            if r.node_names.is_some() {
                narrowing.insert(name.to_string());
            }
            let merged = match result.take() {
                Some(before) => before.merge(r),
                None => r,
            };
            if merged.node_names.as_ref().is_some_and(BTreeSet::is_empty) {
                let names: Vec<_> = narrowing.iter().cloned().collect();
                let message = match names.as_slice() {
                    [one] => format!("node(s) didn't satisfy plugin {one}"),
                    many => format!(
                        "node(s) didn't satisfy plugin(s) [{}] simultaneously",
                        many.join(" ")
                    ),
                };
                return (Some(merged), Status::unresolvable(message));
            }
            result = Some(merged);
        }
        state.filter_skip = self.skip_mask(ExtensionPoint::Filter, &state.skip_filter_plugins);
        state.narrowing_plugins = narrowing.into_iter().collect();
        (result, returned)
    }

    /// For each plugin at `point`, whether it is in `skipped`.
    fn skip_mask(&self, point: ExtensionPoint, skipped: &BTreeSet<String>) -> Vec<bool> {
        self.at(point)
            .iter()
            .map(|e| skipped.contains(e.plugin.name()))
            .collect()
    }

    /// PreFilter's AddPod on every plugin not skipped.
    pub fn run_pre_filter_add_pod(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        added: &Arc<PodInfo>,
        node: &NodeInfo,
    ) -> Status {
        self.run_extension(state, |plugin, state| {
            plugin.add_pod(state, pod, added, node)
        })
    }

    /// PreFilter's RemovePod on every plugin not skipped.
    pub fn run_pre_filter_remove_pod(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        removed: &Arc<PodInfo>,
        node: &NodeInfo,
    ) -> Status {
        self.run_extension(state, |plugin, state| {
            plugin.remove_pod(state, pod, removed, node)
        })
    }

    fn run_extension(
        &self,
        state: &mut CycleState,
        run: impl Fn(&dyn super::PreFilter, &mut CycleState) -> Status,
    ) -> Status {
        for e in self.at(ExtensionPoint::PreFilter) {
            let name = e.plugin.name();
            let Some(plugin) = e.plugin.as_pre_filter() else {
                continue;
            };
            if state.skip_filter_plugins.contains(name) {
                continue;
            }
            let status = run(plugin, state);
            if !status.is_success() {
                return Status::error(format!(
                    "running AddPod/RemovePod on PreFilter plugin {name:?}: {}",
                    status.message()
                ))
                .with_plugin(name);
            }
        }
        Status::success()
    }

    /// Filter: success, or the first plugin's rejection.
    pub fn run_filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let masked = state.filter_skip.len() == self.at(ExtensionPoint::Filter).len();
        for (i, e) in self.at(ExtensionPoint::Filter).iter().enumerate() {
            let skipped = match masked {
                true => state.filter_skip[i],
                false => state.skip_filter_plugins.contains(e.plugin.name()),
            };
            if skipped {
                continue;
            }
            let name = e.plugin.name();
            let Some(plugin) = e.plugin.as_filter() else {
                continue;
            };
            let status = plugin.filter(state, pod, node);
            if status.is_success() {
                continue;
            }
            if !status.is_rejected() {
                let message = format!("running {name:?} filter plugin: {}", status.message());
                return Status::error(message).with_plugin(name);
            }
            return status.with_plugin(name);
        }
        Status::success()
    }

    /// Filter with the pods nominated to the node of equal or higher
    /// priority counted, and (when there were any) without them as well:
    /// the pod must fit both ways, as upstream requires.
    pub fn run_filter_with_nominated_pods(
        &self,
        state: &CycleState,
        pod: &PodInfo,
        node: &NodeInfo,
    ) -> Status {
        if self.nominator.is_empty() {
            return self.run_filter(state, pod, node);
        }
        let nominated: Vec<_> = self
            .nominator
            .pods_on(node.name())
            .into_iter()
            .filter(|p| p.priority() >= pod.priority() && p.uid() != pod.uid())
            .collect();
        if nominated.is_empty() {
            return self.run_filter(state, pod, node);
        }
        let mut with_state = state.clone();
        let mut with_node = node.clone();
        for other in &nominated {
            with_node.add_pod(other.clone());
            let status = self.run_pre_filter_add_pod(&mut with_state, pod, other, &with_node);
            if !status.is_success() {
                return status;
            }
        }
        let status = self.run_filter(&with_state, pod, &with_node);
        if !status.is_success() {
            return status;
        }
        self.run_filter(state, pod, node)
    }

    /// PostFilter: the first plugin that succeeds (or gives up for good)
    /// decides; otherwise every plugin's reasons together.
    pub fn run_post_filter(
        &self,
        state: &CycleState,
        pod: &PodInfo,
        statuses: &NodeToStatus,
        context: &PostFilterContext<'_>,
    ) -> (Option<PostFilterResult>, Status) {
        let mut result = None;
        let mut reasons = Vec::new();
        let mut rejector = None;
        for e in self.at(ExtensionPoint::PostFilter) {
            let name = e.plugin.name();
            let Some(plugin) = e.plugin.as_post_filter() else {
                continue;
            };
            let (r, status) = plugin.post_filter(state, pod, statuses, context);
            match status.code() {
                Code::Success => return (r, status),
                Code::UnschedulableAndUnresolvable => return (r, status.with_plugin(name)),
                Code::Unschedulable | Code::Pending => {}
                _ => return (None, Status::error(status.message()).with_plugin(name)),
            }
            if r.is_some() {
                result = r;
            }
            reasons.extend(status.reasons().iter().cloned());
            rejector.get_or_insert(name);
        }
        let status = Status::new(Code::Unschedulable, reasons);
        (result, status.with_plugin(rejector.unwrap_or_default()))
    }

    /// Whether the profile has PostFilter plugins.
    pub fn has_post_filter(&self) -> bool {
        !self.at(ExtensionPoint::PostFilter).is_empty()
    }

    /// Whether the profile has Score plugins.
    pub fn has_score(&self) -> bool {
        !self.at(ExtensionPoint::Score).is_empty()
    }

    /// PreScore: Skip leaves out the plugin's Score for the cycle.
    pub fn run_pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        nodes: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
        listers: &Listers,
    ) -> Status {
        for e in self.at(ExtensionPoint::PreScore) {
            let name = e.plugin.name();
            let Some(plugin) = e.plugin.as_pre_score() else {
                continue;
            };
            let status = plugin.pre_score(state, pod, nodes, snapshot, listers);
            if status.is_skip() {
                state.skip_score_plugins.insert(name.to_string());
            } else if !status.is_success() {
                let message = format!("running PreScore plugin {name:?}: {}", status.message());
                return Status::error(message).with_plugin(name);
            }
        }
        Status::success()
    }

    /// Score: each node's total of every plugin's normalized score times
    /// its weight, in the order of `nodes`.
    pub fn run_score(
        &self,
        state: &CycleState,
        pod: &PodInfo,
        nodes: &[Arc<NodeInfo>],
    ) -> Result<Vec<i64>, Status> {
        let mut totals = vec![0_i64; nodes.len()];
        // One list of names for every plugin: its scores are written over.
        let mut scores: Vec<NodeScore> = nodes
            .iter()
            .map(|node| NodeScore {
                name: node.name().to_string(),
                score: 0,
            })
            .collect();
        for e in self.at(ExtensionPoint::Score) {
            let name = e.plugin.name();
            let Some(plugin) = e.plugin.as_score() else {
                continue;
            };
            if state.skip_score_plugins.contains(name) {
                continue;
            }
            for (node, slot) in nodes.iter().zip(scores.iter_mut()) {
                slot.score = plugin.score(state, pod, node).map_err(|status| {
                    Status::error(format!("plugin {name:?} failed with: {}", status.message()))
                        .with_plugin(name)
                })?;
            }
            let status = plugin.normalize(state, pod, &mut scores);
            if !status.is_success() {
                let message = format!(
                    "running Normalize on Score plugins: plugin {name:?} failed with: {}",
                    status.message()
                );
                return Err(Status::error(message).with_plugin(name));
            }
            for (total, score) in totals.iter_mut().zip(&scores) {
                if !(super::MIN_NODE_SCORE..=super::MAX_NODE_SCORE).contains(&score.score) {
                    let message = format!(
                        "plugin {name:?} returns an invalid score {}, it should in the range of [{}, {}] after normalizing",
                        score.score,
                        super::MIN_NODE_SCORE,
                        super::MAX_NODE_SCORE
                    );
                    return Err(Status::error(message).with_plugin(name));
                }
                *total += score.score * e.weight;
            }
        }
        Ok(totals)
    }

    /// Reserve: on a failure, the plugins reserved so far are undone.
    pub fn run_reserve(&self, state: &mut CycleState, pod: &PodInfo, node: &str) -> Status {
        for e in self.at(ExtensionPoint::Reserve) {
            let Some(plugin) = e.plugin.as_reserve() else {
                continue;
            };
            let status = plugin.reserve(state, pod, node);
            if !status.is_success() {
                return status.with_plugin(e.plugin.name());
            }
        }
        Status::success()
    }

    /// Unreserve, in reverse order.
    pub fn run_unreserve(&self, state: &mut CycleState, pod: &PodInfo, node: &str) {
        for e in self.at(ExtensionPoint::Reserve).iter().rev() {
            if let Some(plugin) = e.plugin.as_reserve() {
                plugin.unreserve(state, pod, node);
            }
        }
    }

    /// Permit: a rejection at once; `Wait` registers the pod among the
    /// waiting ones for the shortest timeout asked.
    pub fn run_permit(&self, state: &mut CycleState, pod: &PodInfo, node: &str) -> Status {
        let mut waiting_for = BTreeSet::new();
        let mut timeout = Duration::MAX;
        for e in self.at(ExtensionPoint::Permit) {
            let Some(plugin) = e.plugin.as_permit() else {
                continue;
            };
            let (status, wait) = plugin.permit(state, pod, node);
            match status.code() {
                Code::Success => {}
                Code::Wait => {
                    waiting_for.insert(e.plugin.name().to_string());
                    timeout = timeout.min(wait);
                }
                _ if status.is_rejected() => return status.with_plugin(e.plugin.name()),
                _ => {
                    let message = format!(
                        "running Permit plugin {:?}: {}",
                        e.plugin.name(),
                        status.message()
                    );
                    return Status::error(message).with_plugin(e.plugin.name());
                }
            }
        }
        if waiting_for.is_empty() {
            return Status::success();
        }
        self.waiting.add(pod.uid(), waiting_for, timeout);
        Status::new(Code::Wait, ["waiting on permit"])
    }

    /// Waits for a pod Permit held: success once every holding plugin
    /// allowed it, a rejection when one rejected it or the time ran out.
    pub async fn wait_on_permit(&self, pod: &PodInfo) -> Status {
        self.waiting.wait(pod.uid()).await
    }

    /// PreBind, in order; the first failure stops.
    pub async fn run_pre_bind(&self, state: &CycleState, pod: &PodInfo, node: &str) -> Status {
        for e in self.at(ExtensionPoint::PreBind) {
            let Some(plugin) = e.plugin.as_pre_bind() else {
                continue;
            };
            let status = plugin.pre_bind(state, pod, node).await;
            if !status.is_success() {
                return status.with_plugin(e.plugin.name());
            }
        }
        Status::success()
    }

    /// Bind: the first plugin that does not skip binds.
    pub async fn run_bind(&self, state: &CycleState, pod: &PodInfo, node: &str) -> Status {
        for e in self.at(ExtensionPoint::Bind) {
            let Some(plugin) = e.plugin.as_bind() else {
                continue;
            };
            let status = plugin.bind(state, pod, node).await;
            if !status.is_skip() {
                return status.with_plugin(e.plugin.name());
            }
        }
        Status::skip()
    }

    /// PostBind: every plugin told.
    pub fn run_post_bind(&self, state: &CycleState, pod: &PodInfo, node: &str) {
        for e in self.at(ExtensionPoint::PostBind) {
            if let Some(plugin) = e.plugin.as_post_bind() {
                plugin.post_bind(state, pod, node);
            }
        }
    }
}

/// The pods a Permit plugin holds, by uid: who still holds each, and how
/// it ends.
#[derive(Default)]
pub struct WaitingPods {
    pods: Mutex<HashMap<String, Waiting>>,
}

struct Waiting {
    pending: BTreeSet<String>,
    timeout: Duration,
    done: Option<tokio::sync::oneshot::Sender<Status>>,
    receiver: Option<tokio::sync::oneshot::Receiver<Status>>,
}

impl WaitingPods {
    fn add(&self, uid: &str, pending: BTreeSet<String>, timeout: Duration) {
        let (done, receiver) = tokio::sync::oneshot::channel();
        let waiting = Waiting {
            pending,
            timeout,
            done: Some(done),
            receiver: Some(receiver),
        };
        self.lock().insert(uid.to_string(), waiting);
    }

    /// `plugin` lets the pod of `uid` go on; once every holder has, it does.
    pub fn allow(&self, uid: &str, plugin: &str) {
        let mut pods = self.lock();
        let Some(waiting) = pods.get_mut(uid) else {
            return;
        };
        waiting.pending.remove(plugin);
        if waiting.pending.is_empty()
            && let Some(done) = waiting.done.take()
        {
            let _ = done.send(Status::success());
        }
    }

    /// `plugin` rejects the pod of `uid`.
    pub fn reject(&self, uid: &str, plugin: &str, message: &str) {
        if let Some(done) = self.lock().get_mut(uid).and_then(|w| w.done.take()) {
            let _ = done.send(Status::unschedulable(message).with_plugin(plugin));
        }
    }

    /// The uids of the pods held.
    pub fn uids(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    async fn wait(&self, uid: &str) -> Status {
        let taken = self
            .lock()
            .get_mut(uid)
            .and_then(|w| Some((w.receiver.take()?, w.timeout, w.pending.clone())));
        let Some((receiver, timeout, pending)) = taken else {
            return Status::success();
        };
        let status = match tokio::time::timeout(timeout, receiver).await {
            Ok(Ok(status)) => status,
            Ok(Err(_)) => Status::error("the waiting pod was dropped"),
            Err(_) => {
                let names: Vec<_> = pending.into_iter().collect();
                Status::unschedulable(format!(
                    "rejected due to timeout after waiting {timeout:?} at plugin {}",
                    names.join(",")
                ))
            }
        };
        self.lock().remove(uid);
        status
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Waiting>> {
        self.pods.lock().unwrap_or_else(|e| e.into_inner())
    }
}
