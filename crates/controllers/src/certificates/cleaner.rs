//! Upstream's cleaner of CertificateSigningRequests: every hour, a request
//! is deleted once it is of no more use: issued (approved and signed) an
//! hour ago, denied or failed an hour ago, pending for a day, or whose
//! certificate has expired.

use std::future::Future;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use keelson_api::k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams};

use crate::framework::Context;

/// How often the requests are looked over.
pub const POLLING_INTERVAL: Duration = Duration::from_secs(3600);
/// How long an issued, denied or failed request is kept.
const DONE_KEPT: SignedDuration = SignedDuration::from_hours(1);
/// How long a pending request is kept.
const PENDING_KEPT: SignedDuration = SignedDuration::from_hours(24);

/// Why `csr` is deleted at `now`, or `None` when it is kept.
pub fn expired(csr: &CertificateSigningRequest, now: Timestamp) -> Option<&'static str> {
    let older = |time: Option<Timestamp>, kept: SignedDuration| {
        time.is_some_and(|t| now.duration_since(t) > kept)
    };
    let status = csr.status.as_ref();
    let conditions = status.and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);
    let updated = |kind: &str| {
        conditions
            .iter()
            .find(|c| c.type_ == kind)
            .map(|c| c.last_update_time.as_ref().map(|t| t.0))
    };
    let certificate = status
        .and_then(|s| s.certificate.as_ref())
        .filter(|c| !c.0.is_empty());
    if certificate.is_some() && updated("Approved").is_some_and(|t| older(t, DONE_KEPT)) {
        return Some("issued");
    }
    if updated("Denied").is_some_and(|t| older(t, DONE_KEPT)) {
        return Some("denied");
    }
    if updated("Failed").is_some_and(|t| older(t, DONE_KEPT)) {
        return Some("failed");
    }
    let created = csr.metadata.creation_timestamp.as_ref().map(|t| t.0);
    if conditions.is_empty() && older(created, PENDING_KEPT) {
        return Some("pending");
    }
    if certificate.is_some_and(|pem| expired_certificate(&pem.0, now)) {
        return Some("expired");
    }
    None
}

/// Whether the first certificate of `pem` ended before `now`.
fn expired_certificate(pem: &[u8], now: Timestamp) -> bool {
    let Ok((_, block)) = x509_parser::pem::parse_x509_pem(pem) else {
        return false;
    };
    let Ok(certificate) = block.parse_x509() else {
        return false;
    };
    certificate.validity().not_after.timestamp() < now.as_second()
}

/// The cleaner, looking the requests over every `interval`.
pub fn cleaner(context: Context, interval: Duration) -> impl Future<Output = ()> + Send + 'static {
    let requests = context.informers.get::<CertificateSigningRequest>();
    async move {
        requests.synced().await;
        let api: Api<CertificateSigningRequest> = Api::all(context.client.clone());
        loop {
            let now = Timestamp::now();
            for csr in requests.store().state() {
                let Some(why) = expired(&csr, now) else {
                    continue;
                };
                let name = csr.name_any();
                match api.delete(&name, &DeleteParams::default()).await {
                    Ok(_) => {
                        tracing::info!(csr = name, why, "cleaned a certificate signing request")
                    }
                    Err(err) => {
                        tracing::info!(csr = name, error = %err, "a request was not cleaned")
                    }
                }
            }
            tokio::time::sleep(interval).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn csr(status: serde_json::Value, created: &str) -> CertificateSigningRequest {
        serde_json::from_value(json!({
            "metadata": {"name": "r", "creationTimestamp": created},
            "spec": {"request": "", "signerName": "kubernetes.io/kube-apiserver-client"},
            "status": status
        }))
        .expect("a request")
    }

    fn condition(kind: &str, at: &str) -> serde_json::Value {
        json!({"type": kind, "status": "True", "lastUpdateTime": at})
    }

    #[test]
    fn done_requests_go_after_an_hour_and_pending_ones_after_a_day() {
        let now: Timestamp = "2026-12-02T12:00:00Z".parse().expect("a time");
        let recent = "2026-12-02T11:30:00Z";
        let old = "2026-12-02T10:30:00Z";
        let issued = |at| {
            csr(
                json!({"conditions": [condition("Approved", at)], "certificate": "Y2VydA=="}),
                old,
            )
        };
        let cases = [
            (issued(old), Some("issued")),
            (issued(recent), None),
            // Approved but not yet signed: kept for the signer.
            (
                csr(json!({"conditions": [condition("Approved", old)]}), old),
                None,
            ),
            (
                csr(json!({"conditions": [condition("Denied", old)]}), old),
                Some("denied"),
            ),
            (
                csr(json!({"conditions": [condition("Denied", recent)]}), old),
                None,
            ),
            (
                csr(json!({"conditions": [condition("Failed", old)]}), old),
                Some("failed"),
            ),
            (csr(json!({}), "2026-12-01T11:00:00Z"), Some("pending")),
            (csr(json!({}), "2026-12-01T13:00:00Z"), None),
        ];
        for (request, want) in &cases {
            assert_eq!(expired(request, now), *want, "{:?}", request.status);
        }
    }
}
