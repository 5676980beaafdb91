//! Validation of Services: ports, type, session affinity, traffic
//! policies, and on update the cluster IPs, which may not change once set.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{int_of, is_absent, list_of, str_of, string_map};
use crate::validation::validate_labels;

use super::container::protocol;
use super::core::ip_address;
use super::pod::{NULL, one_of};
use super::{dns_label, dns_subdomain, port_number, port_number_or_name};

const TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const MAX_CLIENT_IP_TIMEOUT: i64 = 86400;

/// The cluster IPs of a spec: `clusterIPs`, or the single `clusterIP`.
fn cluster_ips(spec: &Value) -> Vec<String> {
    let list: Vec<String> = list_of(spec, "clusterIPs")
        .iter()
        .filter_map(|ip| ip.as_str().map(str::to_string))
        .collect();
    if !list.is_empty() {
        return list;
    }
    match str_of(spec, "clusterIP") {
        Some(ip) if !ip.is_empty() => vec![ip.to_string()],
        _ => Vec::new(),
    }
}

fn is_headless(spec: &Value) -> bool {
    cluster_ips(spec).first().is_some_and(|ip| ip == "None")
}

/// Service.
pub(crate) fn service(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    if let Some(old) = old {
        cluster_ips_update(spec, old.get("spec").unwrap_or(&NULL), &path, &mut errors);
    }
    let service_type = str_of(spec, "type").unwrap_or("");
    let headless = is_headless(spec);
    let ports = list_of(spec, "ports");
    if ports.is_empty() && !headless && service_type != "ExternalName" {
        errors.push(FieldError::required(&path.child("ports"), ""));
    }
    type_rules(spec, service_type, headless, &path, &mut errors);
    let mut names = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        service_port(
            port,
            ports.len() > 1,
            &mut names,
            &path.child("ports").index(i),
            &mut errors,
        );
    }
    errors.extend(validate_labels(
        &string_map(spec, "selector"),
        &path.child("selector"),
    ));
    session_affinity(spec, &path, &mut errors);
    for (i, ip) in cluster_ips(spec).iter().enumerate() {
        if !(i == 0 && ip == "None") {
            ip_address(ip, &path.child("clusterIPs").index(i), &mut errors);
        }
    }
    for (i, ip) in list_of(spec, "externalIPs").iter().enumerate() {
        ip_address(
            ip.as_str().unwrap_or(""),
            &path.child("externalIPs").index(i),
            &mut errors,
        );
    }
    one_of(spec, "type", TYPES, &path, &mut errors);
    duplicate_ports(spec, service_type, &path, &mut errors);
    load_balancer_only(spec, service_type, &path, &mut errors);
    traffic_policies(spec, service_type, &path, &mut errors);
    errors
}

fn type_rules(
    spec: &Value,
    service_type: &str,
    headless: bool,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    match service_type {
        "LoadBalancer" | "NodePort" if headless => errors.push(FieldError::invalid(
            &path.child("clusterIPs").index(0),
            "None",
            format!("may not be set to 'None' for {service_type} services"),
        )),
        "ExternalName" => {
            for key in ["clusterIPs", "ipFamilies"] {
                if !list_of(spec, key).is_empty() {
                    errors.push(FieldError::forbidden(
                        &path.child(key),
                        "may not be set for ExternalName services",
                    ));
                }
            }
            if !is_absent(spec.get("ipFamilyPolicy")) {
                errors.push(FieldError::forbidden(
                    &path.child("ipFamilyPolicy"),
                    "may not be set for ExternalName services",
                ));
            }
            let name = str_of(spec, "externalName").unwrap_or("");
            let cname = name.strip_suffix('.').unwrap_or(name);
            if cname.is_empty() {
                errors.push(FieldError::required(&path.child("externalName"), ""));
            } else {
                dns_subdomain(cname, &path.child("externalName"), errors);
            }
        }
        _ => {}
    }
}

fn service_port(
    port: &Value,
    require_name: bool,
    names: &mut BTreeSet<String>,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let name = str_of(port, "name").unwrap_or("");
    if require_name && name.is_empty() {
        errors.push(FieldError::required(&path.child("name"), ""));
    } else if !name.is_empty() {
        dns_label(name, &path.child("name"), errors);
        if !names.insert(name.to_string()) {
            errors.push(FieldError::duplicate(&path.child("name"), name));
        }
    }
    port_number(
        int_of(port, "port").unwrap_or(0),
        &path.child("port"),
        errors,
    );
    protocol(port, path, errors);
    let target = port.get("targetPort").unwrap_or(&NULL);
    port_number_or_name(target, &path.child("targetPort"), errors);
    if let Some(app_protocol) = str_of(port, "appProtocol") {
        super::qualified_name(app_protocol, &path.child("appProtocol"), errors);
    }
}

