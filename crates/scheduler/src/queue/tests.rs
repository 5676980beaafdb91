//! The queue with paused time: order, backoff, moves on events, gates.

use std::sync::Arc;
use std::time::Duration;

use keelson_api::k8s_openapi::api::core::v1::Pod;

use super::*;
use crate::framework::runtime::{ExtensionPoint, Framework};
use crate::framework::{
    ActionType, ClusterChange, ClusterEvent, ClusterEventWithHint, CycleState, EventResource,
    Filter, NodeInfo, Plugin, PodInfo, Status,
};

/// A filter that rejects everything and is helped by new nodes only.
struct NeedsNode;

impl Plugin for NeedsNode {
    fn name(&self) -> &str {
        "NeedsNode"
    }
    fn as_filter(&self) -> Option<&dyn Filter> {
        Some(self)
    }
    fn events_to_register(&self) -> Option<Vec<ClusterEventWithHint>> {
        Some(vec![ClusterEventWithHint::always(
            EventResource::Node,
            ActionType::ADD,
        )])
    }
}

impl Filter for NeedsNode {
    fn filter(&self, _: &CycleState, _: &PodInfo, _: &NodeInfo) -> Status {
        Status::unschedulable("no")
    }
}

fn queue() -> SchedulingQueue {
    let mut framework = Framework::new("default-scheduler", Arc::default());
    let handle = crate::framework::Handle::offline(Default::default());
    let sort = crate::plugins::priority_sort::new(None, &handle).expect("made");
    let gates = crate::plugins::scheduling_gates::new(None, &handle).expect("made");
    framework
        .enrol(ExtensionPoint::QueueSort, sort, 1)
        .expect("a queue sort");
    framework
        .enrol(ExtensionPoint::PreEnqueue, gates, 1)
        .expect("a pre-enqueue");
    framework
        .enrol(ExtensionPoint::Filter, Arc::new(NeedsNode), 1)
        .expect("a filter");
    SchedulingQueue::new(
        vec![Arc::new(framework)],
        Duration::from_secs(1),
        Duration::from_secs(10),
    )
}

fn pod(name: &str, priority: i32) -> Arc<Pod> {
    pod_with(
        name,
        serde_json::json!({"containers": [], "priority": priority}),
    )
}

fn pod_with(name: &str, spec: serde_json::Value) -> Arc<Pod> {
    Arc::new(
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "default", "uid": name}, "spec": spec,
        }))
        .expect("a pod"),
    )
}

fn node_added() -> ClusterChange {
    ClusterChange {
        event: ClusterEvent::new(EventResource::Node, ActionType::ADD),
        old: None,
        new: None,
    }
}

async fn fail(queue: &SchedulingQueue) -> String {
    let (mut info, cycle) = queue.pop().await.expect("a pod");
    info.unschedulable_plugins.insert("NeedsNode".to_string());
    let uid = info.pod_info.uid().to_string();
    queue.add_unschedulable(info, cycle);
    uid
}

#[tokio::test(start_paused = true)]
async fn higher_priority_pods_come_first_then_older_ones() {
    let queue = queue();
    queue.add(pod("low", 1));
    tokio::time::advance(Duration::from_millis(1)).await;
    queue.add(pod("high", 100));
    queue.add(pod("low-later", 1));
    let mut order = Vec::new();
    for _ in 0..3 {
        let (info, _) = queue.pop().await.expect("a pod");
        order.push(info.pod_info.name().to_string());
    }
    assert_eq!(order, ["high", "low", "low-later"]);
}

