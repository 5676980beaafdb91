//! `keelson up` serves TLS by default: a plain HTTP request gets no
//! answer, the serving certificate verifies against the kubeconfig's CA
//! for every name and address a client may use, kubectl and kube-rs verify
//! the server, the private keys are for their owner only, and a restart
//! keeps the CA (and makes a new serving certificate when the listen
//! address changes). Plain HTTP only with `--insecure-serve-plain-http`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use keelson_harness::keelson::KeelsonProcess;
use keelson_harness::kubectl::Kubectl;
use keelson_harness::net::{http_get, https_get};
use keelson_harness::tls::{client_config, wrap};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What every client of the server may call it.
const SERVING_NAMES: [&str; 7] = [
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "127.0.0.1",
    // The `kubernetes` Service's cluster IP, the first of 10.96.0.0/12.
    "10.96.0.1",
];

async fn start(data_dir: &Path, args: &[&str]) -> KeelsonProcess {
    KeelsonProcess::builder(env!("CARGO_BIN_EXE_keelson"), "up")
        .data_dir(data_dir)
        .args(args.iter().copied())
        .start()
        .await
        .unwrap_or_else(|err| panic!("keelson up did not start: {err}"))
}

/// The kubeconfig's CA, written to a file of its own.
fn kubeconfig_ca(kubeconfig: &Path, into: &Path) -> std::path::PathBuf {
    let config = kube::config::Kubeconfig::read_from(kubeconfig).expect("a kubeconfig");
    let cluster = config.clusters[0].cluster.as_ref().expect("a cluster");
    let data = cluster
        .certificate_authority_data
        .as_ref()
        .expect("the kubeconfig carries the CA");
    let pem = base64::engine::general_purpose::STANDARD
        .decode(data)
        .expect("base64");
    let path = into.join("kubeconfig-ca.crt");
    std::fs::write(&path, pem).expect("the temp dir is writable");
    path
}

