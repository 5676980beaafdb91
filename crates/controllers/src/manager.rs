//! The controller manager: runs the built-in controllers, or a chosen set,
//! and a user's own controllers written with [`crate::framework`], on one
//! set of shared caches, until it is stopped.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! let client = kube::Client::try_default().await?;
//! keelson_controllers::manager::ControllerManager::new(client)
//!     .add("my-controller", |context| async move {
//!         // A controller of the user's own, with the same caches and
//!         // framework as the built-ins.
//!         let _ = context;
//!     })
//!     .run_until(async { let _ = tokio::signal::ctrl_c().await; })
//!     .await
//! # }
//! ```
//!
//! With [`ControllerManager::with_service_account_credentials`], it runs as
//! upstream's `kube-controller-manager --use-service-account-credentials`:
//! each built-in controller writes with a token of its own kube-system
//! ServiceAccount (asked for with TokenRequest by the manager's identity,
//! kept in a file renewed well before the token expires, and read again by
//! its client), bound by the bootstrap policy to the `system:controller:*`
//! role of its name, so that it can do what upstream's can and nothing
//! more. The caches watch with the manager's own identity (whose role may
//! list and watch everything), as upstream's shared informers do. Without
//! it, every controller writes with the manager's client.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use keelson_api::k8s_openapi::api::authentication::v1::TokenRequest;
use keelson_api::k8s_openapi::api::core::v1::ServiceAccount;
use kube::Client;
use kube::api::{Api, PostParams};
use serde_json::json;

use crate::certificates::Signer;
use crate::framework::{Context, Informers};
use crate::selection::{self, Selection};

/// How long a controller's token lasts, and how often it is renewed.
const TOKEN_SECONDS: i64 = 3600;
const RENEW_EVERY: Duration = Duration::from_secs(20 * 60);

/// A built-in controller: upstream's name for it, the kube-system
/// ServiceAccount it acts as, and whether `*` turns it on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Builtin {
    /// Its name in `--controllers`.
    pub name: &'static str,
    /// Its ServiceAccount in kube-system.
    pub account: &'static str,
    /// Whether it runs unless turned off.
    pub on_by_default: bool,
}

/// The built-in controllers, in the order they start.
pub const BUILTINS: &[Builtin] = &[
    builtin(selection::SERVICE_ACCOUNT, "service-account-controller"),
    builtin(selection::ROOT_CA_PUBLISHER, "root-ca-cert-publisher"),
    builtin(selection::REPLICA_SET, "replicaset-controller"),
    builtin(selection::REPLICATION_CONTROLLER, "replication-controller"),
    builtin(selection::DEPLOYMENT, "deployment-controller"),
    builtin(selection::GARBAGE_COLLECTOR, "generic-garbage-collector"),
    builtin(selection::NAMESPACE, "namespace-controller"),
    builtin(selection::CSR_SIGNING, "certificate-controller"),
    builtin(selection::CSR_CLEANER, "certificate-controller"),
];

const fn builtin(name: &'static str, account: &'static str) -> Builtin {
    Builtin {
        name,
        account,
        on_by_default: true,
    }
}

/// What `keelson up` and `keelson controller-manager` run the manager with.
pub struct ManagerConfig {
    /// The manager's own identity (`system:kube-controller-manager`).
    pub config: kube::Config,
    /// The bundle the `kube-root-ca.crt` ConfigMaps publish.
    pub ca_bundle: String,
    /// The signing CA's certificate and key, PEM; no signing without.
    pub signing_ca: Option<(String, String)>,
    /// Where the controllers' token files are kept.
    pub token_dir: PathBuf,
    /// Which controllers run (`--controllers`).
    pub controllers: Selection,
}

/// Runs the built-in controllers with service account credentials until
/// the future is dropped.
pub async fn run(manager: ManagerConfig) -> anyhow::Result<()> {
    let client = Client::try_from(manager.config.clone())?;
    let mut built = ControllerManager::new(client)
        .with_service_account_credentials(manager.config, manager.token_dir)
        .ca_bundle(manager.ca_bundle)
        .slim_pods();
    let selection = manager.controllers;
    built = built.controllers(move |name| selection.enabled(name));
    if let Some((cert, key)) = manager.signing_ca {
        built = built.signing_ca(cert, key);
    }
    built.run().await
}

type Start = Box<dyn FnOnce(Context) -> BoxFuture<'static, ()> + Send>;

/// The controllers of one process, built up then run.
pub struct ControllerManager {
    builtins: Builtins,
    slim_pods: bool,
    enabled: Box<dyn Fn(&str) -> bool + Send + Sync>,
    custom: Vec<(String, Start)>,
}

/// What the built-in controllers are made with.
struct Builtins {
    client: Client,
    credentials: Option<(kube::Config, PathBuf)>,
    ca_bundle: Option<String>,
    signing_ca: Option<(String, String)>,
}

