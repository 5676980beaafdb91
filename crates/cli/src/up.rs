//! `keelson up` and `keelson apiserver`: the API server on the embedded
//! store (or etcd), with an admin kubeconfig beside its data. It serves
//! TLS with the cluster's certificates ([`crate::pki`]), and plain HTTP
//! only when `--insecure-serve-plain-http` says so.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

/// Options of `keelson up` and `keelson apiserver`.
#[derive(clap::Args, Debug)]
pub struct UpArgs {
    /// Where keelson keeps its data and writes `kubeconfig`.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Address to serve the API on.
    #[arg(long, default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
    /// The store: `embedded` (in the data dir) or `etcd://HOST:PORT[,HOST:PORT]`.
    #[arg(long, default_value = "embedded")]
    store: String,
    /// The range Services' cluster IPs come from (an IPv4 CIDR).
    #[arg(long, default_value = "10.96.0.0/12")]
    service_cluster_ip_range: ipnet::Ipv4Net,
    /// The range Services' node ports come from (`FIRST-LAST`).
    #[arg(long, default_value = "30000-32767", value_parser = port_range)]
    service_node_port_range: std::ops::RangeInclusive<u16>,
    /// Admission plugins to leave out of the default chain
    /// (`NamespaceLifecycle`, `ServiceAccount`, `Priority`, ...).
    #[arg(long, value_delimiter = ',')]
    disable_admission_plugins: Vec<String>,
    /// How long a request other than a watch may take before it is
    /// answered 504 Timeout: `1m0s`, `30s`.
    #[arg(long, default_value = "1m0s", value_parser = duration)]
    request_timeout: Duration,
    /// How long a client may take to send a request's headers, from
    /// connecting (from the request's first byte on a kept-alive
    /// connection): `32s`, `1m30s`, `500ms`.
    #[arg(long, default_value = "32s", value_parser = duration)]
    read_header_timeout: Duration,
    /// How long a connection with no request in flight is kept open for
    /// the next request (a watch is a request in flight).
    #[arg(long, default_value = "90s", value_parser = duration)]
    idle_timeout: Duration,
    /// The most connections open at once, lowered to what the open-files
    /// limit leaves room for. At the cap the connection idle longest is
    /// closed for a new one; when none is idle, new ones are answered 429.
    #[arg(long, default_value = "10000", value_parser = positive)]
    max_connections: usize,
    /// The PKCS#8 PEM P-256 key that signs ServiceAccount tokens (default:
    /// `service-account.key` in the data dir, made on first start).
    #[arg(long)]
    service_account_signing_key_file: Option<PathBuf>,
    /// The issuer (`iss`) of ServiceAccount tokens.
    #[arg(long, default_value = keelson_apiserver::DEFAULT_ISSUER)]
    service_account_issuer: String,
    /// The audiences of tokens that name none (default: the issuer).
    #[arg(long, value_delimiter = ',')]
    api_audiences: Vec<String>,
    /// A file of static bearer tokens, one `token,user,uid,"group1,group2"`
    /// a line.
    #[arg(long)]
    token_auth_file: Option<PathBuf>,
    /// Whether requests without credentials are served as
    /// `system:anonymous` (`--anonymous-auth=false` answers them 401).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    anonymous_auth: Option<bool>,
    /// `Node,RBAC` (the default: node agents by the Node authorizer and
    /// NodeRestriction, everyone else by RBAC), `RBAC` or `AlwaysAllow`.
    /// On plain HTTP
    /// (`--insecure-serve-plain-http`) authentication and authorization
    /// are off unless this or another of their flags is given.
    #[arg(long, value_parser = authorization_mode)]
    authorization_mode: Option<keelson_apiserver::auth::AuthorizationMode>,
    /// An EncryptionConfiguration (apiserver.config.k8s.io/v1) for the
    /// resources to encrypt at rest. Without it, Secrets are encrypted
    /// with the key in `DATA_DIR/encryption-config.yaml`, made on first
    /// start; servers sharing one etcd need the same file.
    #[arg(long)]
    encryption_provider_config: Option<PathBuf>,
    /// Write the audit log here (JSON lines; `-` for standard output).
    #[arg(long)]
    audit_log_path: Option<PathBuf>,
    /// The audit Policy (audit.k8s.io/v1) for the log. Without it,
    /// `DATA_DIR/audit-policy.yaml` is used, made on first use: every
    /// request at Metadata, no bodies, health probes left out.
    #[arg(long)]
    audit_policy_file: Option<PathBuf>,
    /// The serving certificate (PEM, its intermediates after it) instead
    /// of the one made with the cluster's CA in `DATA_DIR/pki`.
    #[arg(long, requires = "tls_private_key_file")]
    tls_cert_file: Option<PathBuf>,
    /// The private key of `--tls-cert-file` (PEM).
    #[arg(long, requires = "tls_cert_file")]
    tls_private_key_file: Option<PathBuf>,
    /// More CAs (PEM) to verify client certificates against, beside the
    /// cluster's CA (which signs the kubeconfig's admin certificate).
    #[arg(long)]
    client_ca_file: Option<PathBuf>,
    /// Serve plain HTTP instead of TLS: INSECURE, anyone who can reach the
    /// address reads and writes everything, unencrypted. For tests of
    /// plain HTTP itself.
    #[arg(long, conflicts_with_all = ["tls_cert_file", "tls_private_key_file", "client_ca_file"])]
    insecure_serve_plain_http: bool,
    /// The controllers to run in this process, as kube-controller-manager's
    /// `--controllers`: `*` (all, the default), `NAME`, `-NAME`, comma
    /// separated; an empty list (`--controllers=`) runs none, for a
    /// separate `keelson controller-manager`.
    #[arg(long, default_value = "*")]
    controllers: keelson_controllers::selection::Selection,
    /// Run the scheduler in this process, as an API client with
    /// `DATA_DIR/scheduler.kubeconfig`; `--scheduler=false` leaves
    /// scheduling to a separate `keelson scheduler`.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true")]
    scheduler: bool,
    /// A `KubeSchedulerConfiguration` (YAML) for that scheduler.
    #[arg(long)]
    scheduler_config: Option<PathBuf>,
}

