//! `keelson controller-manager`: the controllers as a process of their
//! own, an API client of the server its kubeconfig names, as upstream's
//! kube-controller-manager runs. With `--leader-elect` (the default) the
//! controllers run only while this process holds the Lease
//! `kube-system/kube-controller-manager`, so that several may run and one
//! acts; a leader that loses the Lease exits non-zero ("leaderelection
//! lost"), and one stopped by SIGTERM or Ctrl-C releases it first.
//!
//! `/healthz` (and `/readyz`, which a harness probes) answer `ok` over
//! plain HTTP on `--healthz-bind-address`, loopback by default: upstream
//! serves them over HTTPS on `--secure-port`, which keelson's controller
//! manager has no serving certificate for yet.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use keelson_controllers::leader::{self, Ended, LeaderConfig};
use keelson_controllers::manager::{self, ManagerConfig};
use keelson_controllers::selection::Selection;

use crate::verbs::ClientArgs;

/// Options of `keelson controller-manager`, named as upstream's.
#[derive(clap::Args, Debug)]
pub struct ControllerManagerArgs {
    /// The controllers to run: `*` (all that are on by default), `NAME`,
    /// `-NAME`, comma separated (upstream's names or their aliases).
    #[arg(long, default_value = "*")]
    controllers: Selection,
    #[command(flatten)]
    leader: crate::leader_flags::LeaderFlags,
    /// Where `/healthz` is served (plain HTTP; port 0 picks a free one).
    #[arg(long, visible_alias = "listen", default_value = "127.0.0.1:10257")]
    healthz_bind_address: SocketAddr,
    /// The CA certificate (PEM) that signs approved certificate requests.
    #[arg(long, requires = "cluster_signing_key_file")]
    cluster_signing_cert_file: Option<PathBuf>,
    /// The key (PEM) of `--cluster-signing-cert-file`.
    #[arg(long, requires = "cluster_signing_cert_file")]
    cluster_signing_key_file: Option<PathBuf>,
    /// The bundle published in every namespace's `kube-root-ca.crt`
    /// (default: the kubeconfig's certificate authority).
    #[arg(long)]
    root_ca_file: Option<PathBuf>,
    /// Where the controllers' token files are kept (in
    /// `DIR/controller-tokens`; default: a temporary directory).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// Runs the controller manager until it is stopped or loses leadership.
pub async fn run(client: &ClientArgs, args: ControllerManagerArgs) -> anyhow::Result<()> {
    let kubeconfig = kubeconfig_path(client, "controller-manager")?;
    let (config, kubeconfig_ca) = read_kubeconfig(&kubeconfig, client.context.as_deref()).await?;
    let ca_bundle = match &args.root_ca_file {
        Some(path) => read(path)?,
        None => kubeconfig_ca.unwrap_or_default(),
    };
    let signing_ca = match (
        &args.cluster_signing_cert_file,
        &args.cluster_signing_key_file,
    ) {
        (Some(cert), Some(key)) => Some((read(cert)?, read(key)?)),
        _ => None,
    };
    // Kept until the process ends: a temporary token dir is removed then.
    let (token_dir, _temporary) = match &args.data_dir {
        Some(dir) => (dir.join("controller-tokens"), None),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("keelson-controller-manager-")
                .tempdir()?;
            (dir.path().to_path_buf(), Some(dir))
        }
    };
    let manager = ManagerConfig {
        config: config.clone(),
        ca_bundle,
        signing_ca,
        token_dir,
        controllers: args.controllers.clone(),
    };
    let healthz = serve_healthz(args.healthz_bind_address).await?;
    eprintln!("keelson controller-manager: healthz on http://{healthz}/healthz");
    let work = || async move {
        manager::run(manager).await?;
        // No controller selected: idle, as upstream's manager would.
        std::future::pending::<anyhow::Result<()>>().await
    };
    let shutdown = crate::up::shutdown_signal();
    if !args.leader.leader_elect {
        return until_shutdown(work(), shutdown).await;
    }
    let leader = leader_config(&args);
    eprintln!(
        "keelson controller-manager: {} is a candidate for the lease {}/{}",
        leader.identity, leader.namespace, leader.name
    );
    let client = kube::Client::try_from(config)?;
    match leader::run_elected(client, leader, shutdown, work).await? {
        Ended::Worked(result) => result,
        Ended::ShutDown => {
            eprintln!("keelson controller-manager stopped");
            Ok(())
        }
    }
}

fn leader_config(args: &ControllerManagerArgs) -> LeaderConfig {
    args.leader.config("kube-controller-manager")
}

/// Runs `work` until it fails or `shutdown` completes.
async fn until_shutdown(
    work: impl Future<Output = anyhow::Result<()>>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    tokio::select! {
        result = work => result,
        () = shutdown => {
            eprintln!("keelson controller-manager stopped");
            Ok(())
        }
    }
}

