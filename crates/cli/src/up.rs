//! `keelson up` and `keelson apiserver`: the API server on the embedded
//! store (or etcd), with an admin kubeconfig beside its data.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("keelson");
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => PathBuf::from(home).join(".local/share/keelson"),
        None => PathBuf::from(".keelson"),
    }
}

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    let data_dir = args.data_dir.unwrap_or_else(default_data_dir);
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    // The store holds Secrets: only its owner may read the data dir.
    set_mode(&data_dir, 0o700)?;
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
    let config = keelson_apiserver::Config {
        ranges: keelson_apiserver::Ranges {
            cluster_ips: args.service_cluster_ip_range,
            node_ports: args.service_node_port_range,
        },
        disabled_admission: args.disable_admission_plugins,
        connections: keelson_apiserver::ConnectionLimits::default(),
    };
    keelson_apiserver::bootstrap_with(store.clone(), &config)
        .await
        .map_err(|err| anyhow::anyhow!("cannot create the initial namespaces: {err}"))?;
    let kubeconfig = write_kubeconfig(&data_dir, address)?;
    eprintln!("keelson is serving the Kubernetes API on http://{address}");
    eprintln!("kubeconfig: {}", kubeconfig.display());
    keelson_apiserver::serve_with(listener, store, config, shutdown_signal()).await?;
    eprintln!("keelson stopped");
    Ok(())
}

/// Writes `DIR/kubeconfig` for an admin user of the server at `address`.
fn write_kubeconfig(data_dir: &Path, address: SocketAddr) -> anyhow::Result<PathBuf> {
    let path = data_dir.join("kubeconfig");
    let config = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: keelson
  cluster:
    server: http://{address}
users:
- name: admin
  user: {{}}
contexts:
- name: keelson
  context:
    cluster: keelson
    user: admin
    namespace: default
current-context: keelson
"
    );
    std::fs::write(&path, config).with_context(|| format!("cannot write {}", path.display()))?;
    // An admin's credentials: for its owner only.
    set_mode(&path, 0o600)?;
    Ok(path)
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", path.display()))
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
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