impl ControllerManager {
    /// A manager of every built-in controller on by default, watching and
    /// writing with `client`.
    pub fn new(client: Client) -> Self {
        Self {
            builtins: Builtins {
                client,
                credentials: None,
                ca_bundle: None,
                signing_ca: None,
            },
            enabled: Box::new(|name| BUILTINS.iter().any(|b| b.name == name && b.on_by_default)),
            slim_pods: false,
            custom: Vec::new(),
        }
    }

    /// A manager with the identity of the kubeconfig at `path`.
    pub async fn from_kubeconfig(path: &Path) -> anyhow::Result<Self> {
        let kubeconfig = kube::config::Kubeconfig::read_from(path)?;
        let options = kube::config::KubeConfigOptions::default();
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options).await?;
        let mut manager = Self::new(Client::try_from(config.clone())?);
        manager.builtins.ca_bundle = ca_bundle_of(&config);
        Ok(manager)
    }

    /// Each built-in controller writes with a token of its own kube-system
    /// ServiceAccount, asked for by `config`'s identity and kept in files
    /// under `token_dir`.
    pub fn with_service_account_credentials(
        mut self,
        config: kube::Config,
        token_dir: PathBuf,
    ) -> Self {
        self.builtins.credentials = Some((config, token_dir));
        self
    }

    /// Runs the built-in controllers `enabled` names (e.g. a parsed
    /// `--controllers` list) instead of those on by default.
    pub fn controllers(mut self, enabled: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        self.enabled = Box::new(enabled);
        self
    }

    /// The shared Pod cache keeps only what the built-in controllers read
    /// of pods ([`crate::pods::slim`]), which more than halves its size;
    /// a user's controller reading pods from it sees them so.
    pub fn slim_pods(mut self) -> Self {
        self.slim_pods = true;
        self
    }

    /// No built-in controller: only those [`Self::add`]ed.
    pub fn without_builtins(self) -> Self {
        self.controllers(|_| false)
    }

    /// The CA bundle the root CA publisher publishes; without one (and
    /// none in the kubeconfig), it does not run.
    pub fn ca_bundle(mut self, bundle: String) -> Self {
        self.builtins.ca_bundle = Some(bundle);
        self
    }

    /// The CA (certificate and key, PEM) the CSR signer signs with;
    /// without one, it does not run.
    pub fn signing_ca(mut self, cert: String, key: String) -> Self {
        self.builtins.signing_ca = Some((cert, key));
        self
    }

    /// Adds a controller of the user's own: `start` is given its
    /// [`Context`] (the manager's client and the shared caches, under
    /// `name`) and runs until the manager stops.
    pub fn add<F, Fut>(mut self, name: &str, start: F) -> Self
    where
        F: FnOnce(Context) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let start: Start = Box::new(move |context| start(context).boxed());
        self.custom.push((name.to_string(), start));
        self
    }

    /// Runs the controllers until the future is dropped, or one of them
    /// ends (which a controller does not).
    pub async fn run(self) -> anyhow::Result<()> {
        self.run_until(std::future::pending()).await
    }

    /// Runs the controllers until `shutdown` completes, then stops them
    /// all and their watches.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        // Taken apart first: the user's controllers need not be shareable
        // between threads while the built-ins' clients are made.
        let Self {
            builtins,
            enabled,
            slim_pods,
            custom,
        } = self;
        let informers = Informers::new(builtins.client.clone());
        if slim_pods {
            informers.transform::<keelson_api::k8s_openapi::api::core::v1::Pod>(crate::pods::slim);
        }
        let mut tasks = tokio::task::JoinSet::new();
        for builtin in BUILTINS.iter().filter(|b| enabled(b.name)) {
            let client = builtins.client_for(builtin.account).await?;
            let context = Context::new(builtin.name, client, informers.clone());
            if let Some(running) = builtins.start(builtin.name, context)? {
                tasks.spawn(running);
            }
        }
        for (name, start) in custom {
            let context = Context::new(&name, builtins.client.clone(), informers.clone());
            tasks.spawn(start(context));
        }
        informers.start();
        tokio::select! {
            () = shutdown => {}
            ended = tasks.join_next() => {
                if let Some(Err(err)) = ended {
                    anyhow::bail!("a controller stopped: {err}");
                }
            }
        }
        tasks.shutdown().await;
        Ok(())
    }
}

