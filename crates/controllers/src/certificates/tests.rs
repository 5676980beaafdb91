//! Table tests of the signer: what it signs, skips and fails, and what the
//! certificates it makes say.

use jiff::Timestamp;
use keelson_api::k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair};
use serde_json::json;
use x509_parser::prelude::*;

use super::*;

struct Ca {
    cert: String,
    key: String,
}

fn ca() -> Ca {
    let key = KeyPair::generate().expect("a key");
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "test-ca");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign];
    let cert = params.self_signed(&key).expect("a CA");
    Ca {
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

/// A PEM certificate request for `cn` in `org`, with `dns` names.
fn request(cn: &str, org: Option<&str>, dns: &[&str]) -> String {
    let key = KeyPair::generate().expect("a key");
    let mut params = CertificateParams::new(dns.iter().map(|d| d.to_string()).collect::<Vec<_>>())
        .expect("params");
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, cn);
    if let Some(org) = org {
        params
            .distinguished_name
            .push(DnType::OrganizationName, org);
    }
    params
        .serialize_request(&key)
        .expect("a request")
        .pem()
        .expect("pem")
}

fn csr(
    pem: &str,
    signer: &str,
    usages: &[&str],
    conditions: &[&str],
    expiration: Option<i32>,
) -> CertificateSigningRequest {
    let conditions: Vec<_> = conditions
        .iter()
        .map(|kind| json!({"type": kind, "status": "True", "reason": "Test", "message": "test"}))
        .collect();
    let mut object = json!({
        "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
        "metadata": {"name": "jane"},
        "spec": {"request": base64(pem), "signerName": signer, "usages": usages},
        "status": {"conditions": conditions}
    });
    if let Some(seconds) = expiration {
        object["spec"]["expirationSeconds"] = json!(seconds);
    }
    serde_json::from_value(object).expect("a CSR")
}

fn base64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn now() -> Timestamp {
    Timestamp::from_second(1_800_000_000).expect("a time")
}

#[test]
fn approved_client_requests_are_signed_with_the_cas_certificate() {
    let ca = ca();
    let signer =
        Signer::new(KUBE_APISERVER_CLIENT, &ca.cert, &ca.key, DEFAULT_DURATION).expect("a signer");
    let pem = request("jane", Some("dev"), &[]);
    let usages = ["digital signature", "key encipherment", "client auth"];
    let decision = signer.decide(
        &csr(
            &pem,
            KUBE_APISERVER_CLIENT,
            &usages,
            &["Approved"],
            Some(3600),
        ),
        now(),
    );
    let Decision::Sign(certificate) = decision else {
        panic!("not signed: {decision:?}");
    };
    let (_, block) = parse_x509_pem(certificate.as_bytes()).expect("PEM");
    let cert = block.parse_x509().expect("a certificate");
    assert_eq!(cert.subject().to_string(), "CN=jane, O=dev");
    assert_eq!(cert.issuer().to_string(), "CN=test-ca");
    assert_eq!(cert.validity().not_before.timestamp(), 1_800_000_000 - 300);
    // The request's hour, from the backdated start.
    assert_eq!(
        cert.validity().not_after.timestamp(),
        1_800_000_000 - 300 + 3600
    );
    let extended = cert
        .extended_key_usage()
        .expect("parsed")
        .expect("present")
        .value;
    assert!(extended.client_auth && !extended.server_auth);
    let constraints = cert.basic_constraints().expect("parsed");
    assert!(constraints.is_none_or(|c| !c.value.ca));
}

#[test]
fn the_signer_skips_what_is_not_its_own_and_fails_bad_usages() {
    let ca = ca();
    let signer =
        Signer::new(KUBE_APISERVER_CLIENT, &ca.cert, &ca.key, DEFAULT_DURATION).expect("a signer");
    let pem = request("jane", None, &[]);
    let client = ["client auth"];
    let cases: Vec<(CertificateSigningRequest, Option<&str>)> = vec![
        // Not approved, denied, failed, or another signer's: skipped.
        (csr(&pem, KUBE_APISERVER_CLIENT, &client, &[], None), None),
        (
            csr(&pem, KUBE_APISERVER_CLIENT, &client, &["Denied"], None),
            None,
        ),
        (
            csr(
                &pem,
                KUBE_APISERVER_CLIENT,
                &client,
                &["Approved", "Failed"],
                None,
            ),
            None,
        ),
        (
            csr(&pem, "example.com/other", &client, &["Approved"], None),
            None,
        ),
        // Usages a client certificate may not have.
        (
            csr(
                &pem,
                KUBE_APISERVER_CLIENT,
                &["client auth", "server auth"],
                &["Approved"],
                None,
            ),
            Some("invalid usage for client certificate: server auth"),
        ),
        (
            csr(
                &pem,
                KUBE_APISERVER_CLIENT,
                &["digital signature"],
                &["Approved"],
                None,
            ),
            Some("missing required usage for client certificate: client auth"),
        ),
    ];
    for (request, failure) in cases {
        let decision = signer.decide(&request, now());
        match failure {
            None => assert_eq!(decision, Decision::Skip),
            Some(message) => assert_eq!(
                decision,
                Decision::Fail {
                    reason: "SignerValidationFailure".to_string(),
                    message: message.to_string()
                }
            ),
        }
    }
    // A signed request is not signed again.
    let mut signed = csr(&pem, KUBE_APISERVER_CLIENT, &client, &["Approved"], None);
    if let Some(status) = signed.status.as_mut() {
        status.certificate = Some(keelson_api::k8s_openapi::ByteString(b"CERT".to_vec()));
    }
    assert_eq!(signer.decide(&signed, now()), Decision::Skip);
}

