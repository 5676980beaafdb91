//! CertificateSigningRequests through the real kubectl against `keelson
//! up`: a request created with a real PEM CSR is pending, `kubectl
//! certificate approve` approves it, `kubectl certificate deny` denies
//! another, and `kubectl get csr` shows who asked and where each stands.
//!
//! kubectl is a required tool here: when it is missing the tests fail with
//! instructions, they never skip.

mod support;

use support::{Server, header, row};

/// A CertificateSigningRequest manifest named `name` with a fresh key's
/// PEM request.
fn manifest(name: &str) -> String {
    let key = rcgen::KeyPair::generate().expect("a key");
    let params = rcgen::CertificateParams::new(vec![format!("{name}.example")]).expect("params");
    let pem = params
        .serialize_request(&key)
        .expect("a CSR")
        .pem()
        .expect("PEM");
    let request = serde_json::to_value(k8s_openapi::ByteString(pem.into_bytes())).expect("base64");
    let request = request.as_str().expect("a base64 string");
    format!(
        "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata:\n  name: {name}\nspec:\n  request: {request}\n  signerName: example.com/client\n  expirationSeconds: 86400\n  usages:\n  - digital signature\n  - client auth\n"
    )
}

#[test]
fn kubectl_certificate_approve_and_deny() {
    let server = Server::start();
    for name in ["alice", "bob"] {
        let file = server.manifest(&format!("{name}.yaml"), &manifest(name));
        let out = server.ok(&["create", "-f", &file]);
        assert!(
            out.contains(&format!(
                "certificatesigningrequest.certificates.k8s.io/{name} created"
            )),
            "{out}"
        );
    }
    let table = server.ok(&["get", "csr"]);
    assert_eq!(
        header(&table),
        [
            "NAME",
            "AGE",
            "SIGNERNAME",
            "REQUESTOR",
            "REQUESTEDDURATION",
            "CONDITION"
        ]
    );
    let alice = row(&table, "alice");
    assert_eq!(alice[2], "example.com/client", "{table}");
    assert!(!alice[3].is_empty(), "{table}");
    assert_eq!((alice[4], alice[5]), ("24h", "Pending"), "{table}");

    let out = server.ok(&["certificate", "approve", "alice"]);
    assert!(
        out.contains("certificatesigningrequest.certificates.k8s.io/alice approved"),
        "{out}"
    );
    let out = server.ok(&["certificate", "deny", "bob"]);
    assert!(
        out.contains("certificatesigningrequest.certificates.k8s.io/bob denied"),
        "{out}"
    );
    let table = server.ok(&["get", "csr"]);
    assert_eq!(row(&table, "alice")[5], "Approved", "{table}");
    assert_eq!(row(&table, "bob")[5], "Denied", "{table}");

    // kubectl reads the approval back and refuses to deny it.
    let refused = server.kubectl(&["certificate", "deny", "alice"]);
    assert!(!refused.status.success(), "{refused}");
    assert!(
        refused.stderr.contains("\"alice\" is already Approved"),
        "{refused}"
    );
}
