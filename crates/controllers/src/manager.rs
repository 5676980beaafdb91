//! The controller manager's first controllers, run as upstream's
//! `kube-controller-manager --use-service-account-credentials` runs its
//! own: each controller acts with a token of its own kube-system
//! ServiceAccount (asked for with TokenRequest by the manager's identity,
//! kept in a file that is renewed well before the token expires, and read
//! again by its client), bound by upstream's bootstrap policy to the
//! `system:controller:*` role of its name, so that it can do what
//! upstream's can and nothing more.
//!
//! As upstream's shared informers do, the controllers watch and read with
//! the manager's own identity (whose role may list and watch everything);
//! their writes go with their own tokens. The controllers
//! ([`kube::runtime::Controller`]s, level-triggered on their watches) are the pure decisions of [`crate::namespaced`] and
//! [`crate::certificates`] with the writes they call for:
//! - `serviceaccount`: a `default` ServiceAccount in every namespace,
//!   made again when deleted;
//! - `root-ca-cert-publisher`: the `kube-root-ca.crt` ConfigMap in every
//!   namespace;
//! - `replicaset`: the ReplicaSet controller ([`crate::replicaset::run`]);
//! - `csrsigning`: approved CertificateSigningRequests of
//!   `kubernetes.io/kube-apiserver-client` and
//!   `kubernetes.io/kube-apiserver-client-kubelet` signed with the
//!   cluster CA.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use keelson_api::k8s_openapi::api::authentication::v1::TokenRequest;
use keelson_api::k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use keelson_api::k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::json;

use crate::certificates::{Decision, Signer};
use crate::namespaced;

/// The manager's writes are recorded under this field manager.
const MANAGER: &str = "kube-controller-manager";
/// How long a controller's token lasts, and how often it is renewed.
const TOKEN_SECONDS: i64 = 3600;
const RENEW_EVERY: Duration = Duration::from_secs(20 * 60);
/// How long a failed reconcile waits before it is tried again.
const RETRY: Duration = Duration::from_secs(5);

/// What the manager needs: its own identity's client configuration, the
/// CA bundle clients verify the server with, and the CA that signs
/// certificate requests.
pub struct ManagerConfig {
    /// The manager's own identity (`system:kube-controller-manager`).
    pub config: kube::Config,
    /// The bundle the `kube-root-ca.crt` ConfigMaps publish.
    pub ca_bundle: String,
    /// The signing CA's certificate and key, PEM; no signing without.
    pub signing_ca: Option<(String, String)>,
    /// Where the controllers' token files are kept.
    pub token_dir: PathBuf,
}