fn authorization_mode(text: &str) -> Result<keelson_apiserver::auth::AuthorizationMode, String> {
    text.trim().parse()
}

/// Authentication and authorization as the flags ask: on by default with
/// the Node authorizer and RBAC, as upstream's installers set it up; off only on plain HTTP (`--insecure-serve-plain-http`)
/// when no flag of theirs is given.
fn auth_config(args: &UpArgs) -> anyhow::Result<Option<keelson_apiserver::auth::AuthConfig>> {
    let asked = args.token_auth_file.is_some()
        || args.anonymous_auth.is_some()
        || args.authorization_mode.is_some();
    if args.insecure_serve_plain_http && !asked {
        return Ok(None);
    }
    let tokens = match &args.token_auth_file {
        Some(path) => keelson_apiserver::auth::TokenFile::load(path)?,
        None => keelson_apiserver::auth::TokenFile::default(),
    };
    Ok(Some(keelson_apiserver::auth::AuthConfig {
        anonymous: args.anonymous_auth.unwrap_or(true),
        tokens,
        mode: args
            .authorization_mode
            .unwrap_or(keelson_apiserver::auth::AuthorizationMode::NodeRbac),
    }))
}

/// Parses a duration as upstream's flags write them (Go's syntax: `1m30s`,
/// `500ms`); zero is refused.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    let total = keelson_apiserver::parse_go_duration(text.trim())
        .ok_or_else(|| format!("{text:?} is not a duration such as 32s, 1m30s or 500ms"))?;
    match total.is_zero() {
        true => Err(format!("{text:?}: a timeout must be longer than zero")),
        false => Ok(total),
    }
}

