//! Validation of networking.k8s.io/v1 Ingresses, IngressClasses and
//! NetworkPolicies.

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{at, int_of, list_of, str_of};
use crate::validation::{
    is_dns1035_label, is_dns1123_label, is_dns1123_subdomain, is_valid_path_segment_name,
    is_wildcard_dns1123_subdomain,
};

use super::pod::NULL;
use super::{immutable, is_port_name, net, port_number, selector};

const INGRESS_CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";
const MAX_CONTROLLER: usize = 250;

/// Errors `problems` makes at `path` for `value`.
fn each(problems: Vec<String>, value: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
    errors.extend(
        problems
            .into_iter()
            .map(|p| FieldError::invalid(path, value, p)),
    );
}

/// Ingress, on create when `old` is `None`.
pub(crate) fn ingress(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    let rules = list_of(spec, "rules");
    let default_backend = spec.get("defaultBackend").filter(|b| !b.is_null());
    if rules.is_empty() && default_backend.is_none() {
        let value = spec.get("rules").cloned().unwrap_or(Value::Null);
        errors.push(FieldError::invalid(
            &path,
            value,
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if let Some(backend) = default_backend {
        ingress_backend(backend, &path.child("defaultBackend"), &mut errors);
    }
    for (i, rule) in rules.iter().enumerate() {
        ingress_rule(rule, &path.child("rules").index(i), &mut errors);
    }
    for (i, tls) in list_of(spec, "tls").iter().enumerate() {
        ingress_tls(tls, &path.child("tls").index(i), &mut errors);
    }
    if let Some(class) = str_of(spec, "ingressClassName") {
        each(
            is_dns1123_subdomain(class),
            class,
            &path.child("ingressClassName"),
            &mut errors,
        );
    }
    match old {
        None => class_annotation(object, spec, &mut errors),
        Some(_) => load_balancer_status(object, &mut errors),
    }
    errors
}

/// An Ingress may name its class by annotation and by field only alike.
fn class_annotation(object: &Value, spec: &Value, errors: &mut Vec<FieldError>) {
    let annotation = at(
        object,
        &["metadata", "annotations", INGRESS_CLASS_ANNOTATION],
    )
    .and_then(Value::as_str);
    if let (Some(annotation), Some(class)) = (annotation, str_of(spec, "ingressClassName"))
        && annotation != class
    {
        errors.push(FieldError::invalid(
            &FieldPath::new("annotations").child(INGRESS_CLASS_ANNOTATION),
            annotation,
            "must match `ingressClassName` when both are specified",
        ));
    }
}

fn host(host: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if host.contains('*') {
        each(is_wildcard_dns1123_subdomain(host), host, path, errors);
    } else {
        each(is_dns1123_subdomain(host), host, path, errors);
    }
}

fn ingress_rule(rule: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let name = str_of(rule, "host").unwrap_or("");
    if !name.is_empty() {
        if net::is_ip(name) {
            errors.push(FieldError::invalid(
                &path.child("host"),
                name,
                "must be a DNS name, not an IP address",
            ));
        }
        host(name, &path.child("host"), errors);
    }
    let Some(http) = rule.get("http").filter(|h| !h.is_null()) else {
        return;
    };
    let paths_path = path.child("http").child("paths");
    let paths = list_of(http, "paths");
    if paths.is_empty() {
        errors.push(FieldError::required(&paths_path, ""));
    }
    for (i, item) in paths.iter().enumerate() {
        http_path(item, &paths_path.index(i), errors);
    }
}

fn http_path(item: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let Some(kind) = str_of(item, "pathType") else {
        errors.push(FieldError::required(
            &path.child("pathType"),
            "pathType must be specified",
        ));
        return;
    };
    let value = str_of(item, "path").unwrap_or("");
    let value_path = path.child("path");
    let absolute = || FieldError::invalid(&value_path, value, "must be an absolute path");
    match kind {
        "Exact" | "Prefix" => {
            if !value.starts_with('/') {
                errors.push(absolute());
            }
            for bad in ["//", "/./", "/../", "%2f", "%2F"] {
                if value.contains(bad) {
                    let message = format!("must not contain '{bad}'");
                    errors.push(FieldError::invalid(&value_path, value, message));
                }
            }
            for bad in ["/..", "/."] {
                if value.ends_with(bad) {
                    let message = format!("cannot end with '{bad}'");
                    errors.push(FieldError::invalid(&value_path, value, message));
                }
            }
        }
        "ImplementationSpecific" => {
            if !value.is_empty() && !value.starts_with('/') {
                errors.push(absolute());
            }
        }
        other => errors.push(FieldError::not_supported(
            &path.child("pathType"),
            other,
            &["Exact", "ImplementationSpecific", "Prefix"],
        )),
    }
    let backend = item.get("backend").unwrap_or(&NULL);
    ingress_backend(backend, &path.child("backend"), errors);
}

fn ingress_backend(backend: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let resource = backend.get("resource").filter(|r| !r.is_null());
    let service = backend.get("service").filter(|s| !s.is_null());
    match (resource, service) {
        (Some(_), Some(_)) => errors.push(FieldError::invalid(
            path,
            "",
            "cannot set both resource and service backends",
        )),
        (Some(resource), None) => object_reference(resource, &path.child("resource"), errors),
        (None, Some(service)) => service_backend(service, path, errors),
        (None, None) => errors.push(FieldError::invalid(
            path,
            "",
            "resource or service backend is required",
        )),
    }
}

fn service_backend(service: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let name = str_of(service, "name").unwrap_or("");
    let name_path = path.child("service").child("name");
    if name.is_empty() {
        errors.push(FieldError::required(&name_path, ""));
    } else {
        each(is_dns1035_label(name), name, &name_path, errors);
    }
    let port = service.get("port").unwrap_or(&NULL);
    let port_path = path.child("service").child("port");
    let port_name = str_of(port, "name").unwrap_or("");
    let number = int_of(port, "number").unwrap_or(0);
    match (port_name.is_empty(), number == 0) {
        (false, false) => errors.push(FieldError::invalid(
            path,
            "",
            "cannot set both port name & port number",
        )),
        (false, true) => each(
            is_port_name(port_name),
            port_name,
            &port_path.child("name"),
            errors,
        ),
        (true, false) => port_number(number, &port_path.child("number"), errors),
        (true, true) => errors.push(FieldError::required(
            path,
            "port name or number is required",
        )),
    }
}

/// A reference to an object in the same namespace (a resource backend, an
/// IngressClass's parameters).
fn object_reference(reference: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if let Some(group) = str_of(reference, "apiGroup") {
        each(
            is_dns1123_subdomain(group),
            group,
            &path.child("apiGroup"),
            errors,
        );
    }
    for (key, missing) in [("kind", "kind is required"), ("name", "name is required")] {
        match str_of(reference, key).unwrap_or("") {
            "" => errors.push(FieldError::required(&path.child(key), missing)),
            value => each(
                is_valid_path_segment_name(value),
                value,
                &path.child(key),
                errors,
            ),
        }
    }
}

fn ingress_tls(tls: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    for (i, name) in list_of(tls, "hosts").iter().enumerate() {
        host(
            name.as_str().unwrap_or(""),
            &path.child("hosts").index(i),
            errors,
        );
    }
    let secret = str_of(tls, "secretName").unwrap_or("");
    if !secret.is_empty() {
        each(
            is_dns1123_subdomain(secret),
            secret,
            &path.child("secretName"),
            errors,
        );
    }
}

fn load_balancer_status(object: &Value, errors: &mut Vec<FieldError>) {
    let path = FieldPath::new("status")
        .child("loadBalancer")
        .child("ingress");
    let ingress = at(object, &["status", "loadBalancer"]).unwrap_or(&NULL);
    for (i, point) in list_of(ingress, "ingress").iter().enumerate() {
        let at_path = path.index(i);
        if let Some(ip) = str_of(point, "ip").filter(|ip| !ip.is_empty()) {
            net::legacy_ip(ip, &at_path.child("ip"), errors);
        }
        if let Some(name) = str_of(point, "hostname").filter(|h| !h.is_empty()) {
            let name_path = at_path.child("hostname");
            each(is_dns1123_subdomain(name), name, &name_path, errors);
            if net::is_ip(name) {
                errors.push(FieldError::invalid(
                    &name_path,
                    name,
                    "must be a DNS name, not an IP address",
                ));
            }
        }
    }
}

/// IngressClass: a domain-prefixed controller that never changes, and a
/// valid parameters reference.
pub(crate) fn ingress_class(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    if let Some(old) = old {
        let old_controller = at(old, &["spec", "controller"]);
        immutable(
            spec.get("controller"),
            old_controller,
            &path.child("controller"),
            &mut errors,
        );
    }
    let controller = str_of(spec, "controller").unwrap_or("");
    if controller.len() > MAX_CONTROLLER {
        errors.push(FieldError::too_long(
            &path.child("controller"),
            Some(MAX_CONTROLLER),
        ));
    }
    errors.extend(crate::validation::validate_domain_prefixed_path(
        controller,
        &path.child("controller"),
    ));
    if let Some(parameters) = spec.get("parameters").filter(|p| !p.is_null()) {
        class_parameters(parameters, &path.child("parameters"), &mut errors);
    }
    errors
}

fn class_parameters(parameters: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    object_reference(parameters, path, errors);
    let Some(scope) = str_of(parameters, "scope") else {
        errors.push(FieldError::required(&path.child("scope"), ""));
        return;
    };
    let namespace = str_of(parameters, "namespace");
    match scope {
        "Namespace" => match namespace {
            None => errors.push(FieldError::required(
                &path.child("namespace"),
                "`parameters.scope` is set to 'Namespace'",
            )),
            Some(name) => each(
                is_dns1123_label(name),
                name,
                &path.child("namespace"),
                errors,
            ),
        },
        "Cluster" if namespace.is_some() => errors.push(FieldError::forbidden(
            &path.child("namespace"),
            "`parameters.scope` is set to 'Cluster'",
        )),
        "Cluster" => {}
        other => errors.push(FieldError::not_supported(
            &path.child("scope"),
            other,
            &["Cluster", "Namespace"],
        )),
    }
}

/// NetworkPolicy: selectors, ports, peers and policy types.
pub(crate) fn network_policy(object: &Value, _old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec");
    let mut errors = selector::validate(spec.get("podSelector"), &path.child("podSelector"));
    for (direction, peers) in [("ingress", "from"), ("egress", "to")] {
        for (i, rule) in list_of(spec, direction).iter().enumerate() {
            let rule_path = path.child(direction).index(i);
            for (j, port) in list_of(rule, "ports").iter().enumerate() {
                policy_port(port, &rule_path.child("ports").index(j), &mut errors);
            }
            for (j, peer) in list_of(rule, peers).iter().enumerate() {
                policy_peer(peer, &rule_path.child(peers).index(j), &mut errors);
            }
        }
    }
    policy_types(spec, &path.child("policyTypes"), &mut errors);
    errors
}

fn policy_types(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let types = list_of(spec, "policyTypes");
    if types.len() > 2 {
        errors.push(FieldError::invalid(
            path,
            Value::from(types.to_vec()),
            "may not specify more than two policyTypes",
        ));
        return;
    }
    for (i, kind) in types.iter().enumerate() {
        let kind = kind.as_str().unwrap_or("");
        if kind != "Ingress" && kind != "Egress" {
            errors.push(FieldError::not_supported(
                &path.index(i),
                kind,
                &["Ingress", "Egress"],
            ));
        }
    }
}

fn policy_port(port: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if let Some(protocol) = str_of(port, "protocol")
        && !["TCP", "UDP", "SCTP"].contains(&protocol)
    {
        errors.push(FieldError::not_supported(
            &path.child("protocol"),
            protocol,
            &["TCP", "UDP", "SCTP"],
        ));
    }
    let end = int_of(port, "endPort");
    let end_path = path.child("endPort");
    match port.get("port").filter(|p| !p.is_null()) {
        Some(Value::String(name)) => {
            if let Some(end) = end {
                let why = "may not be specified when `port` is non-numeric";
                errors.push(FieldError::invalid(&end_path, end, why));
            }
            each(is_port_name(name), name, &path.child("port"), errors);
        }
        Some(number) => {
            let number = number.as_i64().unwrap_or(0);
            port_number(number, &path.child("port"), errors);
            if let Some(end) = end {
                if end < number {
                    let why = "must be greater than or equal to `port`";
                    errors.push(FieldError::invalid(&end_path, number, why));
                }
                port_number(end, &end_path, errors);
            }
        }
        None => {
            if let Some(end) = end {
                let why = "may not be specified when `port` is not specified";
                errors.push(FieldError::invalid(&end_path, end, why));
            }
        }
    }
}

fn policy_peer(peer: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let mut count = 0;
    for key in ["podSelector", "namespaceSelector"] {
        if let Some(selector) = peer.get(key).filter(|s| !s.is_null()) {
            count += 1;
            errors.extend(selector::validate(Some(selector), &path.child(key)));
        }
    }
    let block = peer.get("ipBlock").filter(|b| !b.is_null());
    if let Some(block) = block {
        count += 1;
        ip_block(block, &path.child("ipBlock"), errors);
    }
    if count == 0 {
        errors.push(FieldError::required(path, "must specify a peer"));
    } else if count > 1 && block.is_some() {
        errors.push(FieldError::forbidden(
            path,
            "may not specify both ipBlock and another peer",
        ));
    }
}

fn ip_block(block: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let cidr = str_of(block, "cidr").unwrap_or("");
    if cidr.is_empty() {
        errors.push(FieldError::required(&path.child("cidr"), ""));
        return;
    }
    net::legacy_cidr(cidr, &path.child("cidr"), errors);
    let Some(outer) = net::network_of(cidr) else {
        return;
    };
    for (i, except) in list_of(block, "except").iter().enumerate() {
        let except = except.as_str().unwrap_or("");
        let except_path = path.child("except").index(i);
        net::legacy_cidr(except, &except_path, errors);
        let Some((inner, bits)) = net::network_of(except) else {
            continue;
        };
        if !net::contains(outer, inner) || outer.1 >= bits {
            errors.push(FieldError::invalid(
                &except_path,
                except,
                "must be a strict subset of `cidr`",
            ));
        }
    }
}
