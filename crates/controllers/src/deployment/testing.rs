//! Builders of Deployments and ReplicaSets for the tests.

use keelson_api::k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, ReplicaSet, ReplicaSetSpec, ReplicaSetStatus,
    RollingUpdateDeployment,
};
use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use keelson_api::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

fn int_or_percent(s: &str) -> IntOrString {
    match s.parse() {
        Ok(i) => IntOrString::Int(i),
        Err(_) => IntOrString::String(s.to_owned()),
    }
}

/// A RollingUpdate Deployment "web" of `replicas` with these fenceposts.
pub fn deployment(replicas: i32, surge: &str, unavailable: &str) -> Deployment {
    let template = serde_json::from_value(serde_json::json!({
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]},
    }))
    .expect("a valid template");
    Deployment {
        metadata: ObjectMeta {
            name: Some("web".into()),
            namespace: Some("default".into()),
            uid: Some("d-uid".into()),
            generation: Some(1),
            ..Default::default()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(replicas),
            selector: serde_json::from_value(serde_json::json!({"matchLabels": {"app": "web"}}))
                .expect("a valid selector"),
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: Some(int_or_percent(surge)),
                    max_unavailable: Some(int_or_percent(unavailable)),
                }),
            }),
            template,
            revision_history_limit: Some(10),
            progress_deadline_seconds: Some(600),
            ..Default::default()
        }),
        status: None,
    }
}

/// A timestamp `second` seconds after the epoch.
pub fn at(second: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(second).expect("in range")
}

/// A ReplicaSet `name`, created at `created`, with `spec` replicas of
/// which `available` are available (and ready); its pods all exist.
pub fn rs(name: &str, created: i64, spec: i32, available: i32) -> ReplicaSet {
    ReplicaSet {
        metadata: ObjectMeta {
            name: Some(name.into()),
            uid: Some(format!("{name}-uid")),
            creation_timestamp: Some(Time(at(created))),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(spec),
            ..Default::default()
        }),
        status: Some(ReplicaSetStatus {
            replicas: spec.max(available),
            available_replicas: Some(available),
            ready_replicas: Some(available),
            ..Default::default()
        }),
    }
}

/// `rs` with the annotation `key: value`.
pub fn annotated(mut rs: ReplicaSet, key: &str, value: &str) -> ReplicaSet {
    rs.metadata
        .annotations
        .get_or_insert_default()
        .insert(key.into(), value.into());
    rs
}