/// Parses a count of at least one.
fn positive(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(count) if count > 0 => Ok(count),
        _ => Err(format!("{text:?} is not a whole number of at least 1")),
    }
}

/// Parses `FIRST-LAST` (a single port is a range of one).
fn port_range(text: &str) -> Result<std::ops::RangeInclusive<u16>, String> {
    let (first, last) = text.split_once('-').unwrap_or((text, text));
    let port = |p: &str| {
        p.trim()
            .parse::<u16>()
            .map_err(|_| format!("{text:?} is not a port range such as 30000-32767"))
    };
    let (first, last) = (port(first)?, port(last)?);
    if first > last {
        return Err(format!("{text:?} ends before it starts"));
    }
    Ok(first..=last)
}

/// The per-user default data directory.
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("keelson");
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => PathBuf::from(home).join(".local/share/keelson"),
        None => PathBuf::from(".keelson"),
    }
}

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    let connections = connection_limits(&args);
    let args_tokens = TokenArgs {
        key_file: args.service_account_signing_key_file.clone(),
        issuer: args.service_account_issuer.clone(),
        audiences: args.api_audiences.clone(),
    };
    let auth = auth_config(&args)?;
    let data_dir = args.data_dir.unwrap_or_else(default_data_dir);
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    // The store holds Secrets: only its owner may read the data dir.
    set_mode(&data_dir, 0o700)?;
    let (encryption, encryption_file) =
        crate::at_rest::config(args.encryption_provider_config.as_deref(), &data_dir)?;
    let audit = crate::audit_files::config(
        args.audit_policy_file.as_deref(),
        args.audit_log_path.as_deref(),
        &data_dir,
    )?;
    let url = match args.store.as_str() {
        "embedded" => format!("embedded:{}", data_dir.join("store").display()),
        other => other.to_string(),
    };
    let store = keelson_store::open(&url)
        .await
        .with_context(|| format!("cannot open the store {url}"))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    let known = keelson_apiserver::admission_plugins();
    if let Some(unknown) = args
        .disable_admission_plugins
        .iter()
        .find(|name| !known.contains(&name.as_str()))
    {
        anyhow::bail!(
            "admission plugin {unknown:?} is not known; the plugins are {}",
            known.join(", ")
        );
    }
    let ranges = keelson_apiserver::Ranges {
        cluster_ips: args.service_cluster_ip_range,
        node_ports: args.service_node_port_range,
    };
    let pki = match args.insecure_serve_plain_http {
        true => None,
        false => {
            let names =
                crate::pki::serving_names(address.ip(), ranges.kubernetes_service_ip().into());
            let overrides = crate::pki::Overrides {
                cert_file: args.tls_cert_file,
                key_file: args.tls_private_key_file,
                client_ca_file: args.client_ca_file,
            };
            Some(crate::pki::ensure(&data_dir, &names, &overrides)?)
        }
    };
    let config = keelson_apiserver::Config {
        ranges,
        disabled_admission: args.disable_admission_plugins,
        request_timeout: Some(args.request_timeout),
        connections,
        service_account_tokens: Some(service_account_tokens(&args_tokens, &data_dir)?),
        auth,
        encryption: Some(encryption),
        audit: audit.as_ref().map(|(audit, _)| audit.clone()),
        tls: pki.as_ref().map(|pki| pki.serving.clone()),
    };
    keelson_apiserver::bootstrap_with(store.clone(), &config)
        .await
        .map_err(|err| anyhow::anyhow!("cannot create the initial namespaces: {err}"))?;
    let kubeconfig = write_kubeconfig(&data_dir, address, pki.as_ref())?;
    let scheme = match pki {
        Some(_) => "https",
        None => {
            eprintln!(
                "warning: serving plain HTTP (--insecure-serve-plain-http): \
                 anyone who can reach {address} can read and change everything"
            );
            "http"
        }
    };
    eprintln!("keelson is serving the Kubernetes API on {scheme}://{address}");
    eprintln!("kubeconfig: {}", kubeconfig.display());
    if let Some(auth) = &config.auth {
        eprintln!(
            "authentication: {} tokens, anonymous requests {}; authorization: {}",
            auth.tokens.len(),
            if auth.anonymous { "allowed" } else { "refused" },
            auth.mode
        );
    }
    eprintln!("encryption at rest: {}", encryption_file.display());
    if let (Some((_, policy)), Some(log)) = (&audit, &args.audit_log_path) {
        eprintln!("audit log: {} (policy {})", log.display(), policy.display());
    }
    // The controllers run beside the server as its clients, over HTTPS
    // with the controller manager's identity.
    let controllers = match (&pki, config.auth.is_some() && args.controllers.any()) {
        (Some(pki), true) => Some(tokio::spawn(run_controllers(
            data_dir.clone(),
            pki.server_ca_pem.clone(),
            args.controllers.clone(),
        ))),
        _ => None,
    };
    let scheduler = match (&pki, config.auth.is_some() && args.scheduler) {
        (Some(_), true) => {
            let scheduler_config = crate::scheduler::configuration(args.scheduler_config.as_ref())?;
            Some(tokio::spawn(run_scheduler(
                data_dir.clone(),
                scheduler_config,
            )))
        }
        _ => None,
    };
    keelson_apiserver::serve_with(listener, store, config, shutdown_signal()).await?;
    for task in [controllers, scheduler].into_iter().flatten() {
        task.abort();
    }
    eprintln!("keelson stopped");
    Ok(())
}

