//! Table tests of the ReplicaSet's pure sync, against upstream's behaviour.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use keelson_api::k8s_openapi::api::apps::v1::{
    ReplicaSet, ReplicaSetCondition, ReplicaSetSpec, ReplicaSetStatus,
};
use keelson_api::k8s_openapi::api::core::v1::{
    Container, ContainerStatus, Pod, PodCondition, PodSpec, PodStatus, PodTemplateSpec,
};
use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, ObjectMeta, OwnerReference, Time,
};
use serde_json::json;

use super::*;

mod claim;
mod expectations;
mod scale;
mod status;

const RS_UID: &str = "rs-uid";

fn now() -> Timestamp {
    "2026-01-01T12:00:00Z".parse().expect("a valid timestamp")
}

fn ago(secs: i64) -> Timestamp {
    now() - SignedDuration::from_secs(secs)
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn rs(replicas: i32) -> ReplicaSet {
    ReplicaSet {
        metadata: ObjectMeta {
            name: Some("web".into()),
            namespace: Some("default".into()),
            uid: Some(RS_UID.into()),
            generation: Some(3),
            ..ObjectMeta::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(replicas),
            min_ready_seconds: None,
            selector: LabelSelector {
                match_labels: Some(labels(&[("app", "web")])),
                match_expressions: None,
            },
            template: Some(PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(&[("app", "web"), ("tier", "front")])),
                    annotations: Some(labels(&[("note", "kept")])),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: "app".into(),
                        image: Some("nginx".into()),
                        ..Container::default()
                    }],
                    ..PodSpec::default()
                }),
            }),
        }),
        status: None,
    }
}

fn owner(uid: &str, controller: bool) -> OwnerReference {
    OwnerReference {
        api_version: "apps/v1".into(),
        kind: "ReplicaSet".into(),
        name: "someone".into(),
        uid: uid.into(),
        controller: Some(controller),
        block_owner_deletion: Some(true),
    }
}

/// A pod builder. By default: owned by the ReplicaSet, fully labeled,
/// running and ready for an hour on node `n1`, created two hours ago.
struct P(Pod);

fn pod(name: &str) -> P {
    P(Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("default".into()),
            uid: Some(format!("uid-{name}")),
            labels: Some(labels(&[("app", "web"), ("tier", "front")])),
            owner_references: Some(vec![owner(RS_UID, true)]),
            creation_timestamp: Some(Time(ago(7200))),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            node_name: Some("n1".into()),
            ..PodSpec::default()
        }),
        status: Some(PodStatus {
            phase: Some("Running".into()),
            ..PodStatus::default()
        }),
    })
    .ready_since(Some(ago(3600)))
}

impl P {
    fn status(&mut self) -> &mut PodStatus {
        self.0.status.get_or_insert_with(PodStatus::default)
    }
    fn ready_since(mut self, since: Option<Timestamp>) -> Self {
        self.status().conditions = Some(vec![PodCondition {
            type_: "Ready".into(),
            status: "True".into(),
            last_transition_time: since.map(Time),
            ..PodCondition::default()
        }]);
        self
    }
    fn not_ready(mut self) -> Self {
        self.status().conditions = Some(vec![PodCondition {
            type_: "Ready".into(),
            status: "False".into(),
            ..PodCondition::default()
        }]);
        self
    }
    fn phase(mut self, phase: &str) -> Self {
        self.status().phase = Some(phase.into());
        self
    }
    fn node(mut self, node: &str) -> Self {
        let spec = self.0.spec.get_or_insert_with(PodSpec::default);
        spec.node_name = (!node.is_empty()).then(|| node.to_string());
        self
    }
    fn owners(mut self, owners: Vec<OwnerReference>) -> Self {
        self.0.metadata.owner_references = (!owners.is_empty()).then_some(owners);
        self
    }
    fn labels(mut self, pairs: &[(&str, &str)]) -> Self {
        self.0.metadata.labels = Some(labels(pairs));
        self
    }
    fn deleting(mut self) -> Self {
        self.0.metadata.deletion_timestamp = Some(Time(ago(1)));
        self
    }
    fn cost(mut self, cost: &str) -> Self {
        self.0.metadata.annotations = Some(labels(&[(POD_DELETION_COST, cost)]));
        self
    }
    fn created(mut self, at: Option<Timestamp>) -> Self {
        self.0.metadata.creation_timestamp = at.map(Time);
        self
    }
    fn restarts(mut self, count: i32) -> Self {
        self.status().container_statuses = Some(vec![ContainerStatus {
            name: "app".into(),
            restart_count: count,
            ..ContainerStatus::default()
        }]);
        self
    }
    fn sidecar_restarts(mut self, count: i32) -> Self {
        let spec = self.0.spec.get_or_insert_with(PodSpec::default);
        spec.init_containers = Some(vec![Container {
            name: "proxy".into(),
            restart_policy: Some("Always".into()),
            ..Container::default()
        }]);
        self.status().init_container_statuses = Some(vec![ContainerStatus {
            name: "proxy".into(),
            restart_count: count,
            ..ContainerStatus::default()
        }]);
        self
    }
    fn build(self) -> Pod {
        self.0
    }
}

fn plan(rs: &ReplicaSet, pods: &[Pod]) -> Plan {
    plan_with(rs, pods, &[], true)
}

fn plan_with(rs: &ReplicaSet, pods: &[Pod], related: &[Pod], satisfied: bool) -> Plan {
    let observed = Observed {
        pods,
        related_pods: related,
        expectations_satisfied: satisfied,
        owner: OwnerKind::ReplicaSet,
    };
    reconcile(rs, observed, now()).expect("a valid selector")
}

fn names(pods: &[Pod]) -> Vec<&str> {
    pods.iter()
        .map(|p| p.metadata.name.as_deref().unwrap_or(""))
        .collect()
}
