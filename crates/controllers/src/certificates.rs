//! The signer of CertificateSigningRequests, as upstream's `csrsigning`
//! controllers decide: an approved request (not failed, not yet signed)
//! for `kubernetes.io/kube-apiserver-client`,
//! `kubernetes.io/kube-apiserver-client-kubelet` or
//! `kubernetes.io/kubelet-serving` is signed with the cluster
//! CA, or fails with `SignerValidationFailure` and upstream's message when
//! its usages (or, for a kubelet, its subject) are not what the signer
//! allows. Requests for other signers are left to theirs.
//!
//! The certificate keeps the request's subject and names, takes the key
//! usages the request asks for, is no CA, starts five minutes before `now`
//! (upstream's backdating) and lasts the signer's duration, or the
//! request's `expirationSeconds` when shorter (at least ten minutes).

pub mod cleaner;
pub mod run;

use jiff::Timestamp;
use keelson_api::k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use rcgen::{
    CertificateSigningRequestParams, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, SanType,
};

/// The signer of client certificates for the API server.
pub const KUBE_APISERVER_CLIENT: &str = "kubernetes.io/kube-apiserver-client";
/// The signer of node agents' client certificates.
pub const KUBE_APISERVER_CLIENT_KUBELET: &str = "kubernetes.io/kube-apiserver-client-kubelet";

/// The signer of node agents' serving certificates.
pub const KUBELET_SERVING: &str = "kubernetes.io/kubelet-serving";

/// Upstream's `--cluster-signing-duration` default: a year.
pub const DEFAULT_DURATION: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);
/// The shortest certificate a request may ask for.
const MIN_DURATION: std::time::Duration = std::time::Duration::from_secs(600);
/// How far before `now` a certificate starts, for clocks a little behind.
const BACKDATE_SECONDS: i64 = 300;

/// What the signer does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Not this signer's to sign now (not approved, failed, signed, or
    /// for another signer).
    Skip,
    /// The `Failed` condition to add: its reason and message.
    Fail { reason: String, message: String },
    /// The certificate to put in `status.certificate`, PEM.
    Sign(String),
}

/// The cluster CA as a signer of one signer name.
pub struct Signer {
    name: &'static str,
    issuer: Issuer<'static, KeyPair>,
    duration: std::time::Duration,
}

impl Signer {
    /// The signer `name` with the CA in `ca_cert_pem` and `ca_key_pem`,
    /// giving certificates of `duration` at most.
    pub fn new(
        name: &'static str,
        ca_cert_pem: &str,
        ca_key_pem: &str,
        duration: std::time::Duration,
    ) -> Result<Self, rcgen::Error> {
        let key = KeyPair::from_pem(ca_key_pem)?;
        let issuer = Issuer::from_ca_cert_pem(ca_cert_pem, key)?;
        Ok(Signer {
            name,
            issuer,
            duration,
        })
    }

