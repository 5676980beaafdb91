//! The objects of the protobuf tests: each kind as a k8s-pb message and as
//! the JSON of the same object, built side by side so that they cannot
//! drift apart.

use std::collections::BTreeMap;

use k8s_pb::api::apps::v1 as apps;
use k8s_pb::api::batch::v1 as batch;
use k8s_pb::api::coordination::v1 as coordination;
use k8s_pb::api::core::v1 as core;
use k8s_pb::api::discovery::v1 as discovery;
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::RawExtension;
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

// ---- building blocks, each as (protobuf, JSON) ----------------------------

pub fn s(value: &str) -> Option<String> {
    Some(value.into())
}

pub fn strings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn quantities(pairs: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Quantity { string: s(v) }))
        .collect()
}

pub fn int(value: i32) -> Option<IntOrString> {
    Some(IntOrString {
        r#type: Some(0),
        int_val: Some(value),
        str_val: None,
    })
}

pub fn string(value: &str) -> Option<IntOrString> {
    Some(IntOrString {
        r#type: Some(1),
        int_val: None,
        str_val: s(value),
    })
}

pub fn metadata(name: &str) -> (Option<meta::ObjectMeta>, Value) {
    let pb = meta::ObjectMeta {
        name: s(name),
        labels: strings(&[("app", "demo"), ("tier", "")]),
        annotations: strings(&[("note", "a \"quoted\" value\nwith é and 😀")]),
        finalizers: vec!["example.com/keep".into()],
        ..Default::default()
    };
    let json = json!({
        "name": name,
        "labels": {"app": "demo", "tier": ""},
        "annotations": {"note": "a \"quoted\" value\nwith é and 😀"},
        "finalizers": ["example.com/keep"],
    });
    (Some(pb), json)
}

pub fn selector() -> (Option<meta::LabelSelector>, Value) {
    let pb = meta::LabelSelector {
        match_labels: strings(&[("app", "demo")]),
        match_expressions: vec![meta::LabelSelectorRequirement {
            key: s("tier"),
            operator: s("In"),
            values: vec!["".into(), "web".into()],
        }],
    };
    let json = json!({
        "matchLabels": {"app": "demo"},
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["", "web"]}],
    });
    (Some(pb), json)
}