impl Builtins {
    /// The loop of the built-in controller `name`, if it can run.
    fn start(
        &self,
        name: &str,
        context: Context,
    ) -> anyhow::Result<Option<BoxFuture<'static, ()>>> {
        use crate::{
            certificates, deployment, garbagecollector, namespace, namespaced, replicaset,
        };
        Ok(Some(match name {
            selection::SERVICE_ACCOUNT => namespaced::run::service_accounts(context).boxed(),
            selection::ROOT_CA_PUBLISHER => {
                let Some(bundle) = self.ca_bundle.clone() else {
                    return Ok(None);
                };
                namespaced::run::root_ca_publisher(context, bundle).boxed()
            }
            selection::REPLICA_SET => replicaset::run::replica_sets(context).boxed(),
            selection::DEPLOYMENT => deployment::run::deployments(context).boxed(),
            selection::NAMESPACE => namespace::shared(context).boxed(),
            selection::GARBAGE_COLLECTOR => {
                garbagecollector::run(context.reader.clone(), context.client.clone()).boxed()
            }
            selection::REPLICATION_CONTROLLER => {
                replicaset::run::replication_controllers(context).boxed()
            }
            selection::CSR_SIGNING => {
                let Some((cert, key)) = &self.signing_ca else {
                    return Ok(None);
                };
                let signers = [
                    certificates::KUBE_APISERVER_CLIENT,
                    certificates::KUBE_APISERVER_CLIENT_KUBELET,
                    certificates::KUBELET_SERVING,
                ]
                .into_iter()
                .map(|signer| Signer::new(signer, cert, key, certificates::DEFAULT_DURATION))
                .collect::<Result<Vec<_>, _>>()?;
                certificates::run::signing(context, signers).boxed()
            }
            selection::CSR_CLEANER => {
                certificates::cleaner::cleaner(context, certificates::cleaner::POLLING_INTERVAL)
                    .boxed()
            }
            _ => return Ok(None),
        }))
    }

    /// The client the controller acting as `account` writes with.
    async fn client_for(&self, account: &str) -> anyhow::Result<Client> {
        match &self.credentials {
            None => Ok(self.client.clone()),
            Some((config, token_dir)) => {
                controller_client(config, token_dir, &self.client, account).await
            }
        }
    }
}

/// The CA bundle a client configuration verifies the server with, PEM.
fn ca_bundle_of(config: &kube::Config) -> Option<String> {
    let certs = config.root_cert.as_ref()?;
    let mut pem = String::new();
    for der in certs {
        pem.push_str(&pem_block("CERTIFICATE", der));
    }
    Some(pem)
}

fn pem_block(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// A client acting as the kube-system ServiceAccount `name`: the account
/// made if missing, its token asked for and renewed in a file the client
/// reads again.
async fn controller_client(
    config: &kube::Config,
    token_dir: &Path,
    own: &Client,
    name: &str,
) -> anyhow::Result<Client> {
    let accounts: Api<ServiceAccount> = Api::namespaced(own.clone(), "kube-system");
    if accounts.get_opt(name).await?.is_none() {
        let account: ServiceAccount = serde_json::from_value(
            json!({"metadata": {"name": name, "namespace": "kube-system"}}),
        )?;
        match accounts.create(&PostParams::default(), &account).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(err) => return Err(err.into()),
        }
    }
    std::fs::create_dir_all(token_dir)?;
    let file = token_dir.join(format!("{name}.token"));
    write_token(&accounts, name, &file).await?;
    let (renew, renewed) = (accounts.clone(), file.clone());
    let account = name.to_string();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(RENEW_EVERY).await;
            if let Err(err) = write_token(&renew, &account, &renewed).await {
                tracing::warn!(account, error = %err, "a controller's token was not renewed");
            }
        }
    });
    let mut config = config.clone();
    config.auth_info = kube::config::AuthInfo {
        token_file: Some(file.to_string_lossy().into_owned()),
        ..kube::config::AuthInfo::default()
    };
    Ok(Client::try_from(config)?)
}

/// Asks for a token of `account` and writes it to `file` (mode 0600).
async fn write_token(
    accounts: &Api<ServiceAccount>,
    account: &str,
    file: &Path,
) -> anyhow::Result<()> {
    let request: TokenRequest = serde_json::from_value(json!({
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
        "spec": {"expirationSeconds": TOKEN_SECONDS}
    }))?;
    let made: TokenRequest = accounts
        .create_subresource("token", account, &PostParams::default(), &request)
        .await?;
    let token = made.status.map(|s| s.token).unwrap_or_default();
    anyhow::ensure!(
        !token.is_empty(),
        "the token request for {account} gave no token"
    );
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let temporary = file.with_extension("new");
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)?;
    out.write_all(token.as_bytes())?;
    std::fs::rename(&temporary, file)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_controller_the_selection_knows_is_a_builtin_that_runs() {
        let builtins: Vec<&str> = BUILTINS.iter().map(|b| b.name).collect();
        let known: Vec<&str> = selection::KNOWN.iter().map(|k| k.name).collect();
        assert_eq!(
            builtins.len(),
            known.len(),
            "{builtins:?} against {known:?}"
        );
        for name in known {
            assert!(builtins.contains(&name), "{name} is not a built-in");
        }
    }
}
