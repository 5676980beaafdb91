//! HorizontalPodAutoscalers are served in autoscaling/v2 and v1, the same
//! objects in both: what v1 cannot say rides in its annotations and comes
//! back whole in v2.

mod support;

use k8s_openapi::api::autoscaling::{v1, v2};
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;
use support::Server;

on_every_backend!(one_object_in_both_versions);

async fn one_object_in_both_versions(server: Server) {
    let old: Api<v1::HorizontalPodAutoscaler> = Api::namespaced(server.client.clone(), "default");
    let new: Api<v2::HorizontalPodAutoscaler> = Api::namespaced(server.client.clone(), "default");
    let target = json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"});
    let cpu: v1::HorizontalPodAutoscaler = serde_json::from_value(json!({
        "metadata": {"name": "cpu"},
        "spec": {"scaleTargetRef": target, "maxReplicas": 4, "targetCPUUtilizationPercentage": 60},
    }))
    .expect("a v1 autoscaler");
    let created = old
        .create(&PostParams::default(), &cpu)
        .await
        .expect("created in v1");
    assert_eq!(created.spec.as_ref().and_then(|s| s.min_replicas), Some(1));
    let as_v2 = new.get("cpu").await.expect("read in v2");
    let metric = &as_v2.spec.expect("a spec").metrics.expect("metrics")[0];
    let utilization = metric
        .resource
        .as_ref()
        .and_then(|r| r.target.average_utilization);
    assert_eq!((metric.type_.as_str(), utilization), ("Resource", Some(60)));

    let memory: v2::HorizontalPodAutoscaler = serde_json::from_value(json!({
        "metadata": {"name": "memory"},
        "spec": {"scaleTargetRef": target, "maxReplicas": 4, "metrics": [{"type": "Resource",
            "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "500Mi"}}}]},
    }))
    .expect("a v2 autoscaler");
    new.create(&PostParams::default(), &memory)
        .await
        .expect("created in v2");
    let as_v1 = old.get("memory").await.expect("read in v1");
    assert_eq!(
        as_v1
            .spec
            .as_ref()
            .and_then(|s| s.target_cpu_utilization_percentage),
        None
    );
    let annotations = as_v1.metadata.annotations.clone().unwrap_or_default();
    let kept = annotations.get("autoscaling.alpha.kubernetes.io/metrics");
    assert!(kept.is_some_and(|m| m.contains("500Mi")), "{annotations:?}");
    // A v1 write keeps what v1 cannot say.
    let mut relabeled = as_v1.clone();
    relabeled.metadata.labels = Some([("team".to_string(), "a".to_string())].into());
    old.replace("memory", &PostParams::default(), &relabeled)
        .await
        .expect("replaced in v1");
    let back = new.get("memory").await.expect("read in v2");
    let metrics = back.spec.expect("a spec").metrics.expect("metrics");
    assert_eq!(
        metrics[0].resource.as_ref().map(|r| r.name.as_str()),
        Some("memory")
    );
    assert!(back.metadata.annotations.unwrap_or_default().is_empty());

    let listed = old.list(&ListParams::default()).await.expect("a v1 list");
    assert_eq!(listed.items.len(), 2);
}
