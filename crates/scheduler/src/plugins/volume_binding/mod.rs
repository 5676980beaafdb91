//! The `VolumeBinding` plugin: a pod's claims must be bound, or bindable
//! on the node, before the pod goes there (upstream's `volumebinding`).
//! PreFilter sorts the pod's claims ([`classify`]); Filter finds, per
//! node, volumes or provisioning for the unbound ones ([`matching`]);
//! Reserve assumes the choice ([`assume`]); PreBind writes it and waits
//! for the PV controller to bind ([`bind`]).

pub(crate) mod assume;
pub(crate) mod bind;
pub(crate) mod claims;
pub(crate) mod classify;
pub(crate) mod matching;

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keelson_api::k8s_openapi::api::core::v1::Pod;

use self::assume::AssumeCache;
use self::classify::{PodVolumeClaims, claim_key, pod_has_claims, pod_volume_claims};
use self::matching::{PodVolumes, find_pod_volumes};
use crate::framework::{
    ActionType, ClusterEventWithHint, Code, CycleState, EventResource, Filter, Handle, Listers,
    NodeInfo, Plugin, PodInfo, PreBind, PreFilter, PreFilterResult, Reserve, Snapshot, Status,
};

pub use self::matching::{
    ERR_REASON_BIND_CONFLICT, ERR_REASON_NODE_CONFLICT, ERR_REASON_PV_NOT_EXIST,
};

/// The plugin's name in configurations.
pub const NAME: &str = "VolumeBinding";

/// Where the plugin keeps its cycle's state.
const STATE_KEY: &str = NAME;

/// An unbound claim that the PV controller, not the scheduler, binds.
pub const ERR_REASON_UNBOUND_IMMEDIATE: &str = "pod has unbound immediate PersistentVolumeClaims";

/// The default of `bindTimeoutSeconds`.
const DEFAULT_BIND_TIMEOUT_SECONDS: i64 = 600;

/// The plugin's arguments (upstream's `VolumeBindingArgs`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeBindingArgs {
    /// How long PreBind waits for the claims to be bound.
    #[serde(default = "default_bind_timeout")]
    pub bind_timeout_seconds: i64,
    /// The scoring shape (only with the StorageCapacityScoring feature,
    /// off in v1.33: must be absent).
    #[serde(default)]
    pub shape: Option<serde_json::Value>,
}

fn default_bind_timeout() -> i64 {
    DEFAULT_BIND_TIMEOUT_SECONDS
}

impl VolumeBindingArgs {
    /// The arguments of a configuration (defaults when none), validated
    /// as upstream does.
    pub fn parse(args: Option<&serde_json::Value>) -> Result<VolumeBindingArgs, String> {
        let args: VolumeBindingArgs = match args {
            None => serde_json::from_value(serde_json::json!({})),
            Some(value) => serde_json::from_value(value.clone()),
        }
        .map_err(|e| format!("VolumeBindingArgs: {e}"))?;
        if args.bind_timeout_seconds < 0 {
            return Err(format!(
                "VolumeBindingArgs.bindTimeoutSeconds: Invalid value: {}: invalid BindTimeoutSeconds, should not be a negative value",
                args.bind_timeout_seconds
            ));
        }
        if let Some(shape) = args.shape.as_ref().filter(|s| !s.is_null()) {
            return Err(format!(
                "VolumeBindingArgs.shape: Invalid value: {shape}: unsupported when StorageCapacityScoring feature is disabled"
            ));
        }
        Ok(args)
    }
}

/// The plugin.
pub struct VolumeBinding {
    /// The listers Reserve reads (it gets none of its own).
    listers: Arc<Listers>,
    client: Option<kube::Client>,
    bind_timeout: Duration,
    assumed: Arc<AssumeCache>,
}

/// The plugin's cycle state. The per-node results are shared by clones
/// of the state, as upstream's pointer is: Filter runs on a shared state
/// and records what Reserve uses.
#[derive(Debug, Clone, Default)]
struct State {
    claims: Arc<PodVolumeClaims>,
    by_node: Arc<Mutex<HashMap<String, PodVolumes>>>,
    /// The writes Reserve decided (`None`: every claim is bound).
    writes: Option<Arc<(PodVolumes, bind::Writes)>>,
}

impl State {
    fn node_volumes(&self, node: &str) -> Option<PodVolumes> {
        let by_node = self.by_node.lock().unwrap_or_else(|e| e.into_inner());
        by_node.get(node).cloned()
    }
}

impl Plugin for VolumeBinding {
    fn name(&self) -> &str {
        NAME
    }

    fn as_pre_filter(&self) -> Option<&dyn PreFilter> {
        Some(self)
    }

    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }

    fn as_reserve(&self) -> Option<&dyn Reserve> {
        Some(self)
    }

    fn as_pre_bind(&self) -> Option<&dyn PreBind> {
        Some(self)
    }

    fn events_to_register(&self) -> Option<Vec<ClusterEventWithHint>> {
        use ActionType as A;
        let add_or_update = A::ADD | A::UPDATE;
        Some(vec![
            // A class created or fixed (binding mode, allowed topologies).
            ClusterEventWithHint::always(EventResource::StorageClass, add_or_update),
            // Claims are bound to volumes: any change of either may help.
            // (Upstream's hint compares the claim's name with the pod's;
            // a change here carries no claim to compare.)
            ClusterEventWithHint::always(EventResource::PersistentVolumeClaim, add_or_update),
            ClusterEventWithHint::always(EventResource::PersistentVolume, add_or_update),
            // Labels decide volumes' node affinity and allowed topologies.
            ClusterEventWithHint::always(EventResource::Node, A::ADD | A::UPDATE_NODE_LABEL),
            ClusterEventWithHint::always(EventResource::CSINode, add_or_update),
        ])
    }
}