    /// What to do with `csr` at `now`.
    pub fn decide(&self, csr: &CertificateSigningRequest, now: Timestamp) -> Decision {
        let status = csr.status.as_ref();
        let has = |kind: &str| {
            status
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == kind && c.status == "True"))
        };
        let signed = status
            .and_then(|s| s.certificate.as_ref())
            .is_some_and(|c| !c.0.is_empty());
        if !has("Approved") || has("Failed") || signed || csr.spec.signer_name != self.name {
            return Decision::Skip;
        }
        let request = String::from_utf8_lossy(&csr.spec.request.0).into_owned();
        let parsed = match CertificateSigningRequestParams::from_pem(&request) {
            Ok(parsed) => parsed,
            // The API server refuses requests that do not parse; one that
            // does not here is left alone, as upstream retries it.
            Err(_) => return Decision::Skip,
        };
        let usages = csr.spec.usages.clone().unwrap_or_default();
        if let Err(message) = self.check(&parsed, &usages) {
            return Decision::Fail {
                reason: "SignerValidationFailure".to_string(),
                message,
            };
        }
        let duration = self.duration_for(csr.spec.expiration_seconds);
        match self.sign(parsed, &usages, now, duration) {
            Ok(pem) => Decision::Sign(pem),
            Err(message) => Decision::Fail {
                reason: "SignerValidationFailure".to_string(),
                message,
            },
        }
    }

    /// The signer's checks of what the request asks for.
    fn check(
        &self,
        parsed: &CertificateSigningRequestParams,
        usages: &[String],
    ) -> Result<(), String> {
        match self.name {
            KUBE_APISERVER_CLIENT_KUBELET => kubelet_client(parsed, usages),
            KUBELET_SERVING => kubelet_serving(parsed, usages),
            _ => client_usages(usages),
        }
    }

    fn duration_for(&self, expiration_seconds: Option<i32>) -> std::time::Duration {
        let Some(seconds) = expiration_seconds else {
            return self.duration;
        };
        let asked = std::time::Duration::from_secs(u64::try_from(seconds).unwrap_or(0));
        asked.clamp(MIN_DURATION, self.duration.max(MIN_DURATION))
    }

    fn sign(
        &self,
        mut parsed: CertificateSigningRequestParams,
        usages: &[String],
        now: Timestamp,
        duration: std::time::Duration,
    ) -> Result<String, String> {
        let start = now.as_second() - BACKDATE_SECONDS;
        let at = |second: i64| {
            time::OffsetDateTime::from_unix_timestamp(second).map_err(|err| err.to_string())
        };
        let params = &mut parsed.params;
        params.not_before = at(start)?;
        params.not_after = at(start + i64::try_from(duration.as_secs()).unwrap_or(i64::MAX / 2))?;
        params.is_ca = IsCa::ExplicitNoCa;
        let (key_usages, extended) = key_usages(usages)?;
        params.key_usages = key_usages;
        params.extended_key_usages = extended;
        // Only the request's subject and names: no other extension.
        params.custom_extensions.clear();
        let certificate = parsed
            .signed_by(&self.issuer)
            .map_err(|err| format!("cannot sign the certificate: {err}"))?;
        Ok(certificate.pem())
    }
}

/// Upstream's usages of an API server client certificate: client auth,
/// with digital signature and key encipherment allowed.
fn client_usages(usages: &[String]) -> Result<(), String> {
    let mut client_auth = false;
    for usage in usages {
        match usage.as_str() {
            "digital signature" | "key encipherment" => {}
            "client auth" => client_auth = true,
            other => return Err(format!("invalid usage for client certificate: {other}")),
        }
    }
    match client_auth {
        true => Ok(()),
        false => Err("missing required usage for client certificate: client auth".to_string()),
    }
}

/// Upstream's checks of a node agent's serving certificate: exactly
/// `system:nodes`, a DNS or IP name (no email or URI), exactly the serving
/// usages (key encipherment optional), the subject `system:node:NAME`.
fn kubelet_serving(
    parsed: &CertificateSigningRequestParams,
    usages: &[String],
) -> Result<(), String> {
    let subject = &parsed.params.distinguished_name;
    if organizations(subject) != ["system:nodes"] {
        return Err("subject organization is not system:nodes".to_string());
    }
    let names = &parsed.params.subject_alt_names;
    let dns_or_ip = |san: &SanType| matches!(san, SanType::DnsName(_) | SanType::IpAddress(_));
    if !names.iter().any(dns_or_ip) {
        return Err("DNS or IP subjectAltName is required".to_string());
    }
    if names
        .iter()
        .any(|san| matches!(san, SanType::Rfc822Name(_)))
    {
        return Err("Email subjectAltNames are not allowed".to_string());
    }
    if names.iter().any(|san| matches!(san, SanType::URI(_))) {
        return Err("URI subjectAltNames are not allowed".to_string());
    }
    let mut asked: Vec<&str> = usages.iter().map(String::as_str).collect();
    asked.sort_unstable();
    asked.dedup();
    let with_rsa = ["digital signature", "key encipherment", "server auth"];
    let without_rsa = ["digital signature", "server auth"];
    if asked != with_rsa && asked != without_rsa {
        // Go's `%v` of the sorted list.
        return Err(format!("usages did not match [{}]", with_rsa.join(" ")));
    }
    if !common_name(subject).starts_with("system:node:") {
        return Err("subject common name does not begin with system:node:".to_string());
    }
    Ok(())
}