/// Errors of one controller's reconcile, retried after [`RETRY`].
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(#[from] kube::Error);

/// Runs the controllers until the future is dropped.
pub async fn run(manager: ManagerConfig) -> anyhow::Result<()> {
    let own = Client::try_from(manager.config.clone())?;
    let mut tasks = tokio::task::JoinSet::new();
    let publisher = controller_client(&manager, &own, "root-ca-cert-publisher").await?;
    let accounts = controller_client(&manager, &own, "service-account-controller").await?;
    let bundle = Arc::new(manager.ca_bundle.clone());
    tasks.spawn(namespaces(own.clone(), accounts, publisher, bundle));
    let replicasets = controller_client(&manager, &own, "replicaset-controller").await?;
    tasks.spawn(crate::replicaset::run::run(own.clone(), replicasets));
    let ns = controller_client(&manager, &own, "namespace-controller").await?;
    tasks.spawn(crate::namespace::run(own.clone(), ns));
    if let Some((cert, key)) = &manager.signing_ca {
        let signing = controller_client(&manager, &own, "certificate-controller").await?;
        let signers = [
            crate::certificates::KUBE_APISERVER_CLIENT,
            crate::certificates::KUBE_APISERVER_CLIENT_KUBELET,
        ]
        .into_iter()
        .map(|name| Signer::new(name, cert, key, crate::certificates::DEFAULT_DURATION))
        .collect::<Result<Vec<_>, _>>()?;
        tasks.spawn(sign_requests(own.clone(), signing, Arc::new(signers)));
    }
    while let Some(ended) = tasks.join_next().await {
        ended?;
    }
    Ok(())
}

/// A client acting as the kube-system ServiceAccount `name`: the account
/// made if missing, its token asked for and renewed in a file the client
/// reads again.
async fn controller_client(
    manager: &ManagerConfig,
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
    std::fs::create_dir_all(&manager.token_dir)?;
    let file = manager.token_dir.join(format!("{name}.token"));
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
    let mut config = manager.config.clone();
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
    file: &std::path::Path,
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

/// The namespaces' loop: the `default` ServiceAccount and the root CA
/// ConfigMap of each, brought back when deleted or changed.
async fn namespaces(own: Client, accounts: Client, publisher: Client, bundle: Arc<String>) {
    let all: Api<Namespace> = Api::all(own.clone());
    let context = Arc::new(Writers {
        own: own.clone(),
        accounts,
        publisher,
        bundle,
    });
    Controller::new(all, watcher::Config::default())
        .watches(
            Api::<ServiceAccount>::all(own.clone()),
            watcher::Config::default().fields("metadata.name=default"),
            |account: ServiceAccount| account.namespace().map(|ns| ObjectRef::new(&ns)),
        )
        .watches(
            Api::<ConfigMap>::all(own),
            watcher::Config::default().fields("metadata.name=kube-root-ca.crt"),
            |config_map: ConfigMap| config_map.namespace().map(|ns| ObjectRef::new(&ns)),
        )
        .run(
            reconcile_namespace,
            |_, _, _| Action::requeue(RETRY),
            context,
        )
        .for_each(|_| async {})
        .await;
}

/// The clients of the namespaces' loop: the manager's own for reads, and
/// each controller's for its writes.
struct Writers {
    own: Client,
    accounts: Client,
    publisher: Client,
    bundle: Arc<String>,
}

async fn reconcile_namespace(
    namespace: Arc<Namespace>,
    writers: Arc<Writers>,
) -> Result<Action, Error> {
    let name = namespace.name_any();
    let read: Api<ServiceAccount> = Api::namespaced(writers.own.clone(), &name);
    let existing = read.get_opt(namespaced::DEFAULT_SERVICE_ACCOUNT).await?;
    if let Some(account) = namespaced::service_account(&namespace, existing.as_ref()) {
        let api: Api<ServiceAccount> = Api::namespaced(writers.accounts.clone(), &name);
        ignore_gone(api.create(&PostParams::default(), &account).await)?;
    }
    let read: Api<ConfigMap> = Api::namespaced(writers.own.clone(), &name);
    let existing = read.get_opt(namespaced::ROOT_CA_CONFIG_MAP).await?;
    let bundle = &writers.bundle;
    let api: Api<ConfigMap> = Api::namespaced(writers.publisher.clone(), &name);
    if let Some(wanted) = namespaced::root_ca(&namespace, existing.as_ref(), bundle) {
        match existing {
            None => ignore_gone(api.create(&PostParams::default(), &wanted).await)?,
            Some(_) => ignore_gone(
                api.replace(
                    namespaced::ROOT_CA_CONFIG_MAP,
                    &PostParams::default(),
                    &wanted,
                )
                .await,
            )?,
        }
    }
    Ok(Action::await_change())
}

/// A write that lost to the namespace's deletion, or to another write of
/// the same object, is not an error: the next change brings the loop back.
fn ignore_gone<T>(result: Result<T, kube::Error>) -> Result<(), kube::Error> {
    match result {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if matches!(status.code, 403 | 404 | 409) => Ok(()),
        Err(err) => Err(err),
    }
}

/// The signers' loop over CertificateSigningRequests.
async fn sign_requests(own: Client, client: Client, signers: Arc<Vec<Signer>>) {
    let all: Api<CertificateSigningRequest> = Api::all(own);
    let context = Arc::new((client, signers));
    Controller::new(all, watcher::Config::default())
        .run(reconcile_request, |_, _, _| Action::requeue(RETRY), context)
        .for_each(|_| async {})
        .await;
}

async fn reconcile_request(
    request: Arc<CertificateSigningRequest>,
    context: Arc<(Client, Arc<Vec<Signer>>)>,
) -> Result<Action, Error> {
    let (client, signers) = &*context;
    let now = jiff::Timestamp::now();
    let api: Api<CertificateSigningRequest> = Api::all(client.clone());
    let name = request.name_any();
    for signer in signers.iter() {
        let mut signed = (*request).clone();
        let status = signed.status.get_or_insert_with(Default::default);
        match signer.decide(&request, now) {
            Decision::Skip => continue,
            Decision::Sign(pem) => {
                status.certificate = Some(keelson_api::k8s_openapi::ByteString(pem.into_bytes()));
            }
            Decision::Fail { reason, message } => {
                let now = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
                let failed = serde_json::from_value(json!({
                    "type": "Failed", "status": "True", "reason": reason, "message": message,
                    "lastUpdateTime": now, "lastTransitionTime": now
                }))
                .map_err(kube::Error::SerdeError)?;
                status.conditions.get_or_insert_with(Vec::new).push(failed);
            }
        }
        let params = PostParams {
            field_manager: Some(MANAGER.to_string()),
            ..PostParams::default()
        };
        ignore_gone(api.replace_status(&name, &params, &signed).await)?;
        break;
    }
    Ok(Action::await_change())
}
