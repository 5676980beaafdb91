//! The controllers `keelson up` runs beside its API server, through the
//! real kubectl: every namespace gets its `default` ServiceAccount (made
//! again when deleted) and the `kube-root-ca.crt` ConfigMap, and a new
//! user is added the upstream way: a CertificateSigningRequest, `kubectl
//! certificate approve`, and the signed certificate in a kubeconfig.

mod support;

use std::time::Duration;

use base64::Engine;
use support::{Server, eventually};

#[test]
fn namespaces_get_their_service_account_and_root_ca() {
    let server = Server::start();
    server.ok(&["create", "namespace", "team"]);
    let account = eventually(
        &server,
        &[
            "get",
            "serviceaccount",
            "default",
            "-n",
            "team",
            "-o",
            "name",
        ],
    );
    assert_eq!(account.trim(), "serviceaccount/default");
    let bundle = eventually(
        &server,
        &[
            "get",
            "configmap",
            "kube-root-ca.crt",
            "-n",
            "team",
            "-o",
            "jsonpath={.data.ca\\.crt}",
        ],
    );
    let kubeconfig = std::fs::read_to_string(server.kubeconfig()).expect("the kubeconfig");
    let ca = kubeconfig
        .lines()
        .find_map(|l| l.trim().strip_prefix("certificate-authority-data:"))
        .map(|data| {
            base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .expect("base64")
        })
        .expect("the kubeconfig's CA");
    assert_eq!(bundle.trim(), String::from_utf8_lossy(&ca).trim());
    // Deleted, it comes back.
    let uid = server.ok(&[
        "get",
        "sa",
        "default",
        "-n",
        "team",
        "-o",
        "jsonpath={.metadata.uid}",
    ]);
    server.ok(&["delete", "sa", "default", "-n", "team"]);
    for _ in 0..100 {
        let again = server.kubectl(&[
            "get",
            "sa",
            "default",
            "-n",
            "team",
            "-o",
            "jsonpath={.metadata.uid}",
        ]);
        if again.status.success() && !again.stdout.trim().is_empty() && again.stdout != uid {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the default ServiceAccount was not made again");
}

#[test]
fn a_user_is_added_through_an_approved_certificate_request() {
    let server = Server::start();
    let key = rcgen::KeyPair::generate().expect("a key");
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "jane");
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "dev");
    let request = params
        .serialize_request(&key)
        .expect("a request")
        .pem()
        .expect("PEM");
    let encode = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let manifest = server.manifest(
        "csr.yaml",
        &format!(
            "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata:\n  name: jane\nspec:\n  request: {}\n  signerName: kubernetes.io/kube-apiserver-client\n  expirationSeconds: 86400\n  usages:\n  - client auth\n",
            encode(&request)
        ),
    );
    server.ok(&["apply", "-f", &manifest]);
    server.ok(&["certificate", "approve", "jane"]);
    let certificate = eventually(
        &server,
        &["get", "csr", "jane", "-o", "jsonpath={.status.certificate}"],
    );
    let admin = std::fs::read_to_string(server.kubeconfig()).expect("the kubeconfig");
    let jane: String = admin
        .lines()
        .map(|line| {
            let indent = &line[..line.len() - line.trim_start().len()];
            if line.trim().starts_with("client-certificate-data:") {
                format!("{indent}client-certificate-data: {}", certificate.trim())
            } else if line.trim().starts_with("client-key-data:") {
                format!("{indent}client-key-data: {}", encode(&key.serialize_pem()))
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = server.manifest("jane.kubeconfig", &jane);
    server.prints(
        &[
            "--kubeconfig",
            &path,
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}",
        ],
        "jane",
    );
    let groups = server.ok(&[
        "--kubeconfig",
        &path,
        "auth",
        "whoami",
        "-o",
        "jsonpath={.status.userInfo.groups}",
    ]);
    assert!(groups.contains("dev"), "{groups}");
    // What jane has not been given is refused with upstream's message.
    let refused = server.kubectl(&["--kubeconfig", &path, "get", "secrets"]);
    assert!(
        refused
            .stderr
            .contains(r#"User "jane" cannot list resource "secrets""#),
        "{refused}"
    );
}

#[test]
fn a_replica_set_gets_its_pods_from_the_controller() {
    let server = Server::start();
    let manifest = server.manifest(
        "rs.yaml",
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.27\n",
    );
    server.ok(&["apply", "-f", &manifest]);
    for _ in 0..100 {
        let replicas = server.ok(&["get", "rs", "web", "-o", "jsonpath={.status.replicas}"]);
        if replicas.trim() == "2" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let pods = server.ok(&["get", "pods", "-l", "app=web", "-o", "name"]);
    assert_eq!(pods.lines().count(), 2, "{pods}");
    assert!(pods.lines().all(|p| p.starts_with("pod/web-")), "{pods}");
    let owners = server.ok(&[
        "get",
        "pods",
        "-l",
        "app=web",
        "-o",
        "jsonpath={.items[*].metadata.ownerReferences[0].name}",
    ]);
    assert_eq!(owners.trim(), "web web");
    let reasons = eventually(
        &server,
        &["get", "events", "-o", "jsonpath={.items[*].reason}"],
    );
    assert!(reasons.contains("SuccessfulCreate"), "{reasons}");
    // Scaled to one: one pod is deleted (and, with no node agent to end it,
    // stays terminating through its grace period), and the status counts one.
    server.ok(&["scale", "rs", "web", "--replicas=1"]);
    for _ in 0..100 {
        let replicas = server.ok(&["get", "rs", "web", "-o", "jsonpath={.status.replicas}"]);
        if replicas.trim() == "1" {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the ReplicaSet did not count one replica");
}
