//! The tables of the networking.k8s.io kinds: ingresses, ingress classes,
//! network policies, service CIDRs and IP addresses.

use std::collections::BTreeSet;

use jiff::Timestamp;
use k8s_openapi::api::networking::v1::{
    IPAddress, Ingress, IngressClass, IngressRule, NetworkPolicy, ServiceCIDR,
};
use serde_json::{Value, json};

use super::format::{age, label_selector};
use super::{AGE, Column, NAME, Row, col};

/// How many hosts the Hosts column shows before `+ N more...`.
const SHOWN_HOSTS: usize = 3;
/// How long the Address column gets before it is cut.
const ADDRESS_WIDTH: usize = 16;

pub(crate) const INGRESS: &[Column] = &[
    NAME,
    col(
        "Class",
        "string",
        "The name of the IngressClass resource that should be used for additional configuration",
    ),
    col(
        "Hosts",
        "string",
        "Hosts that incoming requests are matched against before the ingress rule",
    ),
    col(
        "Address",
        "string",
        "Address is a list containing ingress points for the load-balancer",
    ),
    col("Ports", "string", "Ports of TLS configurations that open"),
    AGE,
];

pub(crate) const INGRESS_CLASS: &[Column] = &[
    NAME,
    col(
        "Controller",
        "string",
        "Controller that is responsible for handling this class",
    ),
    col(
        "Parameters",
        "string",
        "A reference to a resource with additional parameters",
    ),
    AGE,
];

pub(crate) const NETWORK_POLICY: &[Column] = &[
    NAME,
    col(
        "Pod-Selector",
        "string",
        "podSelector selects the pods to which this NetworkPolicy object applies. The array of ingress rules is applied to any pods selected by this field. Multiple network policies can select the same set of pods. In this case, the ingress rules for each are combined additively. This field is NOT optional and follows standard label selector semantics. An empty podSelector matches all pods in this namespace.",
    ),
    AGE,
];

pub(crate) const SERVICE_CIDR: &[Column] = &[
    NAME,
    col(
        "CIDRs",
        "string",
        "CIDRs defines the IP blocks in CIDR notation (e.g. \"192.168.0.0/24\" or \"2001:db8::/64\") from which to assign service cluster IPs. Max of two CIDRs is allowed, one of each IP family. This field is immutable.",
    ),
    AGE,
];

/// Upstream declares no age column for IP addresses (and so shows none,
/// although its rows carry one).
pub(crate) const IP_ADDRESS: &[Column] = &[
    NAME,
    col(
        "ParentRef",
        "string",
        "ParentRef references the resource that an IPAddress is attached to. An IPAddress must reference a parent object.",
    ),
];

/// Upstream's `formatHosts`: up to three hosts, `+ N more...` when rules
/// follow the third, `*` when no rule has a host.
fn hosts(rules: &[IngressRule]) -> String {
    let mut named: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if named.len() == SHOWN_HOSTS {
            more = true;
            break;
        }
        if let Some(host) = rule.host.as_deref().filter(|h| !h.is_empty()) {
            named.push(host);
        }
    }
    if named.is_empty() {
        return "*".to_string();
    }
    let shown = named.join(",");
    if more {
        format!("{shown} + {} more...", rules.len() - SHOWN_HOSTS)
    } else {
        shown
    }
}

pub(crate) fn ingress(object: &Value, now: Timestamp) -> Option<Row> {
    let ingress: Ingress = super::typed(object)?;
    let spec = ingress.spec.unwrap_or_default();
    let points = ingress
        .status
        .and_then(|s| s.load_balancer)
        .and_then(|l| l.ingress)
        .unwrap_or_default();
    let addresses: BTreeSet<String> = points
        .into_iter()
        .filter_map(|p| {
            p.ip.filter(|ip| !ip.is_empty())
                .or(p.hostname.filter(|h| !h.is_empty()))
        })
        .collect();
    let mut address = addresses.into_iter().collect::<Vec<_>>().join(",");
    if address.len() > ADDRESS_WIDTH {
        address.truncate(ADDRESS_WIDTH - 3);
        address.push_str("...");
    }
    let tls = spec.tls.as_ref().is_some_and(|t| !t.is_empty());
    Some(Row::new(vec![
        json!(ingress.metadata.name.unwrap_or_default()),
        json!(
            spec.ingress_class_name
                .unwrap_or_else(|| "<none>".to_string())
        ),
        json!(hosts(spec.rules.as_deref().unwrap_or_default())),
        json!(address),
        json!(if tls { "80, 443" } else { "80" }),
        json!(age(ingress.metadata.creation_timestamp.as_ref(), now)),
    ]))
}

pub(crate) fn ingress_class(object: &Value, now: Timestamp) -> Option<Row> {
    let class: IngressClass = super::typed(object)?;
    let spec = class.spec.unwrap_or_default();
    let parameters = spec.parameters.map_or_else(
        || "<none>".to_string(),
        |p| match p.api_group {
            Some(group) => format!("{}.{group}/{}", p.kind, p.name),
            None => format!("{}/{}", p.kind, p.name),
        },
    );
    Some(Row::new(vec![
        json!(class.metadata.name.unwrap_or_default()),
        json!(spec.controller.unwrap_or_default()),
        json!(parameters),
        json!(age(class.metadata.creation_timestamp.as_ref(), now)),
    ]))
}

pub(crate) fn network_policy(object: &Value, now: Timestamp) -> Option<Row> {
    let policy: NetworkPolicy = super::typed(object)?;
    let spec = policy.spec.unwrap_or_default();
    Some(Row::new(vec![
        json!(policy.metadata.name.unwrap_or_default()),
        json!(label_selector(Some(&spec.pod_selector.unwrap_or_default()))),
        json!(age(policy.metadata.creation_timestamp.as_ref(), now)),
    ]))
}

pub(crate) fn service_cidr(object: &Value, now: Timestamp) -> Option<Row> {
    let cidr: ServiceCIDR = super::typed(object)?;
    let cidrs = cidr.spec.and_then(|s| s.cidrs).unwrap_or_default();
    Some(Row::new(vec![
        json!(cidr.metadata.name.unwrap_or_default()),
        json!(cidrs.join(",")),
        json!(age(cidr.metadata.creation_timestamp.as_ref(), now)),
    ]))
}

pub(crate) fn ip_address(object: &Value, _now: Timestamp) -> Option<Row> {
    let address: IPAddress = super::typed(object)?;
    let parent = address.spec.map(|s| s.parent_ref).map_or_else(
        || "<none>".to_string(),
        |p| {
            let resource = match p.group.as_deref().filter(|g| !g.is_empty()) {
                Some(group) => format!("{}.{group}", p.resource),
                None => p.resource.clone(),
            };
            let mut text = resource.to_lowercase();
            if let Some(namespace) = p.namespace.filter(|n| !n.is_empty()) {
                text.push('/');
                text.push_str(&namespace);
            }
            format!("{text}/{}", p.name)
        },
    );
    Some(Row::new(vec![
        json!(address.metadata.name.unwrap_or_default()),
        json!(parent),
    ]))
}