#[test]
fn kubelet_client_requests_must_name_a_node() {
    let ca = ca();
    let signer = Signer::new(
        KUBE_APISERVER_CLIENT_KUBELET,
        &ca.cert,
        &ca.key,
        DEFAULT_DURATION,
    )
    .expect("a signer");
    let usages = ["key encipherment", "digital signature", "client auth"];
    let decide = |pem: &str| {
        signer.decide(
            &csr(
                pem,
                KUBE_APISERVER_CLIENT_KUBELET,
                &usages,
                &["Approved"],
                None,
            ),
            now(),
        )
    };
    assert!(matches!(
        decide(&request("system:node:n1", Some("system:nodes"), &[])),
        Decision::Sign(_)
    ));
    let failed = |message: &str| Decision::Fail {
        reason: "SignerValidationFailure".to_string(),
        message: message.to_string(),
    };
    assert_eq!(
        decide(&request("system:node:n1", Some("admins"), &[])),
        failed("subject organization is not system:nodes")
    );
    assert_eq!(
        decide(&request("jane", Some("system:nodes"), &[])),
        failed("subject common name does not begin with system:node:")
    );
    assert_eq!(
        decide(&request(
            "system:node:n1",
            Some("system:nodes"),
            &["n1.example.com"]
        )),
        failed("DNS, email, IP or URI subjectAltNames are not allowed")
    );
}

#[test]
fn a_requested_duration_is_kept_within_ten_minutes_and_the_signers() {
    let ca = ca();
    let signer = Signer::new(
        KUBE_APISERVER_CLIENT,
        &ca.cert,
        &ca.key,
        std::time::Duration::from_secs(7200),
    )
    .expect("a signer");
    let pem = request("jane", None, &[]);
    for (asked, lasts) in [
        (None, 7200),
        (Some(60), 600),
        (Some(3600), 3600),
        (Some(86_400), 7200),
    ] {
        let decision = signer.decide(
            &csr(
                &pem,
                KUBE_APISERVER_CLIENT,
                &["client auth"],
                &["Approved"],
                asked,
            ),
            now(),
        );
        let Decision::Sign(certificate) = decision else {
            panic!("not signed: {decision:?}");
        };
        let (_, block) = parse_x509_pem(certificate.as_bytes()).expect("PEM");
        let cert = block.parse_x509().expect("a certificate");
        let validity = cert.validity();
        assert_eq!(
            validity.not_after.timestamp() - validity.not_before.timestamp(),
            lasts,
            "{asked:?}"
        );
    }
}

#[test]
fn kubelet_serving_requests_need_a_node_a_name_and_serving_usages() {
    let ca = ca();
    let signer =
        Signer::new(KUBELET_SERVING, &ca.cert, &ca.key, DEFAULT_DURATION).expect("a signer");
    let decide = |pem: &str, usages: &[&str]| {
        signer.decide(
            &csr(pem, KUBELET_SERVING, usages, &["Approved"], None),
            now(),
        )
    };
    let serving = ["key encipherment", "digital signature", "server auth"];
    let node = request("system:node:n1", Some("system:nodes"), &["n1.example.com"]);
    let Decision::Sign(pem) = decide(&node, &serving) else {
        panic!("a node's serving request is signed");
    };
    let (_, parsed) = parse_x509_pem(pem.as_bytes()).expect("PEM");
    let cert = parsed.parse_x509().expect("a certificate");
    let extended = cert
        .extended_key_usage()
        .expect("extensions")
        .expect("extended key usage");
    assert!(extended.value.server_auth && !extended.value.client_auth);
    // Without RSA's key encipherment too, as upstream.
    assert!(matches!(
        decide(&node, &["digital signature", "server auth"]),
        Decision::Sign(_)
    ));
    let failed = |message: &str| Decision::Fail {
        reason: "SignerValidationFailure".to_string(),
        message: message.to_string(),
    };
    assert_eq!(
        decide(
            &request("system:node:n1", Some("system:nodes"), &[]),
            &serving
        ),
        failed("DNS or IP subjectAltName is required")
    );
    assert_eq!(
        decide(
            &request("system:node:n1", Some("admins"), &["n1"]),
            &serving
        ),
        failed("subject organization is not system:nodes")
    );
    assert_eq!(
        decide(&node, &["digital signature", "client auth"]),
        failed("usages did not match [digital signature key encipherment server auth]")
    );
    assert_eq!(
        decide(&request("jane", Some("system:nodes"), &["n1"]), &serving),
        failed("subject common name does not begin with system:node:")
    );
}