/// The subject's organizations.
fn organizations(subject: &rcgen::DistinguishedName) -> Vec<String> {
    subject
        .iter()
        .filter(|(kind, _)| **kind == DnType::OrganizationName)
        .map(|(_, value)| dn_text(value))
        .collect()
}

/// The subject's common name, or empty.
fn common_name(subject: &rcgen::DistinguishedName) -> String {
    subject
        .get(&DnType::CommonName)
        .map(dn_text)
        .unwrap_or_default()
}

fn dn_text(value: &DnValue) -> String {
    match value {
        DnValue::PrintableString(s) => s.to_string(),
        DnValue::Utf8String(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

/// Upstream's checks of a node agent's client certificate: the subject
/// `system:node:NAME` in exactly `system:nodes`, no names, client usages.
fn kubelet_client(
    parsed: &CertificateSigningRequestParams,
    usages: &[String],
) -> Result<(), String> {
    let subject = &parsed.params.distinguished_name;
    if organizations(subject) != ["system:nodes"] {
        return Err("subject organization is not system:nodes".to_string());
    }
    if !common_name(subject).starts_with("system:node:") {
        return Err("subject common name does not begin with system:node:".to_string());
    }
    if !parsed.params.subject_alt_names.is_empty() {
        return Err("DNS, email, IP or URI subjectAltNames are not allowed".to_string());
    }
    client_usages(usages)
}

/// The certificate's key usages and extended key usages from the request's
/// usage names; an unknown name is refused as upstream refuses it.
fn key_usages(
    usages: &[String],
) -> Result<(Vec<KeyUsagePurpose>, Vec<ExtendedKeyUsagePurpose>), String> {
    let mut key = Vec::new();
    let mut extended = Vec::new();
    let mut unrecognized = Vec::new();
    for usage in usages {
        match usage.as_str() {
            "signing" | "digital signature" => key.push(KeyUsagePurpose::DigitalSignature),
            "content commitment" => key.push(KeyUsagePurpose::ContentCommitment),
            "key encipherment" => key.push(KeyUsagePurpose::KeyEncipherment),
            "key agreement" => key.push(KeyUsagePurpose::KeyAgreement),
            "data encipherment" => key.push(KeyUsagePurpose::DataEncipherment),
            "cert sign" => key.push(KeyUsagePurpose::KeyCertSign),
            "crl sign" => key.push(KeyUsagePurpose::CrlSign),
            "encipher only" => key.push(KeyUsagePurpose::EncipherOnly),
            "decipher only" => key.push(KeyUsagePurpose::DecipherOnly),
            "any" => extended.push(ExtendedKeyUsagePurpose::Any),
            "server auth" => extended.push(ExtendedKeyUsagePurpose::ServerAuth),
            "client auth" => extended.push(ExtendedKeyUsagePurpose::ClientAuth),
            "code signing" => extended.push(ExtendedKeyUsagePurpose::CodeSigning),
            "email protection" | "s/mime" => {
                extended.push(ExtendedKeyUsagePurpose::EmailProtection)
            }
            "timestamping" => extended.push(ExtendedKeyUsagePurpose::TimeStamping),
            "ocsp signing" => extended.push(ExtendedKeyUsagePurpose::OcspSigning),
            other => unrecognized.push(other.to_string()),
        }
    }
    key.dedup();
    extended.dedup();
    match unrecognized.is_empty() {
        true => Ok((key, extended)),
        false => Err(format!("unrecognized usage values: {unrecognized:?}")),
    }
}

#[cfg(test)]
mod tests;
