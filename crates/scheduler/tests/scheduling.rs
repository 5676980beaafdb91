//! The scheduler against the API server in-process, with Node objects and
//! no node agent: pods spread over nodes, follow selectors, taints and
//! affinity, preempt lower-priority pods, and those that fit nowhere say
//! why in upstream's words.

use std::collections::BTreeMap;
use std::time::Duration;

use keelson_api::k8s_openapi::api::core::v1::{Node, Pod};
use keelson_apiserver::testing;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

mod support;

use support::*;

const DEFAULT: &str = "{}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_spread_over_the_least_allocated_nodes_and_say_where_they_went() {
    let server = testing::embedded().await;
    let client = server.client.clone();
    for name in ["n1", "n2", "n3"] {
        node(&client, name, "4", json!({})).await;
    }
    let _scheduler = start(&client, DEFAULT);
    for i in 0..6 {
        pod(&client, &format!("web-{i}"), "1", json!({})).await;
    }
    let mut per_node = BTreeMap::new();
    for i in 0..6 {
        *per_node
            .entry(bound(&client, &format!("web-{i}")).await)
            .or_insert(0) += 1;
    }
    assert_eq!(
        per_node.values().copied().collect::<Vec<_>>(),
        [2, 2, 2],
        "{per_node:?}"
    );
    let message = event(&client, "web-0", "Scheduled").await;
    let node = node_of(&get(&client, "web-0").await.expect("the pod")).expect("bound");
    assert_eq!(
        message,
        format!("Successfully assigned default/web-0 to {node}")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selectors_taints_and_affinity_decide_the_node() {
    let server = testing::embedded().await;
    let client = server.client.clone();
    node(
        &client,
        "ssd",
        "4",
        json!({"metadata": {"labels": {"disk": "ssd", "zone": "a"}}}),
    )
    .await;
    node(
        &client,
        "gpu",
        "4",
        json!({
            "metadata": {"labels": {"zone": "b"}},
            "spec": {"taints": [{"key": "gpu", "value": "true", "effect": "NoSchedule"}]},
        }),
    )
    .await;
    let _scheduler = start(&client, DEFAULT);
    pod(
        &client,
        "picky",
        "1",
        json!({"spec": {"nodeSelector": {"disk": "ssd"}}}),
    )
    .await;
    pod(&client, "tolerant", "1", json!({"spec": {
        "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}]}}},
    }}))
    .await;
    assert_eq!(bound(&client, "picky").await, "ssd");
    assert_eq!(bound(&client, "tolerant").await, "gpu");
    // Beside the pod it must be with, in the same zone.
    pod(
        &client,
        "friend",
        "1",
        json!({"metadata": {"labels": {"app": "friend"}}, "spec": {
            "affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "zone"}]}},
            "tolerations": [{"key": "gpu", "operator": "Exists"}],
        }}),
    )
    .await;
    let friend = bound(&client, "friend").await;
    assert!(friend == "ssd" || friend == "gpu", "{friend}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_that_fits_nowhere_is_told_why_in_upstreams_words() {
    let server = testing::embedded().await;
    let client = server.client.clone();
    node(&client, "small", "1", json!({})).await;
    for name in ["cp1", "cp2"] {
        node(
            &client,
            name,
            "8",
            json!({"spec": {"taints": [
            {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}}),
        )
        .await;
    }
    let _scheduler = start(&client, DEFAULT);
    pod(&client, "big", "2", json!({})).await;
    let expected = "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint \
        {node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: \
        1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.";
    assert_eq!(event(&client, "big", "FailedScheduling").await, expected);
    let condition = eventually("the PodScheduled condition", || async {
        let pod = get(&client, "big").await?;
        let conditions = pod.status?.conditions?;
        conditions.into_iter().find(|c| c.type_ == "PodScheduled")
    })
    .await;
    assert_eq!(condition.status, "False");
    assert_eq!(condition.reason.as_deref(), Some("Unschedulable"));
    assert_eq!(condition.message.as_deref(), Some(expected));
    // Room made: the pod is tried again on the node's change and fits.
    let api: Api<Node> = Api::all(client.clone());
    let status = json!({"status": {"allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"}}});
    api.patch_status("small", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .expect("the node grows");
    assert_eq!(bound(&client, "big").await, "small");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anti_affinity_keeps_replicas_apart_and_the_third_waits() {
    let server = testing::embedded().await;
    let client = server.client.clone();
    for name in ["n1", "n2"] {
        node(&client, name, "4", json!({})).await;
    }
    let _scheduler = start(&client, DEFAULT);
    let apart = json!({"spec": {"affinity": {"podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}}}});
    for i in 0..3 {
        pod(&client, &format!("web-{i}"), "100m", apart.clone()).await;
    }
    let mut nodes = Vec::new();
    for i in 0..2 {
        nodes.push(bound(&client, &format!("web-{i}")).await);
    }
    nodes.sort();
    assert_eq!(nodes, ["n1", "n2"]);
    let message = event(&client, "web-2", "FailedScheduling").await;
    assert!(
        message.starts_with(
            "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules."
        ),
        "{message}"
    );
    assert!(
        get(&client, "web-2")
            .await
            .as_ref()
            .and_then(node_of)
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_higher_priority_pod_preempts_a_lower_one() {
    let server = testing::embedded().await;
    let client = server.client.clone();
    let classes: Api<keelson_api::k8s_openapi::api::scheduling::v1::PriorityClass> =
        Api::all(client.clone());
    for (name, value) in [("low", 10), ("high", 1000)] {
        let class = serde_json::from_value(json!({"metadata": {"name": name}, "value": value}))
            .expect("a class");
        classes
            .create(&PostParams::default(), &class)
            .await
            .expect("the class is made");
    }
    node(&client, "only", "2", json!({})).await;
    let _scheduler = start(&client, DEFAULT);
    pod(
        &client,
        "victim",
        "2",
        json!({"spec": {"priorityClassName": "low"}}),
    )
    .await;
    assert_eq!(bound(&client, "victim").await, "only");
    pod(
        &client,
        "preemptor",
        "2",
        json!({"spec": {"priorityClassName": "high"}}),
    )
    .await;
    let nominated = eventually("the preemptor's nomination", || async {
        get(&client, "preemptor").await?.status?.nominated_node_name
    })
    .await;
    assert_eq!(nominated, "only");
    let victim = eventually("the victim's deletion", || async {
        get(&client, "victim")
            .await
            .filter(|p| p.metadata.deletion_timestamp.is_some())
    })
    .await;
    let disruption = victim
        .status
        .and_then(|s| s.conditions)
        .into_iter()
        .flatten()
        .find(|c| c.type_ == "DisruptionTarget")
        .expect("the victim is marked");
    assert_eq!(disruption.reason.as_deref(), Some("PreemptionByScheduler"));
    let message = event(&client, "victim", "Preempted").await;
    assert!(message.starts_with("Preempted by pod "), "{message}");
    // No node agent here: the victim's end is confirmed as one would.
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    api.delete(
        "victim",
        &DeleteParams {
            grace_period_seconds: Some(0),
            ..DeleteParams::default()
        },
    )
    .await
    .expect("the victim goes");
    assert_eq!(bound(&client, "preemptor").await, "only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_of_other_schedulers_and_gated_pods_wait() {
    let server = testing::embedded().await;
    let client = server.client.clone();
    node(&client, "n1", "4", json!({})).await;
    let _scheduler = start(&client, DEFAULT);
    pod(
        &client,
        "theirs",
        "1",
        json!({"spec": {"schedulerName": "another"}}),
    )
    .await;
    pod(
        &client,
        "gated",
        "1",
        json!({"spec": {"schedulingGates": [{"name": "example.com/wait"}]}}),
    )
    .await;
    pod(&client, "ours", "1", json!({})).await;
    assert_eq!(bound(&client, "ours").await, "n1");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        get(&client, "theirs")
            .await
            .as_ref()
            .and_then(node_of)
            .is_none()
    );
    let gated = get(&client, "gated").await.expect("the pod");
    assert!(node_of(&gated).is_none());
    let reason = gated
        .status
        .and_then(|s| s.conditions)
        .into_iter()
        .flatten()
        .find(|c| c.type_ == "PodScheduled")
        .and_then(|c| c.reason);
    assert_eq!(reason.as_deref(), Some("SchedulingGated"));
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    let ungate = json!({"spec": {"schedulingGates": null}});
    api.patch("gated", &PatchParams::default(), &Patch::Merge(&ungate))
        .await
        .expect("the gate is removed");
    assert_eq!(bound(&client, "gated").await, "n1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_profile_schedules_its_own_pods_with_its_own_plugins() {
    let server = testing::embedded().await;
    let client = server.client.clone();
    node(&client, "n1", "4", json!({})).await;
    node(&client, "n2", "4", json!({})).await;
    let config = r#"
profiles:
- schedulerName: default-scheduler
- schedulerName: packer
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated}}
  plugins:
    multiPoint:
      disabled: [{name: NodeResourcesBalancedAllocation}, {name: PodTopologySpread}]
"#;
    let _scheduler = start(&client, config);
    pod(
        &client,
        "first",
        "1",
        json!({"spec": {"schedulerName": "packer"}}),
    )
    .await;
    let first = bound(&client, "first").await;
    for i in 0..3 {
        pod(
            &client,
            &format!("packed-{i}"),
            "1",
            json!({"spec": {"schedulerName": "packer"}}),
        )
        .await;
        assert_eq!(
            bound(&client, &format!("packed-{i}")).await,
            first,
            "packed onto one node"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_bound_by_someone_else_meanwhile_is_left_as_it_is() {
    let server = testing::embedded().await;
    let client = server.client.clone();
    node(&client, "n1", "4", json!({})).await;
    node(&client, "n2", "4", json!({})).await;
    pod(&client, "taken", "1", json!({})).await;
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "taken"},
        "target": {"kind": "Node", "name": "n2"}});
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    let _: Value = api
        .create_subresource("binding", "taken", &PostParams::default(), &binding)
        .await
        .expect("bound by hand");
    let _scheduler = start(&client, DEFAULT);
    pod(&client, "next", "1", json!({})).await;
    bound(&client, "next").await;
    assert_eq!(bound(&client, "taken").await, "n2");
}
