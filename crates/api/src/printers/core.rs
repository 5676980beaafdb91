//! The tables of nodes, namespaces, config maps, secrets, service accounts,
//! events and leases.

use std::collections::BTreeSet;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Event, Namespace, Node, Secret, ServiceAccount};
use serde_json::{Value, json};

use super::format::{age, micro_age};
use super::{AGE, Column, NAME, Row, col, typed, wide};

pub(crate) const NODE: &[Column] = &[
    NAME,
    col("Status", "string", "The status of the node"),
    col("Roles", "string", "The roles of the node"),
    AGE,
    col("Version", "string", "Kubelet Version reported by the node."),
    wide(
        "Internal-IP",
        "string",
        "List of addresses reachable to the node.",
    ),
    wide(
        "External-IP",
        "string",
        "List of addresses reachable to the node.",
    ),
    wide(
        "OS-Image",
        "string",
        "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
    ),
    wide(
        "Kernel-Version",
        "string",
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    ),
    wide(
        "Container-Runtime",
        "string",
        "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
    ),
];

pub(crate) const NAMESPACE: &[Column] = &[
    NAME,
    col("Status", "string", "The status of the namespace"),
    AGE,
];

pub(crate) const CONFIG_MAP: &[Column] = &[
    NAME,
    col("Data", "string", "Data contains the configuration data."),
    AGE,
];

pub(crate) const SECRET: &[Column] = &[
    NAME,
    col(
        "Type",
        "string",
        "Used to facilitate programmatic handling of secret data.",
    ),
    col("Data", "string", "Data contains the secret data."),
    AGE,
];

pub(crate) const SERVICE_ACCOUNT: &[Column] = &[
    NAME,
    col(
        "Secrets",
        "string",
        "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
    ),
    AGE,
];