impl PreFilter for VolumeBinding {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _snapshot: &Snapshot,
        listers: &Listers,
    ) -> (Option<PreFilterResult>, Status) {
        match pod_has_claims(&pod.pod, listers, &self.assumed) {
            Err(message) => return (None, Status::unresolvable(message)),
            Ok(false) => {
                state.write(STATE_KEY, State::default());
                return (None, Status::skip());
            }
            Ok(true) => {}
        }
        let claims = match pod_volume_claims(&pod.pod, listers, &self.assumed) {
            Ok(claims) => claims,
            Err(message) => return (None, Status::error(message)),
        };
        if claims.unbound_immediate > 0 {
            // The PV controller binds these; the claim's update moves the
            // pod back.
            return (None, Status::unresolvable(ERR_REASON_UNBOUND_IMMEDIATE));
        }
        // v1.33 does not narrow the nodes to local volumes' host names:
        // a node's hostname label need not be its name.
        state.write(
            STATE_KEY,
            State {
                claims: Arc::new(claims),
                ..State::default()
            },
        );
        (None, Status::success())
    }
}

fn missing_state() -> Status {
    Status::error(format!("cannot read {STATE_KEY:?} from cycleState"))
}

impl Filter for VolumeBinding {
    fn filter(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(state) = state.read::<State>(STATE_KEY) else {
            return missing_state();
        };
        let Some(node_object) = node.node_arc() else {
            return Status::error("node not found");
        };
        match find_pod_volumes(&state.claims, node_object) {
            Err(message) => Status::error(message),
            Ok(Err(reasons)) => Status::new(Code::UnschedulableAndUnresolvable, reasons),
            Ok(Ok(volumes)) => {
                let mut by_node = state.by_node.lock().unwrap_or_else(|e| e.into_inner());
                by_node.insert(node.name().to_string(), volumes);
                Status::success()
            }
        }
    }
}

impl VolumeBinding {
    /// Whether every claim of the pod is bound already (another pod's
    /// binding may have finished since PreFilter).
    fn all_bound(&self, pod: &Pod) -> bool {
        let namespace = crate::framework::pod_info::namespace(pod);
        claims::pod_claims(pod).all(|(name, _)| {
            let claim = classify::lookup_claim(&self.listers, &self.assumed, namespace, &name);
            claim.is_some_and(|c| classify::is_fully_bound(&c))
        })
    }

    /// Forgets what Reserve assumed for `writes`.
    fn revert(&self, writes: &bind::Writes) {
        for volume in &writes.volumes {
            self.assumed
                .volumes
                .restore(volume.metadata.name.as_deref().unwrap_or_default());
        }
        for claim in &writes.claims {
            self.assumed.claims.restore(&claim_key(claim));
        }
    }
}

impl Reserve for VolumeBinding {
    fn reserve(&self, state: &mut CycleState, pod: &PodInfo, node: &str) -> Status {
        let Some(state) = state.read_mut::<State>(STATE_KEY) else {
            return missing_state();
        };
        state.writes = None;
        let Some(volumes) = state.node_volumes(node) else {
            return Status::success();
        };
        if self.all_bound(&pod.pod) {
            return Status::success();
        }
        let writes = bind::writes_for(&volumes, node);
        for volume in &writes.volumes {
            let name = volume.metadata.name.clone().unwrap_or_default();
            self.assumed.volumes.assume(name, volume.clone());
        }
        for claim in &writes.claims {
            self.assumed.claims.assume(claim_key(claim), claim.clone());
        }
        state.writes = Some(Arc::new((volumes, writes)));
        Status::success()
    }

    fn unreserve(&self, state: &mut CycleState, _pod: &PodInfo, _node: &str) {
        if let Some(state) = state.read::<State>(STATE_KEY)
            && let Some(writes) = &state.writes
        {
            self.revert(&writes.1);
        }
    }
}

#[async_trait::async_trait]
impl PreBind for VolumeBinding {
    async fn pre_bind(&self, state: &CycleState, pod: &PodInfo, node: &str) -> Status {
        let Some(state) = state.read::<State>(STATE_KEY) else {
            return missing_state();
        };
        let Some(planned) = state.writes.clone() else {
            return Status::success();
        };
        let (volumes, writes) = planned.as_ref();
        let Some(client) = &self.client else {
            return Status::error(format!(
                "no API client to bind the volumes of pod on node {node:?}"
            ));
        };
        let written = match bind::write(client, writes).await {
            Ok(written) => written,
            Err(message) => {
                self.revert(writes);
                return Status::error(message);
            }
        };
        // The API's versions replace the assumed ones: newer than what the
        // listers hold until the watches deliver them.
        for volume in &written.volumes {
            let name = volume.metadata.name.clone().unwrap_or_default();
            self.assumed.volumes.assume(name, volume.clone());
        }
        for claim in &written.claims {
            self.assumed.claims.assume(claim_key(claim), claim.clone());
        }
        match bind::wait_for_bindings(client, &pod.pod, &volumes.node, &written, self.bind_timeout)
            .await
        {
            Ok(()) => Status::success(),
            Err(message) => Status::error(message),
        }
    }
}

/// Makes the plugin from its `VolumeBindingArgs`.
pub fn new(args: Option<&serde_json::Value>, handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    let args = VolumeBindingArgs::parse(args)?;
    let seconds = u64::try_from(args.bind_timeout_seconds).unwrap_or(0);
    Ok(Arc::new(VolumeBinding {
        listers: handle.listers.clone(),
        client: handle.client.clone(),
        bind_timeout: Duration::from_secs(seconds),
        assumed: Arc::default(),
    }))
}