/// `--kubeconfig`, else `$KUBECONFIG`: a component (`controller-manager`,
/// `scheduler`) is told which cluster it serves.
pub(crate) fn kubeconfig_path(client: &ClientArgs, component: &str) -> anyhow::Result<PathBuf> {
    let from_env = std::env::var_os("KUBECONFIG").filter(|value| !value.is_empty());
    client
        .kubeconfig
        .clone()
        .or_else(|| from_env.map(PathBuf::from))
        .with_context(|| format!("keelson {component} needs --kubeconfig PATH (or KUBECONFIG)"))
}

/// The client configuration of the kubeconfig, and the PEM bundle of its
/// cluster's certificate authority if it names one.
pub(crate) async fn read_kubeconfig(
    path: &Path,
    context: Option<&str>,
) -> anyhow::Result<(kube::Config, Option<String>)> {
    let kubeconfig = kube::config::Kubeconfig::read_from(path)
        .with_context(|| format!("cannot read the kubeconfig {}", path.display()))?;
    let options = kube::config::KubeConfigOptions {
        context: context.map(str::to_string),
        ..kube::config::KubeConfigOptions::default()
    };
    let ca = cluster_ca(&kubeconfig, context)?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .with_context(|| format!("cannot use the kubeconfig {}", path.display()))?;
    Ok((config, ca))
}

/// The CA (`certificate-authority-data`, or the file
/// `certificate-authority` names) of the context's cluster.
fn cluster_ca(
    kubeconfig: &kube::config::Kubeconfig,
    context: Option<&str>,
) -> anyhow::Result<Option<String>> {
    use base64::Engine;
    let wanted = context.or(kubeconfig.current_context.as_deref());
    let cluster_name = kubeconfig
        .contexts
        .iter()
        .find(|named| Some(named.name.as_str()) == wanted)
        .and_then(|named| named.context.as_ref())
        .map(|context| context.cluster.clone());
    let cluster = kubeconfig
        .clusters
        .iter()
        .find(|named| Some(&named.name) == cluster_name.as_ref())
        .and_then(|named| named.cluster.as_ref());
    let Some(cluster) = cluster else {
        return Ok(None);
    };
    if let Some(data) = &cluster.certificate_authority_data {
        let pem = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .context("the kubeconfig's certificate-authority-data is not base64")?;
        return Ok(Some(String::from_utf8(pem)?));
    }
    match &cluster.certificate_authority {
        Some(file) => Ok(Some(read(Path::new(file))?)),
        None => Ok(None),
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Serves `/healthz` and `/readyz` in the background; the bound address.
pub(crate) async fn serve_healthz(address: SocketAddr) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    let bound = listener.local_addr()?;
    let ok = || async { "ok" };
    let routes = axum::Router::new()
        .route("/healthz", axum::routing::get(ok))
        .route("/readyz", axum::routing::get(ok));
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, routes).await {
            eprintln!("warning: healthz stopped serving: {err}");
        }
    });
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[derive(clap::Parser)]
    struct Command {
        #[command(flatten)]
        args: ControllerManagerArgs,
    }

    fn parse(line: &[&str]) -> Result<ControllerManagerArgs, clap::Error> {
        let line = std::iter::once("controller-manager").chain(line.iter().copied());
        <Command as clap::Parser>::try_parse_from(line).map(|command| command.args)
    }

    #[test]
    fn the_flags_default_as_upstream_s() {
        let args = parse(&[]).expect("no flags");
        assert!(args.leader.leader_elect);
        assert_eq!(args.controllers, Selection::all());
        let leader = leader_config(&args);
        assert_eq!(leader.lease_duration, Duration::from_secs(15));
        assert_eq!(leader.renew_deadline, Duration::from_secs(10));
        assert_eq!(leader.retry_period, Duration::from_secs(2));
        assert_eq!(
            (leader.namespace.as_str(), leader.name.as_str()),
            ("kube-system", "kube-controller-manager")
        );
        assert!(args.healthz_bind_address.ip().is_loopback());
    }

    #[test]
    fn the_flags_are_read_as_upstream_writes_them() {
        let args = parse(&[
            "--leader-elect=false",
            "--controllers=*,-replicaset",
            "--leader-elect-lease-duration=3s",
            "--leader-elect-renew-deadline=2s",
            "--leader-elect-retry-period=500ms",
        ])
        .expect("valid flags");
        assert!(!args.leader.leader_elect);
        assert!(!args.controllers.enabled("replicaset-controller"));
        assert!(args.controllers.enabled("serviceaccount-controller"));
        assert_eq!(
            args.leader.leader_elect_retry_period,
            Duration::from_millis(500)
        );
        let unknown = parse(&["--controllers=*,-nodes"]).expect_err("refused");
        assert!(
            unknown
                .to_string()
                .contains("not in the list of known controllers")
        );
        assert!(parse(&["--cluster-signing-cert-file=ca.crt"]).is_err());
    }
}
