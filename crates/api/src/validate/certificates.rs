//! Validation of certificates.k8s.io/v1 CertificateSigningRequests: a
//! request that parses as a PEM `CERTIFICATE REQUEST` with a good
//! signature, a signer of the form `domain/path`, known key usages, and
//! conditions where Approved and Denied exclude each other, are always
//! `True`, and are never taken back.

use serde_json::Value;
use x509_parser::prelude::{FromDer, X509CertificationRequest};

use crate::field_error::FieldError;
use crate::field_path::FieldPath;
use crate::json::{at, list_of, str_of};
use crate::validation::{is_dns1123_label, is_dns1123_subdomain};

use super::immutable;
use super::pod::NULL;

/// The key usages a request may ask for (upstream's `KeyUsage` values).
const USAGES: &[&str] = &[
    "any",
    "cert sign",
    "client auth",
    "code signing",
    "content commitment",
    "crl sign",
    "data encipherment",
    "decipher only",
    "digital signature",
    "email protection",
    "encipher only",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "key agreement",
    "key encipherment",
    "microsoft sgc",
    "netscape sgc",
    "ocsp signing",
    "s/mime",
    "server auth",
    "signing",
    "timestamping",
];

/// The condition types only the `approval` subresource decides.
pub(crate) const APPROVAL_TYPES: &[&str] = &["Approved", "Denied"];
/// The condition types an update may never remove.
const KEPT_TYPES: &[&str] = &["Approved", "Denied", "Failed"];
const STATUS_VALUES: &[&str] = &["False", "True", "Unknown"];
const MIN_EXPIRATION_SECONDS: i64 = 600;

/// CertificateSigningRequest, on create when `old` is `None`.
pub(crate) fn certificate_signing_request(object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let spec = object.get("spec").unwrap_or(&NULL);
    let spec_path = FieldPath::new("spec");
    let mut errors = Vec::new();
    if let Some(old) = old {
        immutable(object.get("spec"), old.get("spec"), &spec_path, &mut errors);
        conditions(object, &mut errors);
        kept_conditions(object, old, &mut errors);
        return errors;
    }
    request(
        spec.get("request"),
        &spec_path.child("request"),
        &mut errors,
    );
    usages(spec, &spec_path.child("usages"), &mut errors);
    signer_name(
        str_of(spec, "signerName").unwrap_or(""),
        &spec_path.child("signerName"),
        &mut errors,
    );
    if let Some(seconds) = spec.get("expirationSeconds").and_then(Value::as_i64)
        && seconds < MIN_EXPIRATION_SECONDS
    {
        errors.push(FieldError::invalid(
            &spec_path.child("expirationSeconds"),
            seconds,
            "may not specify a duration less than 600 seconds (10 minutes)",
        ));
    }
    conditions(object, &mut errors);
    errors
}

/// `spec.request`: base64 of a PEM `CERTIFICATE REQUEST` whose signature
/// holds.
fn request(value: Option<&Value>, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let shown = value.cloned().unwrap_or(Value::Null);
    let bytes = value
        .and_then(|v| serde_json::from_value::<k8s_openapi::ByteString>(v.clone()).ok())
        .map(|b| b.0)
        .unwrap_or_default();
    if let Err(reason) = parse_request(&bytes) {
        errors.push(FieldError::invalid(path, shown, reason));
    }
}

/// Why `pem` is not a certificate request, if it is not.
fn parse_request(pem: &[u8]) -> Result<(), String> {
    const NOT_PEM: &str = "PEM block type must be CERTIFICATE REQUEST";
    let (_, block) = x509_parser::pem::parse_x509_pem(pem).map_err(|_| NOT_PEM.to_string())?;
    if block.label != "CERTIFICATE REQUEST" {
        return Err(NOT_PEM.to_string());
    }
    let (_, request) = X509CertificationRequest::from_der(&block.contents)
        .map_err(|e| format!("x509: malformed certificate request: {e}"))?;
    request
        .verify_signature()
        .map_err(|_| "x509: certificate request signature is invalid".to_string())
}

/// `spec.usages`: required, each known, none twice.
fn usages(spec: &Value, path: &FieldPath, errors: &mut Vec<FieldError>) {
    let usages = list_of(spec, "usages");
    if usages.is_empty() {
        errors.push(FieldError::required(path, ""));
    }
    let mut seen = Vec::new();
    for (i, usage) in usages.iter().enumerate() {
        let name = usage.as_str().unwrap_or("");
        if !USAGES.contains(&name) {
            errors.push(FieldError::not_supported(
                &path.index(i),
                usage.clone(),
                USAGES,
            ));
        } else if seen.contains(&name) {
            errors.push(FieldError::duplicate(&path.index(i), usage.clone()));
        }
        seen.push(name);
    }
}