/// A pod spec that touches embedded structs (`Probe.handler`,
/// `Volume.volumeSource`, key selectors), quantities, int-or-strings and
/// pointers set to zero.
pub fn pod_spec(restart_policy: &str) -> (Option<core::PodSpec>, Value) {
    let container = core::Container {
        name: s("app"),
        image: s("nginx:1.27"),
        command: vec!["nginx".into()],
        args: vec!["-g".into(), "daemon off;".into()],
        ports: vec![core::ContainerPort {
            name: s("http"),
            container_port: Some(8080),
            protocol: s("TCP"),
            ..Default::default()
        }],
        env: vec![
            core::EnvVar {
                name: s("MODE"),
                value: s("fast"),
                value_from: None,
            },
            core::EnvVar {
                name: s("TOKEN"),
                value: None,
                value_from: Some(core::EnvVarSource {
                    secret_key_ref: Some(core::SecretKeySelector {
                        local_object_reference: Some(core::LocalObjectReference {
                            name: s("creds"),
                        }),
                        key: s("token"),
                        optional: None,
                    }),
                    ..Default::default()
                }),
            },
        ],
        resources: Some(core::ResourceRequirements {
            limits: quantities(&[("cpu", "500m"), ("memory", "128Mi")]),
            requests: quantities(&[("cpu", "250m")]),
            claims: vec![],
        }),
        readiness_probe: Some(core::Probe {
            handler: Some(core::ProbeHandler {
                http_get: Some(core::HttpGetAction {
                    path: s("/healthz"),
                    port: int(8080),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            period_seconds: Some(5),
            ..Default::default()
        }),
        liveness_probe: Some(core::Probe {
            handler: Some(core::ProbeHandler {
                tcp_socket: Some(core::TcpSocketAction {
                    port: string("http"),
                    host: None,
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        volume_mounts: vec![core::VolumeMount {
            name: s("config"),
            mount_path: s("/etc/app"),
            read_only: Some(true),
            ..Default::default()
        }],
        security_context: Some(core::SecurityContext {
            run_as_user: Some(0),
            allow_privilege_escalation: Some(false),
            ..Default::default()
        }),
        ..Default::default()
    };
    let pb = core::PodSpec {
        containers: vec![container],
        volumes: vec![core::Volume {
            name: s("config"),
            volume_source: Some(core::VolumeSource {
                config_map: Some(core::ConfigMapVolumeSource {
                    local_object_reference: Some(core::LocalObjectReference { name: s("app") }),
                    default_mode: Some(0o644),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        }],
        restart_policy: s(restart_policy),
        termination_grace_period_seconds: Some(0),
        node_selector: strings(&[("disk", "ssd")]),
        automount_service_account_token: Some(false),
        tolerations: vec![core::Toleration {
            key: s("dedicated"),
            operator: s("Exists"),
            effect: s("NoExecute"),
            toleration_seconds: Some(0),
            value: None,
        }],
        ..Default::default()
    };
    let json = json!({
        "containers": [{
            "name": "app",
            "image": "nginx:1.27",
            "command": ["nginx"],
            "args": ["-g", "daemon off;"],
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
            "env": [
                {"name": "MODE", "value": "fast"},
                {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
            ],
            "resources": {
                "limits": {"cpu": "500m", "memory": "128Mi"},
                "requests": {"cpu": "250m"},
            },
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 5},
            "livenessProbe": {"tcpSocket": {"port": "http"}},
            "volumeMounts": [{"name": "config", "mountPath": "/etc/app", "readOnly": true}],
            "securityContext": {"runAsUser": 0, "allowPrivilegeEscalation": false},
        }],
        "volumes": [{"name": "config", "configMap": {"name": "app", "defaultMode": 0o644}}],
        "restartPolicy": restart_policy,
        "terminationGracePeriodSeconds": 0,
        "nodeSelector": {"disk": "ssd"},
        "automountServiceAccountToken": false,
        "tolerations": [{
            "key": "dedicated", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 0,
        }],
    });
    (Some(pb), json)
}

pub fn template(restart_policy: &str) -> (Option<core::PodTemplateSpec>, Value) {
    let (spec, spec_json) = pod_spec(restart_policy);
    let pb = core::PodTemplateSpec {
        metadata: Some(meta::ObjectMeta {
            labels: strings(&[("app", "demo"), ("tier", "web")]),
            ..Default::default()
        }),
        spec,
    };
    let json = json!({"metadata": {"labels": {"app": "demo", "tier": "web"}}, "spec": spec_json});
    (Some(pb), json)
}

pub fn time(seconds: i64) -> Option<meta::Time> {
    Some(meta::Time {
        seconds: Some(seconds),
        nanos: Some(0),
    })
}

pub fn micro_time(seconds: i64, nanos: i32) -> Option<meta::MicroTime> {
    Some(meta::MicroTime {
        seconds: Some(seconds),
        nanos: Some(nanos),
    })
}

// ---- one fixture per kind: (protobuf, JSON) of the object named NAME -----

pub fn namespace(name: &str) -> (core::Namespace, Value) {
    let (metadata, meta_json) = metadata(name);
    let pb = core::Namespace {
        metadata,
        ..Default::default()
    };
    (
        pb,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": meta_json}),
    )
}

pub fn config_map(name: &str) -> (core::ConfigMap, Value) {
    let (metadata, meta_json) = metadata(name);
    let pb = core::ConfigMap {
        metadata,
        data: strings(&[("app.conf", "listen 80;\n"), ("empty", "")]),
        binary_data: [("blob".to_string(), vec![0u8, 1, 2, 254, 255])].into(),
        immutable: None,
    };
    let json = json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": meta_json,
        "data": {"app.conf": "listen 80;\n", "empty": ""},
        "binaryData": {"blob": "AAEC/v8="},
    });
    (pb, json)
}

pub fn secret(name: &str) -> (core::Secret, Value) {
    let (metadata, meta_json) = metadata(name);
    let pb = core::Secret {
        metadata,
        data: [
            ("password".to_string(), b"s3cr\xffet".to_vec()),
            ("none".to_string(), vec![]),
        ]
        .into(),
        r#type: s("Opaque"),
        ..Default::default()
    };
    let json = json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": meta_json,
        "data": {"password": "czNjcv9ldA==", "none": ""},
        "type": "Opaque",
    });
    (pb, json)
}

pub fn service_account(name: &str) -> (core::ServiceAccount, Value) {
    let (metadata, meta_json) = metadata(name);
    let pb = core::ServiceAccount {
        metadata,
        image_pull_secrets: vec![core::LocalObjectReference {
            name: s("registry"),
        }],
        automount_service_account_token: Some(false),
        secrets: vec![],
    };
    let json = json!({
        "apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta_json,
        "imagePullSecrets": [{"name": "registry"}],
        "automountServiceAccountToken": false,
    });
    (pb, json)
}

pub fn service(name: &str) -> (core::Service, Value) {
    let (metadata, meta_json) = metadata(name);
    let pb = core::Service {
        metadata,
        spec: Some(core::ServiceSpec {
            r#type: s("ClusterIP"),
            selector: strings(&[("app", "demo")]),
            ports: vec![
                core::ServicePort {
                    name: s("http"),
                    port: Some(80),
                    target_port: string("web"),
                    protocol: s("TCP"),
                    ..Default::default()
                },
                core::ServicePort {
                    name: s("metrics"),
                    port: Some(9090),
                    target_port: int(9091),
                    protocol: s("TCP"),
                    ..Default::default()
                },
            ],
            session_affinity: s("None"),
            ..Default::default()
        }),
        status: None,
    };
    let json = json!({
        "apiVersion": "v1", "kind": "Service", "metadata": meta_json,
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": "demo"},
            "ports": [
                {"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"},
                {"name": "metrics", "port": 9090, "targetPort": 9091, "protocol": "TCP"},
            ],
            "sessionAffinity": "None",
        },
    });
    (pb, json)
}

pub fn endpoints(name: &str) -> (core::Endpoints, Value) {
    let (metadata, meta_json) = metadata(name);
    let pb = core::Endpoints {
        metadata,
        subsets: vec![core::EndpointSubset {
            addresses: vec![core::EndpointAddress {
                ip: s("10.0.0.1"),
                node_name: s("node-1"),
                ..Default::default()
            }],
            ports: vec![core::EndpointPort {
                name: s("http"),
                port: Some(80),
                protocol: s("TCP"),
                app_protocol: None,
            }],
            not_ready_addresses: vec![],
        }],
    };
    let json = json!({
        "apiVersion": "v1", "kind": "Endpoints", "metadata": meta_json,
        "subsets": [{
            "addresses": [{"ip": "10.0.0.1", "nodeName": "node-1"}],
            "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
        }],
    });
    (pb, json)
}

pub fn pod(name: &str) -> (core::Pod, Value) {
    let (metadata, meta_json) = metadata(name);
    let (spec, spec_json) = pod_spec("Always");
    let pb = core::Pod {
        metadata,
        spec,
        status: None,
    };
    (
        pb,
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta_json, "spec": spec_json}),
    )
}

pub fn node(name: &str) -> (core::Node, Value) {
    let (metadata, meta_json) = metadata(name);
    let pb = core::Node {
        metadata,
        spec: Some(core::NodeSpec {
            pod_cidr: s("10.244.0.0/24"),
            pod_cid_rs: vec!["10.244.0.0/24".into()],
            unschedulable: Some(true),
            taints: vec![core::Taint {
                key: s("dedicated"),
                value: s("gpu"),
                effect: s("NoSchedule"),
                time_added: time(1_700_000_000),
            }],
            ..Default::default()
        }),
        status: None,
    };
    let json = json!({
        "apiVersion": "v1", "kind": "Node", "metadata": meta_json,
        "spec": {
            "podCIDR": "10.244.0.0/24",
            "podCIDRs": ["10.244.0.0/24"],
            "unschedulable": true,
            "taints": [{
                "key": "dedicated", "value": "gpu", "effect": "NoSchedule",
                "timeAdded": "2023-11-14T22:13:20Z",
            }],
        },
    });
    (pb, json)
}

pub fn event(name: &str) -> (core::Event, Value) {
    let (metadata, meta_json) = metadata(name);
    let pb = core::Event {
        metadata,
        involved_object: Some(core::ObjectReference {
            kind: s("Pod"),
            namespace: s("default"),
            name: s("web-0"),
            api_version: s("v1"),
            ..Default::default()
        }),
        reason: s("Started"),
        message: s("Started container app"),
        source: Some(core::EventSource {
            component: s("kubelet"),
            host: s("node-1"),
        }),
        first_timestamp: time(1_700_000_000),
        last_timestamp: time(1_700_000_060),
        count: Some(3),
        r#type: s("Normal"),
        event_time: micro_time(1_700_000_000, 123_456_000),
        reporting_component: s("kubelet"),
        reporting_instance: s("node-1"),
        ..Default::default()
    };
    let json = json!({
        "apiVersion": "v1", "kind": "Event", "metadata": meta_json,
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-0", "apiVersion": "v1"},
        "reason": "Started",
        "message": "Started container app",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2023-11-14T22:13:20Z",
        "lastTimestamp": "2023-11-14T22:14:20Z",
        "count": 3,
        "type": "Normal",
        "eventTime": "2023-11-14T22:13:20.123456Z",
        "reportingComponent": "kubelet",
        "reportingInstance": "node-1",
    });
    (pb, json)
}

pub fn persistent_volume(name: &str) -> (core::PersistentVolume, Value) {
    let (metadata, meta_json) = metadata(name);
    let pb = core::PersistentVolume {
        metadata,
        spec: Some(core::PersistentVolumeSpec {
            capacity: quantities(&[("storage", "1Gi")]),
            persistent_volume_source: Some(core::PersistentVolumeSource {
                host_path: Some(core::HostPathVolumeSource {
                    path: s("/data"),
                    r#type: s("DirectoryOrCreate"),
                }),
                ..Default::default()
            }),
            access_modes: vec!["ReadWriteOnce".into()],
            persistent_volume_reclaim_policy: s("Retain"),
            storage_class_name: s("manual"),
            volume_mode: s("Filesystem"),
            ..Default::default()
        }),
        status: None,
    };
    let json = json!({
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": meta_json,
        "spec": {
            "capacity": {"storage": "1Gi"},
            "hostPath": {"path": "/data", "type": "DirectoryOrCreate"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "manual",
            "volumeMode": "Filesystem",
        },
    });
    (pb, json)
}

pub fn claim_spec() -> (Option<core::PersistentVolumeClaimSpec>, Value) {
    let pb = core::PersistentVolumeClaimSpec {
        access_modes: vec!["ReadWriteOnce".into()],
        resources: Some(core::VolumeResourceRequirements {
            requests: quantities(&[("storage", "1Gi")]),
            limits: BTreeMap::new(),
        }),
        storage_class_name: s(""),
        volume_mode: s("Filesystem"),
        ..Default::default()
    };
    let json = json!({
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}},
        "storageClassName": "",
        "volumeMode": "Filesystem",
    });
    (Some(pb), json)
}

pub fn persistent_volume_claim(name: &str) -> (core::PersistentVolumeClaim, Value) {
    let (metadata, meta_json) = metadata(name);
    let (spec, spec_json) = claim_spec();
    let pb = core::PersistentVolumeClaim {
        metadata,
        spec,
        status: None,
    };
    let json = json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta_json, "spec": spec_json,
    });
    (pb, json)
}

pub fn replica_set(name: &str) -> (apps::ReplicaSet, Value) {
    let (metadata, meta_json) = metadata(name);
    let (selector, selector_json) = selector();
    let (template, template_json) = template("Always");
    let pb = apps::ReplicaSet {
        metadata,
        spec: Some(apps::ReplicaSetSpec {
            replicas: Some(0),
            min_ready_seconds: Some(5),
            selector,
            template,
        }),
        status: None,
    };
    let json = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta_json,
        "spec": {"replicas": 0, "minReadySeconds": 5, "selector": selector_json, "template": template_json},
    });
    (pb, json)
}

pub fn deployment(name: &str) -> (apps::Deployment, Value) {
    let (metadata, meta_json) = metadata(name);
    let (selector, selector_json) = selector();
    let (template, template_json) = template("Always");
    let pb = apps::Deployment {
        metadata,
        spec: Some(apps::DeploymentSpec {
            replicas: Some(2),
            selector,
            template,
            strategy: Some(apps::DeploymentStrategy {
                r#type: s("RollingUpdate"),
                rolling_update: Some(apps::RollingUpdateDeployment {
                    max_unavailable: int(0),
                    max_surge: string("25%"),
                }),
            }),
            revision_history_limit: Some(0),
            progress_deadline_seconds: Some(120),
            ..Default::default()
        }),
        status: None,
    };
    let json = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta_json,
        "spec": {
            "replicas": 2,
            "selector": selector_json,
            "template": template_json,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}},
            "revisionHistoryLimit": 0,
            "progressDeadlineSeconds": 120,
        },
    });
    (pb, json)
}