/// `GET /readyz` over TLS to `address`, verifying the server as `name`.
async fn readyz_as(
    address: SocketAddr,
    name: &str,
    config: &Arc<rustls::ClientConfig>,
) -> Result<String, String> {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(|err| err.to_string())?;
    let name = ServerName::try_from(name.to_string()).map_err(|err| err.to_string())?;
    let mut stream = wrap(stream, name, config)
        .await
        .map_err(|err| err.to_string())?;
    let request = b"GET /readyz HTTP/1.1\r\nHost: k\r\nConnection: close\r\n\r\n";
    stream
        .write_all(request)
        .await
        .map_err(|err| err.to_string())?;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    Ok(String::from_utf8_lossy(&answer).to_string())
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keelson_up_serves_only_tls_that_verifies_for_every_name() {
    let root = tempfile::tempdir().expect("a temp dir");
    let server = start(&root.path().join("data"), &[]).await;
    let address = server.address();
    assert!(server.url().starts_with("https://"), "{}", server.url());

    assert_eq!(
        http_get(address, "/readyz").await,
        None,
        "a plain HTTP request gets no HTTP answer"
    );

    let ca = kubeconfig_ca(&server.kubeconfig(), root.path());
    let config = client_config(&ca, None, &[b"http/1.1"]).expect("the CA is usable");
    for name in SERVING_NAMES {
        let answer = readyz_as(address, name, &config).await;
        assert!(
            answer.as_ref().is_ok_and(|a| a.starts_with("HTTP/1.1 200")),
            "{name}: {answer:?}"
        );
    }
    let other = readyz_as(address, "example.com", &config).await;
    assert!(other.is_err(), "a name not in the certificate: {other:?}");
    // Another CA does not verify the server.
    let stranger = tempfile::tempdir().expect("a temp dir");
    let other_server = start(&stranger.path().join("data"), &[]).await;
    let other_ca = client_config(&other_server.server_ca(), None, &[]).expect("a CA");
    assert_eq!(https_get(address, "/readyz", &other_ca).await, None);
    drop(other_server);

    let kubeconfig = std::fs::read_to_string(server.kubeconfig()).expect("a kubeconfig");
    assert!(!kubeconfig.contains("insecure"), "{kubeconfig}");
    assert!(
        kubeconfig.contains("client-certificate-data"),
        "{kubeconfig}"
    );
    assert_eq!(mode(&server.kubeconfig()), 0o600);
    let pki = server.data_dir().join("pki");
    for key in ["ca.key", "apiserver.key", "admin.key"] {
        assert_eq!(mode(&pki.join(key)), 0o600, "{key}");
    }
    assert_eq!(mode(&pki), 0o700);

    // kube-rs, from the kubeconfig, verifying the server.
    let options = kube::config::KubeConfigOptions::default();
    let kubeconfig_file = kube::config::Kubeconfig::read_from(server.kubeconfig()).expect("read");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig_file, &options)
        .await
        .expect("a kube config");
    assert!(!config.accept_invalid_certs);
    let client = kube::Client::try_from(config).expect("a kube client");
    let namespaces: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(client);
    let list = namespaces
        .list(&Default::default())
        .await
        .expect("kube-rs lists namespaces over TLS");
    assert!(
        list.items
            .iter()
            .any(|ns| ns.metadata.name.as_deref() == Some("default"))
    );

    // kubectl, from the kubeconfig, verifying the server (over HTTP/2).
    let kubectl = Kubectl::new(server.kubeconfig(), root.path()).expect("kubectl");
    let run = kubectl
        .run("get namespace default -o name")
        .expect("kubectl runs");
    assert!(run.status.success(), "{run}");
    assert_eq!(run.stdout.trim(), "namespace/default", "{run}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_the_certificates_and_a_new_address_gets_a_new_serving_one() {
    let root = tempfile::tempdir().expect("a temp dir");
    let data = root.path().join("data");
    let pki = data.join("pki");
    let read = |file: &str| std::fs::read(pki.join(file)).expect("a certificate file");
    let mut server = start(&data, &[]).await;
    let (ca, serving, admin) = (read("ca.crt"), read("apiserver.crt"), read("admin.crt"));
    server.restart().await.expect("keelson up restarts");
    assert_eq!(read("ca.crt"), ca);
    assert_eq!(read("apiserver.crt"), serving);
    assert_eq!(read("admin.crt"), admin);
    server.terminate().await.expect("keelson up stops");
    drop(server);

    // Another loopback address: the old serving certificate does not name it.
    let port = keelson_harness::net::free_loopback_address()
        .expect("a free port")
        .port();
    let elsewhere = SocketAddr::from(([127, 0, 0, 2], port));
    let server = KeelsonProcess::builder(env!("CARGO_BIN_EXE_keelson"), "up")
        .data_dir(&data)
        .listen(elsewhere)
        .start()
        .await
        .unwrap_or_else(|err| panic!("keelson up did not start on {elsewhere}: {err}"));
    assert_eq!(read("ca.crt"), ca);
    assert_ne!(read("apiserver.crt"), serving);
    let config = client_config(&pki.join("ca.crt"), None, &[]).expect("the CA is usable");
    let answer = https_get(elsewhere, "/readyz", &config).await;
    assert_eq!(answer.map(|a| a.status), Some(200));
    assert!(
        server.log().contains("https://127.0.0.2"),
        "{}",
        server.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_is_served_only_behind_the_insecure_flag() {
    let root = tempfile::tempdir().expect("a temp dir");
    let server = start(&root.path().join("data"), &["--insecure-serve-plain-http"]).await;
    assert!(server.url().starts_with("http://"), "{}", server.url());
    let answer = http_get(server.address(), "/readyz").await;
    assert_eq!(answer.map(|a| a.status), Some(200));
    let kubeconfig = std::fs::read_to_string(server.kubeconfig()).expect("a kubeconfig");
    assert!(
        kubeconfig.contains(&format!("server: http://{}", server.address())),
        "{kubeconfig}"
    );
    assert!(server.log().contains("insecure"), "{}", server.log());
    assert!(!server.data_dir().join("pki").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn given_certificate_files_are_served_and_the_kubeconfig_trusts_them() {
    // Certificates made by another keelson stand in for an outside CA's.
    let root = tempfile::tempdir().expect("a temp dir");
    let outside = start(&root.path().join("outside"), &[]).await;
    let outside_pki = outside.data_dir().join("pki");
    drop(outside);
    // The serving certificate with its chain up to the CA, as a client
    // needs it.
    let cert = root.path().join("chain.crt");
    let chain = [
        std::fs::read(outside_pki.join("apiserver.crt")).expect("a certificate"),
        std::fs::read(outside_pki.join("ca.crt")).expect("a certificate"),
    ]
    .concat();
    std::fs::write(&cert, chain).expect("the temp dir is writable");
    let key = outside_pki.join("apiserver.key");
    let server = KeelsonProcess::builder(env!("CARGO_BIN_EXE_keelson"), "up")
        .data_dir(root.path().join("data"))
        .arg("--tls-cert-file")
        .arg(&cert)
        .arg("--tls-private-key-file")
        .arg(&key)
        .arg("--client-ca-file")
        .arg(outside_pki.join("ca.crt"))
        .server_ca(outside_pki.join("ca.crt"))
        .start()
        .await
        .unwrap_or_else(|err| panic!("keelson up did not start: {err}"));
    let own = client_config(&server.data_dir().join("pki/ca.crt"), None, &[]).expect("a CA");
    assert_eq!(https_get(server.address(), "/readyz", &own).await, None);
    // Client certificates of the given client CA verify, and so do the
    // cluster CA's (the kubeconfig's admin).
    for pki in [outside_pki.clone(), server.data_dir().join("pki")] {
        let (cert, key) = (pki.join("admin.crt"), pki.join("admin.key"));
        let identity = keelson_harness::tls::Identity {
            cert: &cert,
            key: &key,
        };
        let config = client_config(&outside_pki.join("ca.crt"), Some(identity), &[])
            .expect("a client configuration");
        let answer = https_get(server.address(), "/readyz", &config).await;
        assert_eq!(answer.map(|a| a.status), Some(200), "{}", pki.display());
    }
    // The kubeconfig trusts the given certificate.
    let kubectl = Kubectl::new(server.kubeconfig(), root.path()).expect("kubectl");
    let run = kubectl
        .run("get namespace default -o name")
        .expect("kubectl runs");
    assert!(run.status.success(), "{run}");
}