/// `spec.signerName`: a domain of at least two DNS labels, a `/`, and a
/// path of DNS subdomains separated by `/`.
fn signer_name(name: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if name.is_empty() {
        errors.push(FieldError::required(path, ""));
        return;
    }
    let Some((domain, rest)) = name.split_once('/') else {
        errors.push(FieldError::invalid(
            path,
            name,
            "must be a fully qualified domain and path of the form 'example.com/signer-name'",
        ));
        return;
    };
    if domain.len() > 253 {
        errors.push(FieldError::too_long(path, Some(253)));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    for label in &labels {
        for reason in is_dns1123_label(label) {
            errors.push(FieldError::invalid(
                path,
                domain,
                format!("validating label {label:?}: {reason}"),
            ));
        }
    }
    if labels.len() < 2 {
        errors.push(FieldError::invalid(
            path,
            domain,
            "should be a domain with at least two segments separated by dots",
        ));
    }
    for component in rest.split('/') {
        for reason in is_dns1123_subdomain(component) {
            errors.push(FieldError::invalid(
                path,
                rest,
                format!("validating component {component:?}: {reason}"),
            ));
        }
    }
    let max = 253usize.saturating_sub(domain.len() + 1);
    if rest.len() > max {
        errors.push(FieldError::too_long(path, Some(max)));
    }
}

/// `status.conditions`: a type and status on each, Approved and Denied
/// only `True` and never together, no type twice.
fn conditions(object: &Value, errors: &mut Vec<FieldError>) {
    let path = FieldPath::new("status").child("conditions");
    let conditions = at(object, &["status", "conditions"])
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut seen: Vec<&str> = Vec::new();
    for (i, condition) in conditions.iter().enumerate() {
        let item = path.index(i);
        let kind = str_of(condition, "type").unwrap_or("");
        let status = str_of(condition, "status").unwrap_or("");
        if kind.is_empty() {
            errors.push(FieldError::required(&item.child("type"), ""));
        }
        let allowed: &[&str] = if APPROVAL_TYPES.contains(&kind) {
            &["True"]
        } else {
            STATUS_VALUES
        };
        if status.is_empty() {
            errors.push(FieldError::required(&item.child("status"), ""));
        } else if !allowed.contains(&status) {
            errors.push(FieldError::not_supported(
                &item.child("status"),
                status,
                allowed,
            ));
        }
        let other = match kind {
            "Approved" => Some("Denied"),
            "Denied" => Some("Approved"),
            _ => None,
        };
        if let Some(other) = other.filter(|o| seen.contains(o)) {
            errors.push(FieldError::invalid(
                &item.child("type"),
                kind,
                format!("{kind} condition may not be set when {other} condition exists"),
            ));
        }
        if !kind.is_empty() && seen.contains(&kind) {
            errors.push(FieldError::duplicate(&item.child("type"), kind));
        }
        seen.push(kind);
    }
}

/// An update keeps every Approved, Denied and Failed condition, and a
/// certificate once issued.
fn kept_conditions(object: &Value, old: &Value, errors: &mut Vec<FieldError>) {
    let count = |object: &Value, kind: &str| {
        at(object, &["status", "conditions"])
            .and_then(Value::as_array)
            .map(|c| c.iter().filter(|c| str_of(c, "type") == Some(kind)).count())
            .unwrap_or(0)
    };
    let path = FieldPath::new("status").child("conditions");
    for kind in KEPT_TYPES {
        if count(object, kind) < count(old, kind) {
            errors.push(FieldError::forbidden(
                &path,
                format!("updates may not remove a condition of type {kind:?}"),
            ));
        }
    }
    let certificate = |o: &Value| {
        at(o, &["status", "certificate"])
            .filter(|c| !c.is_null())
            .cloned()
    };
    if let Some(issued) = certificate(old)
        && certificate(object).as_ref() != Some(&issued)
    {
        errors.push(FieldError::forbidden(
            &FieldPath::new("status").child("certificate"),
            "updates may not modify existing certificate content",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(errors: &[FieldError]) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn signer_names() {
        for (name, ok) in [
            ("kubernetes.io/kube-apiserver-client", true),
            ("example.com/a/b", true),
            ("", false),
            ("example.com", false),
            ("localhost/signer", false),
            ("Example.com/signer", false),
            ("example.com/Signer", false),
        ] {
            let mut errors = Vec::new();
            signer_name(
                name,
                &FieldPath::new("spec").child("signerName"),
                &mut errors,
            );
            assert_eq!(errors.is_empty(), ok, "{name}: {:?}", messages(&errors));
        }
    }

    #[test]
    fn approved_and_denied_exclude_each_other() {
        let object = json!({"status": {"conditions": [
            {"type": "Approved", "status": "True"},
            {"type": "Denied", "status": "True"},
        ]}});
        let mut errors = Vec::new();
        conditions(&object, &mut errors);
        assert_eq!(
            messages(&errors),
            [
                "status.conditions[1].type: Invalid value: \"Denied\": Denied condition may not be set when Approved condition exists"
            ]
        );
    }

    #[test]
    fn approval_conditions_are_true_and_kept() {
        let approved = json!({"status": {"conditions": [{"type": "Approved", "status": "True"}]}});
        let mut errors = Vec::new();
        conditions(
            &json!({"status": {"conditions": [{"type": "Denied", "status": "False"}]}}),
            &mut errors,
        );
        assert_eq!(errors.len(), 1, "{:?}", messages(&errors));
        let mut errors = Vec::new();
        kept_conditions(&json!({"status": {}}), &approved, &mut errors);
        assert_eq!(
            messages(&errors),
            [
                "status.conditions: Forbidden: updates may not remove a condition of type \"Approved\""
            ]
        );
    }

    #[test]
    fn requests_that_do_not_parse() {
        assert_eq!(
            parse_request(b"not pem").unwrap_err(),
            "PEM block type must be CERTIFICATE REQUEST"
        );
        let certificate = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(parse_request(certificate).is_err());
        let garbage =
            b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
        assert!(
            parse_request(garbage)
                .unwrap_err()
                .starts_with("x509: malformed")
        );
    }
}
