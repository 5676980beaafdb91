//! Cluster events: what changed in the cluster (a node added, a pod's
//! labels changed, a claim bound, ...), which plugins name as able to
//! make a pod they rejected fit, so that the queue moves a pod back only
//! when a change could help it (upstream's `ClusterEvent` and queueing
//! hints).

use std::sync::Arc;

use keelson_api::k8s_openapi::api::core::v1::{Node, Pod};

/// The kind of object that changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventResource {
    /// A pod bound to a node (or assumed on one).
    AssignedPod,
    /// A pod not yet bound.
    UnscheduledPod,
    Node,
    PersistentVolume,
    PersistentVolumeClaim,
    StorageClass,
    CSINode,
    Namespace,
    PodDisruptionBudget,
    /// Any kind (in a registration).
    Wildcard,
}

/// What happened to it, as a set of flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ActionType(pub u32);

impl ActionType {
    pub const ADD: ActionType = ActionType(1);
    pub const DELETE: ActionType = ActionType(1 << 1);
    pub const UPDATE_NODE_ALLOCATABLE: ActionType = ActionType(1 << 2);
    pub const UPDATE_NODE_LABEL: ActionType = ActionType(1 << 3);
    pub const UPDATE_NODE_TAINT: ActionType = ActionType(1 << 4);
    pub const UPDATE_NODE_CONDITION: ActionType = ActionType(1 << 5);
    pub const UPDATE_NODE_ANNOTATION: ActionType = ActionType(1 << 6);
    pub const UPDATE_POD_LABEL: ActionType = ActionType(1 << 7);
    pub const UPDATE_POD_SCALE_DOWN: ActionType = ActionType(1 << 8);
    pub const UPDATE_POD_TOLERATIONS: ActionType = ActionType(1 << 9);
    pub const UPDATE_POD_SCHEDULING_GATES_ELIMINATED: ActionType = ActionType(1 << 10);
    /// Any other update.
    pub const UPDATE_OTHER: ActionType = ActionType(1 << 11);
    /// Every kind of update.
    pub const UPDATE: ActionType = ActionType((1 << 12) - 4);
    pub const ALL: ActionType = ActionType((1 << 12) - 1);

    pub fn union(self, other: ActionType) -> ActionType {
        ActionType(self.0 | other.0)
    }

    /// Whether the two share a flag.
    pub fn overlaps(self, other: ActionType) -> bool {
        self.0 & other.0 != 0
    }
}

impl std::ops::BitOr for ActionType {
    type Output = ActionType;
    fn bitor(self, other: ActionType) -> ActionType {
        self.union(other)
    }
}

/// A change of some kind of object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClusterEvent {
    pub resource: EventResource,
    pub action: ActionType,
}

impl ClusterEvent {
    pub const fn new(resource: EventResource, action: ActionType) -> ClusterEvent {
        ClusterEvent { resource, action }
    }

    /// Whether this registration covers the event `happened`.
    pub fn covers(&self, happened: &ClusterEvent) -> bool {
        let resource =
            self.resource == EventResource::Wildcard || self.resource == happened.resource;
        resource && self.action.overlaps(happened.action)
    }
}

/// The object of a change, as far as hints read it.
#[derive(Debug, Clone)]
pub enum Changed {
    Pod(Arc<Pod>),
    Node(Arc<Node>),
    /// Another kind, not read by hints.
    Other,
}

/// A change that happened, with the object's old and new versions.
#[derive(Debug, Clone)]
pub struct ClusterChange {
    pub event: ClusterEvent,
    pub old: Option<Changed>,
    pub new: Option<Changed>,
}

impl ClusterChange {
    /// The new version, if it is a node.
    pub fn new_node(&self) -> Option<&Node> {
        match &self.new {
            Some(Changed::Node(node)) => Some(node),
            _ => None,
        }
    }

    /// The old version, if it is a node.
    pub fn old_node(&self) -> Option<&Node> {
        match &self.old {
            Some(Changed::Node(node)) => Some(node),
            _ => None,
        }
    }

    /// The pod of the change (the new version, or the deleted one).
    pub fn pod(&self) -> Option<&Pod> {
        match (&self.new, &self.old) {
            (Some(Changed::Pod(pod)), _) | (None, Some(Changed::Pod(pod))) => Some(pod),
            _ => None,
        }
    }
}

/// Whether a change may make a rejected pod fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueingHint {
    Queue,
    Skip,
}

/// A plugin's judgement of one change for one pod it rejected.
pub type QueueingHintFn = Arc<dyn Fn(&Pod, &ClusterChange) -> QueueingHint + Send + Sync>;

/// An event a plugin registers, with its hint (none: always queue).
#[derive(Clone)]
pub struct ClusterEventWithHint {
    pub event: ClusterEvent,
    pub hint: Option<QueueingHintFn>,
}

impl ClusterEventWithHint {
    /// Any event of `resource` and `action` moves the pod.
    pub fn always(resource: EventResource, action: ActionType) -> ClusterEventWithHint {
        ClusterEventWithHint {
            event: ClusterEvent::new(resource, action),
            hint: None,
        }
    }

    /// Such an event moves the pod when `hint` says so.
    pub fn hinted(
        resource: EventResource,
        action: ActionType,
        hint: impl Fn(&Pod, &ClusterChange) -> QueueingHint + Send + Sync + 'static,
    ) -> ClusterEventWithHint {
        ClusterEventWithHint {
            event: ClusterEvent::new(resource, action),
            hint: Some(Arc::new(hint)),
        }
    }
}

impl std::fmt::Debug for ClusterEventWithHint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} (hinted: {})", self.event, self.hint.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registration_covers_its_kind_and_any_of_its_actions() {
        let node_changes = ClusterEvent::new(
            EventResource::Node,
            ActionType::ADD | ActionType::UPDATE_NODE_TAINT,
        );
        let tainted = ClusterEvent::new(EventResource::Node, ActionType::UPDATE_NODE_TAINT);
        let labelled = ClusterEvent::new(EventResource::Node, ActionType::UPDATE_NODE_LABEL);
        let pod_added = ClusterEvent::new(EventResource::AssignedPod, ActionType::ADD);
        assert!(node_changes.covers(&tainted));
        assert!(!node_changes.covers(&labelled));
        assert!(!node_changes.covers(&pod_added));
        let anything = ClusterEvent::new(EventResource::Wildcard, ActionType::ALL);
        assert!(anything.covers(&pod_added));
        assert!(ActionType::UPDATE.overlaps(ActionType::UPDATE_NODE_LABEL));
        assert!(!ActionType::UPDATE.overlaps(ActionType::ADD | ActionType::DELETE));
    }
}
