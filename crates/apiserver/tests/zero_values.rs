//! New objects read back with the zero values upstream's Go types always
//! write, kind by kind as a Kubernetes v1.33 API server answers.

mod support;

use serde_json::{Value, json};
use support::embedded;

fn template() -> Value {
    json!({"metadata": {"labels": {"app": "z"}}, "spec": {"containers": [{"name": "a", "image": "busybox"}]}})
}

fn workload(kind: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "z"},
           "spec": {"selector": {"matchLabels": {"app": "z"}}, "template": template(), "serviceName": "z"}})
}

#[tokio::test]
async fn new_objects_have_gos_zero_values() {
    let server = embedded().await;
    let cases = [
        (
            "/apis/apps/v1/namespaces/default/replicasets",
            workload("ReplicaSet"),
            json!({"replicas": 0}),
        ),
        (
            "/apis/apps/v1/namespaces/default/statefulsets",
            workload("StatefulSet"),
            json!({"replicas": 0, "availableReplicas": 0}),
        ),
        (
            "/apis/apps/v1/namespaces/default/daemonsets",
            workload("DaemonSet"),
            json!({"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0}),
        ),
        (
            "/apis/apps/v1/namespaces/default/deployments",
            workload("Deployment"),
            json!({}),
        ),
        (
            "/api/v1/namespaces/default/services",
            json!({"metadata": {"name": "z"}, "spec": {"ports": [{"port": 80}]}}),
            json!({"loadBalancer": {}}),
        ),
    ];
    for (collection, object, status) in cases {
        let created = server.json("POST", collection, &object).await;
        assert_eq!(created.code, 201, "{collection}: {}", created.body);
        assert_eq!(created.body["status"], status, "{collection}");
        let name = "z";
        let read = server.get(&format!("{collection}/{name}")).await;
        assert_eq!(read.body["status"], status, "{collection} read back");
    }
}

#[tokio::test]
async fn status_writes_keep_the_required_counts() {
    let server = embedded().await;
    let path = "/apis/apps/v1/namespaces/default/replicasets";
    let created = server.json("POST", path, &workload("ReplicaSet")).await;
    assert_eq!(created.code, 201, "{}", created.body);
    let mut object = created.body;
    object["status"] = json!({"readyReplicas": 1});
    let written = server
        .json("PUT", &format!("{path}/z/status"), &object)
        .await;
    assert_eq!(written.code, 200, "{}", written.body);
    assert_eq!(
        written.body["status"],
        json!({"replicas": 0, "readyReplicas": 1})
    );
}