/// Runs the controller manager's controllers in this process, as an API
/// client with `DATA_DIR/controller-manager.kubeconfig`; the cluster CA in
/// `DATA_DIR/pki` signs approved certificate requests. A failure is told
/// and leaves the server serving.
async fn run_controllers(
    data_dir: PathBuf,
    ca_bundle: String,
    controllers: keelson_controllers::selection::Selection,
) {
    let started = async {
        let path = data_dir.join("controller-manager.kubeconfig");
        let kubeconfig = kube::config::Kubeconfig::read_from(&path)?;
        let options = kube::config::KubeConfigOptions::default();
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options).await?;
        let pki = data_dir.join("pki");
        let signing_ca = match (
            std::fs::read_to_string(pki.join("ca.crt")),
            std::fs::read_to_string(pki.join("ca.key")),
        ) {
            (Ok(cert), Ok(key)) => Some((cert, key)),
            _ => None,
        };
        keelson_controllers::manager::run(keelson_controllers::manager::ManagerConfig {
            config,
            ca_bundle,
            signing_ca,
            token_dir: data_dir.join("controller-tokens"),
            controllers,
        })
        .await
    };
    if let Err(err) = started.await {
        eprintln!("warning: the controllers stopped: {err:#}");
    }
}

/// Runs the scheduler in this process, as an API client with
/// `DATA_DIR/scheduler.kubeconfig`. A failure is told and leaves the
/// server serving.
async fn run_scheduler(
    data_dir: PathBuf,
    config: keelson_scheduler::config::SchedulerConfiguration,
) {
    let started = async {
        let path = data_dir.join("scheduler.kubeconfig");
        let kubeconfig = kube::config::Kubeconfig::read_from(&path)?;
        let options = kube::config::KubeConfigOptions::default();
        let client_config = kube::Config::from_custom_kubeconfig(kubeconfig, &options).await?;
        let client = kube::Client::try_from(client_config)?;
        let registry = keelson_scheduler::plugins::in_tree();
        let scheduler = keelson_scheduler::scheduler::Scheduler::new(client, &config, &registry)?;
        scheduler.run(std::future::pending()).await?;
        anyhow::Ok(())
    };
    if let Err(err) = started.await {
        eprintln!("warning: the scheduler stopped: {err:#}");
    }
}

