//! The table of certificates.k8s.io CertificateSigningRequests: who asked,
//! of which signer, for how long, and where the request stands.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use serde_json::{Value, json};

use super::format::{age, human_duration, or_none};
use super::{AGE, Column, NAME, Row, col};

pub(crate) const CERTIFICATE_SIGNING_REQUEST: &[Column] = &[
    NAME,
    AGE,
    col(
        "SignerName",
        "string",
        "Name of the signer the request is addressed to.",
    ),
    col(
        "Requestor",
        "string",
        "Name of the user who created the request.",
    ),
    col(
        "RequestedDuration",
        "string",
        "The validity period the request asks for.",
    ),
    col(
        "Condition",
        "string",
        "Whether the request is approved, denied, failed or issued.",
    ),
];

pub(crate) fn certificate_signing_request(object: &Value, now: Timestamp) -> Option<Row> {
    let csr: CertificateSigningRequest = super::typed(object)?;
    let duration = csr.spec.expiration_seconds.map_or_else(
        || "<none>".to_string(),
        |s| human_duration(SignedDuration::from_secs(i64::from(s))),
    );
    Some(Row::new(vec![
        json!(csr.metadata.name.clone().unwrap_or_default()),
        json!(age(csr.metadata.creation_timestamp.as_ref(), now)),
        json!(or_none(&csr.spec.signer_name)),
        json!(csr.spec.username.clone().unwrap_or_default()),
        json!(duration),
        json!(condition(&csr)),
    ]))
}

/// `Approved`, `Denied` or `Pending`, then `,Failed` and `,Issued` where
/// they hold (upstream's `extractCSRStatus`).
fn condition(csr: &CertificateSigningRequest) -> String {
    let status = csr.status.as_ref();
    let has = |kind: &str| {
        status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == kind))
    };
    let mut parts = vec![if has("Denied") {
        "Denied"
    } else if has("Approved") {
        "Approved"
    } else {
        "Pending"
    }];
    if has("Failed") {
        parts.push("Failed");
    }
    if status
        .and_then(|s| s.certificate.as_ref())
        .is_some_and(|c| !c.0.is_empty())
    {
        parts.push("Issued");
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions() {
        let row = |status: Value| {
            let object = json!({
                "metadata": {"name": "a"},
                "spec": {"request": "", "signerName": "example.com/s", "username": "alice", "expirationSeconds": 3600},
                "status": status,
            });
            let row = certificate_signing_request(&object, Timestamp::UNIX_EPOCH).expect("a CSR");
            row.cells[2..].to_vec()
        };
        assert_eq!(
            row(json!({})),
            [
                json!("example.com/s"),
                json!("alice"),
                json!("60m"),
                json!("Pending")
            ]
        );
        let approved =
            json!({"conditions": [{"type": "Approved", "status": "True"}], "certificate": "QQ=="});
        assert_eq!(row(approved)[3], json!("Approved,Issued"));
        let denied = json!({"conditions": [{"type": "Denied", "status": "True"}, {"type": "Failed", "status": "True"}]});
        assert_eq!(row(denied)[3], json!("Denied,Failed"));
    }
}
