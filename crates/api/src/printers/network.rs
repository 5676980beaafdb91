//! The tables of services, endpoints and endpoint slices.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Endpoints, Service, ServiceSpec, ServiceStatus};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::{Value, json};

use super::format::{self, age, list_with_more};
use super::{AGE, Column, NAME, Row, col, typed, wide};

pub(crate) const SERVICE: &[Column] = &[
    NAME,
    col(
        "Type",
        "string",
        "type determines how the Service is exposed. Defaults to ClusterIP.",
    ),
    col(
        "Cluster-IP",
        "string",
        "clusterIP is the IP address of the service and is usually assigned randomly.",
    ),
    col(
        "External-IP",
        "string",
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
    ),
    col(
        "Port(s)",
        "string",
        "The list of ports that are exposed by this service.",
    ),
    AGE,
    wide(
        "Selector",
        "string",
        "Route service traffic to pods with label keys and values matching this selector.",
    ),
];

pub(crate) const ENDPOINTS: &[Column] = &[
    NAME,
    col(
        "Endpoints",
        "string",
        "The set of all endpoints is the union of all subsets.",
    ),
    AGE,
];

pub(crate) const ENDPOINT_SLICE: &[Column] = &[
    NAME,
    col(
        "AddressType",
        "string",
        "addressType specifies the type of address carried by this EndpointSlice.",
    ),
    col(
        "Ports",
        "string",
        "ports specifies the list of network ports exposed by each endpoint in this slice.",
    ),
    col(
        "Endpoints",
        "string",
        "endpoints is a list of unique endpoints in this slice.",
    ),
    AGE,
];

/// How many addresses the endpoints columns list before `+ N more...`.
const SHOWN: usize = 3;

pub(crate) fn service(object: &Value, now: Timestamp) -> Option<Row> {
    let service: Service = typed(object)?;
    let spec = service.spec.unwrap_or_default();
    let status = service.status.unwrap_or_default();
    // Objects are stored defaulted; an absent type reads as its default.
    let type_ = spec
        .type_
        .clone()
        .unwrap_or_else(|| "ClusterIP".to_string());
    let cluster_ip = spec
        .cluster_ips
        .as_ref()
        .and_then(|ips| ips.first().cloned())
        .unwrap_or_else(|| "<none>".to_string());
    let ports: Vec<String> = spec
        .ports
        .iter()
        .flatten()
        .map(|port| {
            let protocol = port.protocol.as_deref().unwrap_or("TCP");
            match port.node_port.filter(|p| *p > 0) {
                Some(node_port) => format!("{}:{node_port}/{protocol}", port.port),
                None => format!("{}/{protocol}", port.port),
            }
        })
        .collect();
    Some(Row::new(vec![
        json!(service.metadata.name.unwrap_or_default()),
        json!(type_),
        json!(cluster_ip),
        json!(external_ip(&type_, &spec, &status)),
        json!(format::or_none(&ports.join(","))),
        json!(age(service.metadata.creation_timestamp.as_ref(), now)),
        json!(format::labels(spec.selector.as_ref())),
    ]))
}

/// Upstream's `getServiceExternalIP` (wide form: never clipped).
fn external_ip(type_: &str, spec: &ServiceSpec, status: &ServiceStatus) -> String {
    let external = spec.external_ips.clone().unwrap_or_default();
    match type_ {
        "ClusterIP" | "NodePort" if external.is_empty() => "<none>".to_string(),
        "ClusterIP" | "NodePort" => external.join(","),
        "LoadBalancer" => {
            let mut ingress: Vec<String> = status
                .load_balancer
                .iter()
                .flat_map(|lb| lb.ingress.iter().flatten())
                .filter_map(|i| {
                    i.ip.clone()
                        .filter(|ip| !ip.is_empty())
                        .or_else(|| i.hostname.clone().filter(|h| !h.is_empty()))
                })
                .collect();
            ingress.sort();
            ingress.dedup();
            ingress.extend(external);
            if ingress.is_empty() {
                "<pending>".to_string()
            } else {
                ingress.join(",")
            }
        }
        "ExternalName" => spec.external_name.clone().unwrap_or_default(),
        _ => "<unknown>".to_string(),
    }
}

pub(crate) fn endpoints(object: &Value, now: Timestamp) -> Option<Row> {
    let endpoints: Endpoints = typed(object)?;
    let subsets = endpoints.subsets.unwrap_or_default();
    let text = if subsets.is_empty() {
        "<none>".to_string()
    } else {
        let mut list = Vec::new();
        let mut count = 0;
        let mut more = false;
        for subset in &subsets {
            let addresses = subset.addresses.as_deref().unwrap_or_default();
            let ports: Vec<Option<i32>> = match subset.ports.as_deref() {
                None | Some([]) => vec![None],
                Some(ports) => ports.iter().map(|p| Some(p.port)).collect(),
            };
            for port in ports {
                count += addresses.len();
                for address in addresses {
                    if list.len() == SHOWN {
                        more = true;
                        break;
                    }
                    list.push(match port {
                        Some(port) => host_port(&address.ip, port),
                        None => address.ip.clone(),
                    });
                }
            }
        }
        let shown = list.join(",");
        if more {
            format!("{shown} + {} more...", count - SHOWN)
        } else {
            shown
        }
    };
    Some(Row::new(vec![
        json!(endpoints.metadata.name.unwrap_or_default()),
        json!(text),
        json!(age(endpoints.metadata.creation_timestamp.as_ref(), now)),
    ]))
}

/// Go's `net.JoinHostPort`: IPv6 addresses in brackets.
fn host_port(ip: &str, port: i32) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

pub(crate) fn endpoint_slice(object: &Value, now: Timestamp) -> Option<Row> {
    let slice: EndpointSlice = typed(object)?;
    let ports: Vec<String> = slice
        .ports
        .iter()
        .flatten()
        .map(|port| match (port.port, &port.name) {
            (Some(number), _) => number.to_string(),
            (None, Some(name)) => name.clone(),
            (None, None) => "*".to_string(),
        })
        .collect();
    let addresses: Vec<String> = slice
        .endpoints
        .iter()
        .flat_map(|e| e.addresses.iter().cloned())
        .collect();
    Some(Row::new(vec![
        json!(slice.metadata.name.unwrap_or_default()),
        json!(slice.address_type),
        json!(list_with_more(&ports, SHOWN)),
        json!(list_with_more(&addresses, SHOWN)),
        json!(age(slice.metadata.creation_timestamp.as_ref(), now)),
    ]))
}