#[tokio::test(start_paused = true)]
async fn an_unschedulable_pod_moves_only_on_an_event_its_plugin_registered() {
    let queue = queue();
    queue.add(pod("web", 0));
    let uid = fail(&queue).await;
    assert_eq!(queue.place(&uid), Some(Place::Unschedulable));
    // A pod added elsewhere is no event NeedsNode waits for.
    queue.move_on(&ClusterChange {
        event: ClusterEvent::new(EventResource::AssignedPod, ActionType::ADD),
        old: None,
        new: None,
    });
    assert_eq!(queue.place(&uid), Some(Place::Unschedulable));
    // A node added is, but the pod's 1 s backoff is not over yet.
    queue.move_on(&node_added());
    assert_eq!(queue.place(&uid), Some(Place::Backoff));
    tokio::time::advance(Duration::from_millis(1001)).await;
    queue.flush();
    assert_eq!(queue.place(&uid), Some(Place::Active));
}

#[tokio::test(start_paused = true)]
async fn backoff_doubles_per_attempt_up_to_the_maximum() {
    let initial = Duration::from_secs(1);
    let max = Duration::from_secs(10);
    let waits: Vec<u64> = (1..=6)
        .map(|a| backoff_duration(a, initial, max).as_secs())
        .collect();
    assert_eq!(waits, [1, 2, 4, 8, 10, 10]);
    let queue = queue();
    queue.add(pod("web", 0));
    for attempt in 1..=3_u64 {
        let (info, _) = queue.pop().await.expect("a pod");
        queue.add_backoff(info);
        let wait = Duration::from_secs(1 << (attempt - 1));
        tokio::time::advance(wait - Duration::from_millis(1)).await;
        queue.flush();
        assert_eq!(
            queue.place("web"),
            Some(Place::Backoff),
            "attempt {attempt}"
        );
        tokio::time::advance(Duration::from_millis(2)).await;
        queue.flush();
        assert_eq!(queue.place("web"), Some(Place::Active), "attempt {attempt}");
    }
}

#[tokio::test(start_paused = true)]
async fn an_event_during_the_cycle_sends_the_failed_pod_to_backoff() {
    let queue = queue();
    queue.add(pod("web", 0));
    let (mut info, cycle) = queue.pop().await.expect("a pod");
    queue.move_on(&node_added());
    info.unschedulable_plugins.insert("NeedsNode".to_string());
    queue.add_unschedulable(info, cycle);
    assert_eq!(queue.place("web"), Some(Place::Backoff));
}

#[tokio::test(start_paused = true)]
async fn a_gated_pod_waits_until_its_gates_are_removed() {
    let queue = queue();
    let gated = pod_with(
        "web",
        serde_json::json!({"containers": [], "schedulingGates": [{"name": "g"}]}),
    );
    queue.add(gated.clone());
    assert_eq!(queue.place("web"), Some(Place::Unschedulable));
    queue.move_on(&node_added());
    assert_eq!(queue.place("web"), Some(Place::Unschedulable));
    queue.update(&gated, pod("web", 0));
    assert_eq!(queue.place("web"), Some(Place::Active));
}

#[tokio::test(start_paused = true)]
async fn a_pod_left_unschedulable_for_five_minutes_is_tried_again() {
    let queue = queue();
    queue.add(pod("web", 0));
    let uid = fail(&queue).await;
    tokio::time::advance(Duration::from_secs(299)).await;
    queue.flush();
    assert_eq!(queue.place(&uid), Some(Place::Unschedulable));
    tokio::time::advance(Duration::from_secs(2)).await;
    queue.flush();
    assert_eq!(queue.place(&uid), Some(Place::Active));
}

#[tokio::test(start_paused = true)]
async fn a_deleted_pod_leaves_the_queue_and_pop_waits_for_the_next() {
    let queue = Arc::new(queue());
    queue.add(pod("web", 0));
    queue.delete("web");
    assert_eq!(queue.place("web"), None);
    let popping = tokio::spawn({
        let queue = queue.clone();
        async move {
            queue
                .pop()
                .await
                .map(|(info, _)| info.pod_info.name().to_string())
        }
    });
    tokio::task::yield_now().await;
    queue.add(pod("api", 0));
    assert_eq!(popping.await.expect("joined").as_deref(), Some("api"));
}
