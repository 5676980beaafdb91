//! Validation of the networking.k8s.io/v1 kinds that hand out Service IPs:
//! ServiceCIDRs (one or two ranges, one per IP family, fixed once made)
//! and IPAddresses (named by their address, pointing at their owner).

use serde_json::Value;

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{at, list_of, str_of};
use crate::validation::{is_dns1123_subdomain, is_valid_path_segment_name};

use super::pod::NULL;
use super::{immutable, net};

/// ServiceCIDR, on create when `old` is `None`.
pub(crate) fn service_cidr(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let path = FieldPath::new("spec").child("cidrs");
    let mut errors = Vec::new();
    if let Some(old) = old {
        immutable(
            spec.get("cidrs"),
            at(old, &["spec", "cidrs"]),
            &path,
            &mut errors,
        );
        return errors;
    }
    let cidrs: Vec<&str> = list_of(spec, "cidrs")
        .iter()
        .map(|c| c.as_str().unwrap_or(""))
        .collect();
    match cidrs.len() {
        0 => errors.push(FieldError::required(&path, "at least one CIDR required")),
        3.. => errors.push(FieldError::invalid(&path, spec.clone(), "may only hold up to 2 values")),
        2 if !dual_stack(&cidrs) => errors.push(FieldError::invalid(
            &path,
            spec.clone(),
            "may specify no more than one IP for each IP family, i.e 192.168.0.0/24 and 2001:db8::/64",
        )),
        _ => {
            for (i, cidr) in cidrs.iter().enumerate() {
                net::cidr(cidr, &path.index(i), &mut errors);
            }
        }
    }
    errors
}

/// Whether two CIDRs parse and are of different IP families.
fn dual_stack(cidrs: &[&str]) -> bool {
    match (net::network_of(cidrs[0]), net::network_of(cidrs[1])) {
        (Some((a, _)), Some((b, _))) => a.is_ipv4() != b.is_ipv4(),
        _ => false,
    }
}

/// IPAddress: a reference to the object the address is allocated to, which
/// never changes.
pub(crate) fn ip_address(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let path = FieldPath::new("spec").child("parentRef");
    let reference = at(object, &["spec", "parentRef"]);
    let mut errors = Vec::new();
    if let Some(old) = old {
        immutable(
            reference,
            at(old, &["spec", "parentRef"]),
            &path,
            &mut errors,
        );
        return errors;
    }
    let Some(reference) = reference else {
        errors.push(FieldError::required(&path, ""));
        return errors;
    };
    let group = str_of(reference, "group").unwrap_or("");
    if !group.is_empty() {
        for problem in is_dns1123_subdomain(group) {
            errors.push(FieldError::invalid(&path.child("group"), group, problem));
        }
    }
    for key in ["resource", "name", "namespace"] {
        let value = str_of(reference, key).unwrap_or("");
        if value.is_empty() {
            if key != "namespace" {
                errors.push(FieldError::required(&path.child(key), ""));
            }
            continue;
        }
        for problem in is_valid_path_segment_name(value) {
            errors.push(FieldError::invalid(&path.child(key), value, problem));
        }
    }
    errors
}