pub fn stateful_set(name: &str) -> (apps::StatefulSet, Value) {
    let (metadata, meta_json) = metadata(name);
    let (selector, selector_json) = selector();
    let (template, template_json) = template("Always");
    let (claim, claim_json) = claim_spec();
    let pb = apps::StatefulSet {
        metadata,
        spec: Some(apps::StatefulSetSpec {
            replicas: Some(3),
            selector,
            template,
            volume_claim_templates: vec![core::PersistentVolumeClaim {
                metadata: Some(meta::ObjectMeta {
                    name: s("data"),
                    ..Default::default()
                }),
                spec: claim,
                status: None,
            }],
            service_name: s("web"),
            pod_management_policy: s("Parallel"),
            update_strategy: Some(apps::StatefulSetUpdateStrategy {
                r#type: s("RollingUpdate"),
                rolling_update: Some(apps::RollingUpdateStatefulSetStrategy {
                    partition: Some(1),
                    max_unavailable: None,
                }),
            }),
            ..Default::default()
        }),
        status: None,
    };
    let json = json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta_json,
        "spec": {
            "replicas": 3,
            "selector": selector_json,
            "template": template_json,
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": claim_json}],
            "serviceName": "web",
            "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
        },
    });
    (pb, json)
}

pub fn daemon_set(name: &str) -> (apps::DaemonSet, Value) {
    let (metadata, meta_json) = metadata(name);
    let (selector, selector_json) = selector();
    let (template, template_json) = template("Always");
    let pb = apps::DaemonSet {
        metadata,
        spec: Some(apps::DaemonSetSpec {
            selector,
            template,
            update_strategy: Some(apps::DaemonSetUpdateStrategy {
                r#type: s("RollingUpdate"),
                rolling_update: Some(apps::RollingUpdateDaemonSet {
                    max_unavailable: int(1),
                    max_surge: int(0),
                }),
            }),
            min_ready_seconds: Some(10),
            revision_history_limit: Some(4),
        }),
        status: None,
    };
    let json = json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta_json,
        "spec": {
            "selector": selector_json,
            "template": template_json,
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
            "minReadySeconds": 10,
            "revisionHistoryLimit": 4,
        },
    });
    (pb, json)
}