fn session_affinity(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    one_of(spec, "sessionAffinity", &["ClientIP", "None"], path, errors);
    let config_path = path.child("sessionAffinityConfig");
    let config = spec.get("sessionAffinityConfig").filter(|c| !c.is_null());
    match str_of(spec, "sessionAffinity") {
        Some("ClientIP") => {
            let detail = "when session affinity type is ClientIP";
            let Some(config) = config else {
                errors.push(FieldError::required(&config_path, detail));
                return;
            };
            let Some(client_ip) = config.get("clientIP").filter(|c| !c.is_null()) else {
                errors.push(FieldError::required(&config_path.child("clientIP"), detail));
                return;
            };
            let timeout_path = config_path.child("clientIP").child("timeoutSeconds");
            match int_of(client_ip, "timeoutSeconds") {
                None => errors.push(FieldError::required(&timeout_path, detail)),
                Some(t) if t <= 0 || t > MAX_CLIENT_IP_TIMEOUT => errors.push(FieldError::invalid(
                    &timeout_path,
                    t,
                    "must be greater than 0 and less than 86400",
                )),
                Some(_) => {}
            }
        }
        Some("None") if config.is_some() => errors.push(FieldError::forbidden(
            &config_path,
            "must not be set when session affinity is None",
        )),
        _ => {}
    }
}

fn duplicate_ports(
    spec: &Value,
    service_type: &str,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let ports = list_of(spec, "ports");
    let ports_path = path.child("ports");
    let mut node_ports = BTreeSet::new();
    let mut service_ports = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let protocol = str_of(port, "protocol").unwrap_or("").to_string();
        let node_port = int_of(port, "nodePort").unwrap_or(0);
        if service_type == "ClusterIP" && node_port != 0 {
            errors.push(FieldError::forbidden(
                &ports_path.index(i).child("nodePort"),
                "may not be used when `type` is 'ClusterIP'",
            ));
        }
        if node_port != 0 && !node_ports.insert((protocol.clone(), node_port)) {
            errors.push(FieldError::duplicate(
                &ports_path.index(i).child("nodePort"),
                node_port,
            ));
        }
    }
    for (i, port) in ports.iter().enumerate() {
        let protocol = str_of(port, "protocol").unwrap_or("").to_string();
        let number = int_of(port, "port").unwrap_or(0);
        if !service_ports.insert((protocol.clone(), number)) {
            let key = json!({"port": number, "protocol": protocol});
            errors.push(FieldError::duplicate(&ports_path.index(i), key));
        }
    }
}

fn load_balancer_only(
    spec: &Value,
    service_type: &str,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    if service_type == "LoadBalancer" {
        if is_absent(spec.get("allocateLoadBalancerNodePorts")) {
            errors.push(FieldError::required(
                &FieldPath::new("allocateLoadBalancerNodePorts"),
                "",
            ));
        }
        return;
    }
    let message = "may only be used when `type` is 'LoadBalancer'";
    if !list_of(spec, "loadBalancerSourceRanges").is_empty() {
        errors.push(FieldError::forbidden(
            &path.child("LoadBalancerSourceRanges"),
            message,
        ));
    }
    if !is_absent(spec.get("allocateLoadBalancerNodePorts")) {
        errors.push(FieldError::forbidden(
            &path.child("allocateLoadBalancerNodePorts"),
            message,
        ));
    }
}

fn traffic_policies(
    spec: &Value,
    service_type: &str,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let external = str_of(spec, "externalTrafficPolicy").unwrap_or("");
    let accessible = service_type == "LoadBalancer"
        || service_type == "NodePort"
        || (service_type == "ClusterIP" && !list_of(spec, "externalIPs").is_empty());
    let external_path = path.child("externalTrafficPolicy");
    if !accessible && !external.is_empty() {
        errors.push(FieldError::invalid(
            &external_path,
            external,
            "may only be set for externally-accessible services",
        ));
    } else if accessible && external.is_empty() {
        errors.push(FieldError::required(&external_path, ""));
    } else if accessible && !["Cluster", "Local"].contains(&external) {
        errors.push(FieldError::not_supported(
            &external_path,
            external,
            &["Cluster", "Local"],
        ));
    }
    let internal_path = path.child("internalTrafficPolicy");
    match str_of(spec, "internalTrafficPolicy") {
        None if ["NodePort", "LoadBalancer", "ClusterIP"].contains(&service_type) => {
            errors.push(FieldError::required(&internal_path, ""));
        }
        Some(policy) if !["Cluster", "Local"].contains(&policy) => {
            errors.push(FieldError::not_supported(
                &internal_path,
                policy,
                &["Cluster", "Local"],
            ));
        }
        _ => {}
    }
}

/// Cluster IPs may be added or dropped for dual-stack changes, but the
/// ones set may not change. An update that omits them keeps them (the
/// server carries them over), so an empty list is no change.
fn cluster_ips_update(
    spec: &Value,
    old_spec: &Value,
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) {
    let external = |s: &Value| str_of(s, "type") == Some("ExternalName");
    if external(spec) || external(old_spec) || (is_headless(spec) && is_headless(old_spec)) {
        return;
    }
    let new = cluster_ips(spec);
    let old = cluster_ips(old_spec);
    if new.is_empty() {
        return;
    }
    for (i, (new_ip, old_ip)) in new.iter().zip(&old).enumerate() {
        if new_ip != old_ip {
            errors.push(FieldError::invalid(
                &path.child("clusterIPs").index(i),
                new.clone(),
                "may not change once set",
            ));
        }
    }
}