pub(crate) const EVENT: &[Column] = &[
    col(
        "Last Seen",
        "string",
        "The time at which the most recent occurrence of this event was recorded.",
    ),
    col(
        "Type",
        "string",
        "Type of this event (Normal, Warning), new types could be added in the future",
    ),
    col(
        "Reason",
        "string",
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    col("Object", "string", "The object that this event is about."),
    wide(
        "Subobject",
        "string",
        "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].",
    ),
    wide(
        "Source",
        "string",
        "The component reporting this event. Should be a short machine understandable string.",
    ),
    col(
        "Message",
        "string",
        "A human-readable description of the status of this operation.",
    ),
    wide(
        "First Seen",
        "string",
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
    ),
    wide(
        "Count",
        "string",
        "The number of times this event has occurred.",
    ),
    Column {
        priority: 1,
        ..NAME
    },
];

pub(crate) const LEASE: &[Column] = &[
    NAME,
    col(
        "Holder",
        "string",
        "holderIdentity contains the identity of the holder of a current lease.",
    ),
    AGE,
];

pub(crate) fn node(object: &Value, now: Timestamp) -> Option<Row> {
    let node: Node = typed(object)?;
    let status = node.status.unwrap_or_default();
    let ready = status
        .conditions
        .iter()
        .flatten()
        .rfind(|c| c.type_ == "Ready");
    let mut states = vec![match ready {
        Some(c) if c.status == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        states.push("SchedulingDisabled");
    }
    let roles: BTreeSet<&str> = node
        .metadata
        .labels
        .iter()
        .flatten()
        .filter_map(
            |(key, value)| match key.strip_prefix("node-role.kubernetes.io/") {
                Some(role) if !role.is_empty() => Some(role),
                Some(_) => None,
                None if key == "kubernetes.io/role" && !value.is_empty() => Some(value.as_str()),
                None => None,
            },
        )
        .collect();
    let roles = roles.into_iter().collect::<Vec<_>>().join(",");
    let address = |type_: &str| {
        status
            .addresses
            .iter()
            .flatten()
            .find(|a| a.type_ == type_)
            .map_or_else(|| "<none>".to_string(), |a| a.address.clone())
    };
    let info = status.node_info.clone().unwrap_or_default();
    let unknown = |text: String| {
        if text.is_empty() {
            "<unknown>".to_string()
        } else {
            text
        }
    };
    Some(Row::new(vec![
        json!(node.metadata.name.unwrap_or_default()),
        json!(states.join(",")),
        json!(super::format::or_none(&roles)),
        json!(age(node.metadata.creation_timestamp.as_ref(), now)),
        json!(info.kubelet_version),
        json!(address("InternalIP")),
        json!(address("ExternalIP")),
        json!(unknown(info.os_image)),
        json!(unknown(info.kernel_version)),
        json!(unknown(info.container_runtime_version)),
    ]))
}

pub(crate) fn namespace(object: &Value, now: Timestamp) -> Option<Row> {
    let namespace: Namespace = typed(object)?;
    let phase = namespace.status.and_then(|s| s.phase).unwrap_or_default();
    Some(Row::new(vec![
        json!(namespace.metadata.name.unwrap_or_default()),
        json!(phase),
        json!(age(namespace.metadata.creation_timestamp.as_ref(), now)),
    ]))
}

pub(crate) fn config_map(object: &Value, now: Timestamp) -> Option<Row> {
    let config_map: ConfigMap = typed(object)?;
    let count =
        config_map.data.map_or(0, |d| d.len()) + config_map.binary_data.map_or(0, |d| d.len());
    Some(Row::new(vec![
        json!(config_map.metadata.name.unwrap_or_default()),
        json!(count),
        json!(age(config_map.metadata.creation_timestamp.as_ref(), now)),
    ]))
}

pub(crate) fn secret(object: &Value, now: Timestamp) -> Option<Row> {
    let secret: Secret = typed(object)?;
    Some(Row::new(vec![
        json!(secret.metadata.name.unwrap_or_default()),
        json!(secret.type_.unwrap_or_default()),
        json!(secret.data.map_or(0, |d| d.len())),
        json!(age(secret.metadata.creation_timestamp.as_ref(), now)),
    ]))
}

pub(crate) fn service_account(object: &Value, now: Timestamp) -> Option<Row> {
    let account: ServiceAccount = typed(object)?;
    Some(Row::new(vec![
        json!(account.metadata.name.unwrap_or_default()),
        json!(account.secrets.map_or(0, |s| s.len())),
        json!(age(account.metadata.creation_timestamp.as_ref(), now)),
    ]))
}

pub(crate) fn event(object: &Value, now: Timestamp) -> Option<Row> {
    let event: Event = typed(object)?;
    let first_seen = match &event.first_timestamp {
        Some(first) => age(Some(first), now),
        None => micro_age(event.event_time.as_ref(), now),
    };
    let mut last_seen = match &event.last_timestamp {
        Some(last) => age(Some(last), now),
        None => first_seen.clone(),
    };
    let mut count = event.count.unwrap_or(0);
    if let Some(series) = &event.series {
        last_seen = micro_age(series.last_observed_time.as_ref(), now);
        count = series.count.unwrap_or(0);
    } else if count == 0 {
        count = 1;
    }
    let involved = &event.involved_object;
    let kind = involved.kind.as_deref().unwrap_or_default().to_lowercase();
    let target = match involved.name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => format!("{kind}/{name}"),
        None => kind,
    };
    let source = event.source.clone().unwrap_or_default();
    let component = first_non_empty(source.component, event.reporting_component.clone());
    let host = first_non_empty(source.host, event.reporting_instance.clone());
    let source = if host.is_empty() {
        component
    } else {
        format!("{component}, {host}")
    };
    Some(Row::new(vec![
        json!(last_seen),
        json!(event.type_.unwrap_or_default()),
        json!(event.reason.unwrap_or_default()),
        json!(target),
        json!(involved.field_path.clone().unwrap_or_default()),
        json!(source),
        json!(event.message.unwrap_or_default().trim()),
        json!(first_seen),
        json!(count),
        json!(event.metadata.name.unwrap_or_default()),
    ]))
}

fn first_non_empty(first: Option<String>, second: Option<String>) -> String {
    first
        .filter(|s| !s.is_empty())
        .or(second)
        .unwrap_or_default()
}

pub(crate) fn lease(object: &Value, now: Timestamp) -> Option<Row> {
    let lease: Lease = typed(object)?;
    let holder = lease
        .spec
        .and_then(|s| s.holder_identity)
        .unwrap_or_default();
    Some(Row::new(vec![
        json!(lease.metadata.name.unwrap_or_default()),
        json!(holder),
        json!(age(lease.metadata.creation_timestamp.as_ref(), now)),
    ]))
}