pub fn controller_revision(name: &str) -> (apps::ControllerRevision, Value) {
    let (metadata, meta_json) = metadata(name);
    let data = json!({"spec": {"template": {"metadata": {"labels": {"app": "demo"}}}}});
    let pb = apps::ControllerRevision {
        metadata,
        data: Some(RawExtension {
            raw: Some(serde_json::to_vec(&data).unwrap()),
        }),
        revision: Some(3),
    };
    let json = json!({
        "apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": meta_json,
        "data": data, "revision": 3,
    });
    (pb, json)
}

pub fn job_spec() -> (Option<batch::JobSpec>, Value) {
    let (template, template_json) = template("Never");
    let pb = batch::JobSpec {
        parallelism: Some(2),
        completions: Some(4),
        backoff_limit: Some(0),
        ttl_seconds_after_finished: Some(0),
        completion_mode: s("NonIndexed"),
        template,
        ..Default::default()
    };
    let json = json!({
        "parallelism": 2,
        "completions": 4,
        "backoffLimit": 0,
        "ttlSecondsAfterFinished": 0,
        "completionMode": "NonIndexed",
        "template": template_json,
    });
    (Some(pb), json)
}

pub fn job(name: &str) -> (batch::Job, Value) {
    let (metadata, meta_json) = metadata(name);
    let (spec, spec_json) = job_spec();
    let pb = batch::Job {
        metadata,
        spec,
        status: None,
    };
    (
        pb,
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta_json, "spec": spec_json}),
    )
}