/// The connections' limits the flags ask for, with the open-files limit
/// raised first and the cap kept within it.
fn connection_limits(args: &UpArgs) -> keelson_apiserver::ConnectionLimits {
    let mut max_connections = args.max_connections;
    match crate::open_files::raise() {
        Ok(open_files) => {
            max_connections = crate::open_files::connection_cap(max_connections, open_files);
            if max_connections < args.max_connections {
                eprintln!(
                    "keelson serves at most {max_connections} connections at once: \
                     the open-files limit is {open_files}"
                );
            }
        }
        Err(err) => eprintln!("warning: {err:#}"),
    }
    keelson_apiserver::ConnectionLimits {
        read_header_timeout: args.read_header_timeout,
        idle_timeout: args.idle_timeout,
        max_connections,
    }
}

/// Writes `DIR/kubeconfig` for an admin user of the server at `address`:
/// with `pki`, an `https` server verified with its CA and the admin's
/// client certificate; without, plain `http` and no credentials.
fn write_kubeconfig(
    data_dir: &Path,
    address: SocketAddr,
    pki: Option<&crate::pki::Pki>,
) -> anyhow::Result<PathBuf> {
    if let Some(pki) = pki {
        // Each component's own identity, for when it runs apart.
        for (name, cert, key) in &pki.components {
            let path = data_dir.join(format!("{name}.kubeconfig"));
            let credentials = Some((cert.as_str(), key.as_str()));
            write_private(&path, &kubeconfig(address, pki, credentials, name))?;
        }
    }
    let path = data_dir.join("kubeconfig");
    let credentials = pki.map(|pki| (pki.admin_cert_pem.as_str(), pki.admin_key_pem.as_str()));
    let config = match pki {
        Some(pki) => kubeconfig(address, pki, credentials, "admin"),
        None => plain_kubeconfig(address),
    };
    write_private(&path, &config)?;
    Ok(path)
}

/// A kubeconfig for the server at `address` that trusts its CA and
/// presents `credentials` (a certificate and key, PEM) as `user`.
fn kubeconfig(
    address: SocketAddr,
    pki: &crate::pki::Pki,
    credentials: Option<(&str, &str)>,
    user: &str,
) -> String {
    use base64::Engine;
    let base64 = |pem: &str| base64::engine::general_purpose::STANDARD.encode(pem);
    let cluster = format!(
        "server: https://{}\n    certificate-authority-data: {}",
        reachable(address),
        base64(&pki.server_ca_pem)
    );
    let credentials = credentials.map_or_else(
        || " {}".to_string(),
        |(cert, key)| {
            format!(
                "\n    client-certificate-data: {}\n    client-key-data: {}",
                base64(cert),
                base64(key)
            )
        },
    );
    kubeconfig_text(&cluster, user, &credentials)
}

/// A kubeconfig for `user` with `credentials` (a certificate and key,
/// PEM), for the server and CA of the admin kubeconfig in `data_dir`.
pub fn kubeconfig_for(
    data_dir: &Path,
    user: &str,
    credentials: (&str, &str),
) -> anyhow::Result<String> {
    use base64::Engine;
    let admin = data_dir.join("kubeconfig");
    let config = kube::config::Kubeconfig::read_from(&admin)
        .with_context(|| format!("cannot read the kubeconfig {}", admin.display()))?;
    let cluster = config
        .clusters
        .into_iter()
        .find_map(|named| named.cluster)
        .with_context(|| format!("{} names no cluster", admin.display()))?;
    let server = cluster
        .server
        .with_context(|| format!("{} names no server", admin.display()))?;
    let ca = cluster.certificate_authority_data.with_context(|| {
        format!(
            "{} has no CA: the server serves plain HTTP",
            admin.display()
        )
    })?;
    let base64 = |pem: &str| base64::engine::general_purpose::STANDARD.encode(pem);
    let cluster = format!("server: {server}\n    certificate-authority-data: {ca}");
    let credentials = format!(
        "\n    client-certificate-data: {}\n    client-key-data: {}",
        base64(credentials.0),
        base64(credentials.1)
    );
    Ok(kubeconfig_text(&cluster, user, &credentials))
}