pub fn cron_job(name: &str) -> (batch::CronJob, Value) {
    let (metadata, meta_json) = metadata(name);
    let (job_spec, job_json) = job_spec();
    let pb = batch::CronJob {
        metadata,
        spec: Some(batch::CronJobSpec {
            schedule: s("*/5 * * * *"),
            time_zone: s("Etc/UTC"),
            concurrency_policy: s("Forbid"),
            suspend: Some(true),
            job_template: Some(batch::JobTemplateSpec {
                metadata: Some(meta::ObjectMeta {
                    labels: strings(&[("app", "demo")]),
                    ..Default::default()
                }),
                spec: job_spec,
            }),
            successful_jobs_history_limit: Some(0),
            failed_jobs_history_limit: Some(2),
            starting_deadline_seconds: None,
        }),
        status: None,
    };
    let json = json!({
        "apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta_json,
        "spec": {
            "schedule": "*/5 * * * *",
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "suspend": true,
            "jobTemplate": {"metadata": {"labels": {"app": "demo"}}, "spec": job_json},
            "successfulJobsHistoryLimit": 0,
            "failedJobsHistoryLimit": 2,
        },
    });
    (pb, json)
}

pub fn lease(name: &str) -> (coordination::Lease, Value) {
    let (metadata, meta_json) = metadata(name);
    let pb = coordination::Lease {
        metadata,
        spec: Some(coordination::LeaseSpec {
            holder_identity: s("node-1"),
            lease_duration_seconds: Some(40),
            acquire_time: micro_time(1_700_000_000, 0),
            renew_time: micro_time(1_700_000_010, 999_999_999),
            lease_transitions: Some(0),
            ..Default::default()
        }),
    };
    let json = json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta_json,
        "spec": {
            "holderIdentity": "node-1",
            "leaseDurationSeconds": 40,
            "acquireTime": "2023-11-14T22:13:20.000000Z",
            "renewTime": "2023-11-14T22:13:30.999999Z",
            "leaseTransitions": 0,
        },
    });
    (pb, json)
}

pub fn endpoint_slice(name: &str) -> (discovery::EndpointSlice, Value) {
    let (metadata, meta_json) = metadata(name);
    let pb = discovery::EndpointSlice {
        metadata,
        address_type: s("IPv4"),
        endpoints: vec![discovery::Endpoint {
            addresses: vec!["10.0.0.1".into()],
            conditions: Some(discovery::EndpointConditions {
                ready: Some(true),
                serving: Some(false),
                terminating: Some(false),
            }),
            node_name: s("node-1"),
            target_ref: Some(core::ObjectReference {
                kind: s("Pod"),
                name: s("web-0"),
                namespace: s("default"),
                ..Default::default()
            }),
            ..Default::default()
        }],
        ports: vec![discovery::EndpointPort {
            name: s("http"),
            protocol: s("TCP"),
            port: Some(80),
            app_protocol: None,
        }],
    };
    let json = json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": meta_json,
        "addressType": "IPv4",
        "endpoints": [{
            "addresses": ["10.0.0.1"],
            "conditions": {"ready": true, "serving": false, "terminating": false},
            "nodeName": "node-1",
            "targetRef": {"kind": "Pod", "name": "web-0", "namespace": "default"},
        }],
        "ports": [{"name": "http", "protocol": "TCP", "port": 80}],
    });
    (pb, json)
}