/// The kubeconfig of a server of plain HTTP: no credentials.
fn plain_kubeconfig(address: SocketAddr) -> String {
    let cluster = format!("server: http://{}", reachable(address));
    kubeconfig_text(&cluster, "admin", " {}")
}

/// A client cannot connect to the unspecified address.
fn reachable(address: SocketAddr) -> SocketAddr {
    match address.ip().is_unspecified() {
        true => SocketAddr::from(([127, 0, 0, 1], address.port())),
        false => address,
    }
}

fn kubeconfig_text(cluster: &str, user: &str, credentials: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: keelson
  cluster:
    {cluster}
users:
- name: {user}
  user:{credentials}
contexts:
- name: keelson
  context:
    cluster: keelson
    user: {user}
    namespace: default
current-context: keelson
"
    )
}

/// Writes a file only its owner may read (an admin's credentials): mode
/// 0600 from its creation on, and again should it have existed.
pub fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    set_mode(path, 0o600)?;
    file.write_all(contents.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Creates a file only its owner may read (a key), with its mode from the
/// start and never over an existing one.
pub(crate) fn create_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

pub(crate) fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", path.display()))
}

/// Where ServiceAccount tokens' key comes from and what they say.
struct TokenArgs {
    key_file: Option<PathBuf>,
    issuer: String,
    audiences: Vec<String>,
}

/// The signer of ServiceAccount tokens: the given key, or the data dir's
/// own, made (mode 0600) on first start.
fn service_account_tokens(
    args: &TokenArgs,
    data_dir: &Path,
) -> anyhow::Result<std::sync::Arc<keelson_apiserver::TokenIssuer>> {
    let path = match &args.key_file {
        Some(path) => path.clone(),
        None => {
            let path = data_dir.join("service-account.key");
            if !path.exists() {
                create_private(&path, keelson_apiserver::generate_key_pem()?.as_bytes())?;
            }
            path
        }
    };
    let key = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the service account key {}", path.display()))?;
    let issuer = keelson_apiserver::TokenIssuer::new(&key, &args.issuer, &args.audiences)
        .with_context(|| format!("{}", path.display()))?;
    Ok(std::sync::Arc::new(issuer))
}

/// Completes on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => {
            let _ = ctrl_c.await;
            return;
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read_as_upstream_writes_them() {
        let cases = [
            ("32s", Some(Duration::from_secs(32))),
            ("1m30s", Some(Duration::from_secs(90))),
            ("500ms", Some(Duration::from_millis(500))),
            ("2h", Some(Duration::from_secs(7200))),
            ("1m500ms", Some(Duration::from_millis(60_500))),
            ("0s", None),
            ("", None),
            ("32", None),
            ("s", None),
            ("1.5s", Some(Duration::from_millis(1500))),
            ("-1s", None),
            ("3d", None),
            ("99999999999s", None),
        ];
        for (text, expected) in cases {
            assert_eq!(duration(text).ok(), expected, "{text:?}");
        }
    }

    #[test]
    fn the_flags_default_to_the_server_s_defaults() {
        #[derive(clap::Parser)]
        struct Command {
            #[command(flatten)]
            up: UpArgs,
        }
        let args = <Command as clap::Parser>::parse_from(["keelson"]).up;
        let defaults = keelson_apiserver::ConnectionLimits::default();
        assert_eq!(args.read_header_timeout, defaults.read_header_timeout);
        assert_eq!(args.idle_timeout, defaults.idle_timeout);
        assert_eq!(args.max_connections, defaults.max_connections);
        let all = keelson_controllers::selection::Selection::all();
        assert_eq!(args.controllers, all);
        let none = <Command as clap::Parser>::parse_from(["keelson", "--controllers="]).up;
        assert!(!none.controllers.any(), "an empty list runs no controller");
    }
}
