//! keelson's API server: the Kubernetes REST API (discovery, OpenAPI, CRUD,
//! list and watch, patches, subresources, tables) on the keelson store.
//!
//! [`router`] builds the HTTP service on a store; [`serve()`] runs it on a
//! listener until shutdown, with the connections bounded as
//! [`ConnectionLimits`] says.
//! With [`Config::tls`] it speaks TLS ([`TlsConfig`]), and hands the
//! client certificates it verified to each request as
//! [`PeerCertificates`]; without, plain HTTP.
//!
//! The crate is layered, and imports only point down:
//! - `serve`: the accept loop, TLS, and the connections' deadlines and cap;
//! - [`audit`]: the audit log, one layer around every route;
//! - `http`: paths, bodies, responses, negotiation, and the handlers;
//! - [`auth`]: authentication, impersonation and authorization, one layer
//!   in front of every route when the config asks for it;
//! - `registry`: what subresources do beyond storing fields (scale,
//!   binding, eviction) and admission, the checks every write passes;
//! - `watch`: the watch cache, one store watch per resource, fanned out;
//! - [`objects`]: the generic object layer over the store, with every
//!   kind's rules found from its strategy in `keelson_api::strategy`;
//! - [`encryption`]: encryption at rest, a store over the store;
//! - `fields`: managedFields, the server-side apply engine and patches;
//! - `codec`: JSON, YAML and protobuf documents into JSON values;
//! - `schema` and `documents` ([`discovery`], [`openapi`], [`table`]):
//!   what the registry and the OpenAPI schemas say, and `meta`, helpers
//!   for metadata.

// The layers, top to bottom (see above); a module imports only from
// those below it.
mod serve;

pub mod audit;

mod http;

pub mod auth;

mod registry;

pub mod crd;

mod watch;

pub mod objects;

pub mod encryption;

mod fields;

mod codec;

mod schema;

mod documents;

mod meta;

pub use documents::{discovery, openapi, table};
pub use http::deadline::parse_go_duration;
pub use registry::allocation::Ranges;
pub use registry::tokens::{DEFAULT_ISSUER, Issuer as TokenIssuer, generate_key_pem};
pub use serve::ConnectionLimits;
pub use serve::tls::{PeerCertificates, TlsConfig, TlsError};

#[cfg(feature = "testing")]
pub mod stand_in;
#[cfg(feature = "testing")]
pub mod testing;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get};
use http::{discovery_routes, handlers};
use keelson_store::Store;

/// The Kubernetes version keelson's API implements (kubectl picks its
/// matching binary by it).
pub const KUBERNETES_VERSION: &str = "v1.33.0";

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub objects: objects::Objects,
    /// One watch cache per resource, for watches and `resourceVersion=0` lists.
    pub caches: watch::Caches,
    /// Turns true when the server stops: open watches end then.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// What signs ServiceAccount tokens (`None`: no key could be made).
    pub tokens: Option<Arc<TokenIssuer>>,
    /// Authentication and authorization, when on.
    pub auth: Option<Arc<auth::Auth>>,
    /// The custom resources this server serves (no longer once the last
    /// clone of the state is dropped).
    pub custom_kinds: Arc<crd::CustomKinds>,
}

/// How an API server is set up.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where Services get cluster IPs and node ports.
    pub ranges: Ranges,
    /// Admission steps left out of the chain, by upstream's plugin names
    /// (`--disable-admission-plugins`).
    pub disabled_admission: Vec<String>,
    /// How long a request other than a watch may take
    /// (`--request-timeout`); `None` is upstream's one minute.
    pub request_timeout: Option<std::time::Duration>,
    /// The connections' deadlines and cap.
    pub connections: ConnectionLimits,
    /// What signs ServiceAccount tokens; `None` makes a key for this
    /// process alone, so that its tokens end with it.
    pub service_account_tokens: Option<Arc<TokenIssuer>>,
    /// Authentication and authorization; `None` lets every request
    /// through with no user.
    pub auth: Option<auth::AuthConfig>,
    /// Encryption at rest (`--encryption-provider-config`); `None` stores
    /// every value as it is.
    pub encryption: Option<encryption::EncryptionConfig>,
    /// The audit policy and log (`--audit-policy-file`,
    /// `--audit-log-path`); `None` logs nothing.
    pub audit: Option<audit::AuditConfig>,
    /// The serving certificate and client CA; `None` serves plain HTTP,
    /// which is insecure (the in-process test fixture uses it).
    pub tls: Option<TlsConfig>,
}

impl Config {
    fn request_timeout(&self) -> std::time::Duration {
        self.request_timeout.unwrap_or(http::deadline::DEFAULT)
    }
}

/// The names of the admission steps, in the chain's order.
pub fn admission_plugins() -> &'static [&'static str] {
    registry::admission::PLUGINS
}

/// The object layer of a server: every kind's strategy, the admission
/// chain and the storage hooks.
fn objects_of(
    store: Arc<dyn Store>,
    encrypted: Option<Arc<encryption::EncryptedStore>>,
    config: &Config,
    caches: &watch::Caches,
    auth: Option<&auth::Auth>,
) -> objects::Objects {
    let chain = registry::admission::chain(caches);
    let mut steps: Vec<_> = chain
        .steps
        .into_iter()
        .filter(|step| !config.disabled_admission.iter().any(|d| d == step.name()))
        .collect();
    // Part of the kind's create, not a plugin: it cannot be turned off.
    steps.push(Arc::new(registry::csr::CsrRequester));
    steps.push(Arc::new(crd::admission::DefinitionSchemas));
    let mut hooks = chain.hooks;
    if let Some(auth) = auth {
        steps.extend(auth.admission());
        hooks.extend(auth.hooks());
    }
    hooks.push(Arc::new(registry::allocation::ServiceAddresses::new(
        &config.ranges,
    )));
    objects::Objects::new(store)
        .with_admission(steps)
        .with_hooks(hooks)
        .with_encryption(encrypted)
}

/// The API server's HTTP service on `store`; its watches end when
/// `stopping` turns true.
pub fn router(store: Arc<dyn Store>, stopping: tokio::sync::watch::Receiver<bool>) -> Router {
    router_with(store, &Config::default(), stopping)
}

/// [`router`], set up as `config` says.
pub fn router_with(
    store: Arc<dyn Store>,
    config: &Config,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> Router {
    router_of(state_of(store, config, stopping), config)
}

fn state_of(
    store: Arc<dyn Store>,
    config: &Config,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> AppState {
    let (store, encrypted) = encryption::wrap(store, config.encryption.as_ref());
    let caches = watch::Caches::new(Arc::clone(&store));
    let tokens = config.service_account_tokens.clone().or_else(|| {
        let key = generate_key_pem().ok()?;
        TokenIssuer::new(&key, DEFAULT_ISSUER, &[])
            .ok()
            .map(Arc::new)
    });
    let auth = config.auth.as_ref().map(|auth| {
        let auth = auth::Auth::new(auth, &caches).with_service_accounts(tokens.clone(), &caches);
        Arc::new(auth)
    });
    let objects = objects_of(store, encrypted, config, &caches, auth.as_deref());
    let custom_kinds = crd::controller::start(
        objects.clone(),
        caches.clone(),
        stopping.clone(),
        crd::rules_of,
    );
    AppState {
        objects,
        caches,
        stopping,
        tokens,
        auth,
        custom_kinds,
    }
}

fn router_of(state: AppState, config: &Config) -> Router {
    let router = Router::new()
        .route("/version", get(discovery_routes::version))
        .route("/healthz", get(discovery_routes::ok))
        .route("/livez", get(discovery_routes::ok))
        .route("/readyz", get(discovery_routes::ok))
        .route(
            "/.well-known/openid-configuration",
            get(discovery_routes::openid_configuration),
        )
        .route("/openid/v1/jwks", get(discovery_routes::openid_jwks))
        .route("/api", get(discovery_routes::core))
        .route("/apis", get(discovery_routes::groups))
        .route("/openapi/v3", get(discovery_routes::openapi_index))
        .route(
            "/openapi/v3/{*path}",
            get(discovery_routes::openapi_document),
        )
        .route("/api/{*rest}", any(handlers::api))
        .route("/apis/{*rest}", any(handlers::api))
        .fallback(discovery_routes::not_found)
        .method_not_allowed_fallback(discovery_routes::method_not_allowed);
    let auth = state.auth.clone();
    let routes = router.with_state(state);
    // Outermost first: authentication, which names the user the audit
    // log records; the audit log; the deadline and the body limit (inside
    // the log, so that timeouts are logged); and authorization (inside
    // the log too, so that refusals are). They wrap the router as a
    // whole, not each of its routes as `Router::layer` would: a layer
    // then hands each request on with a clone of the router (one `Arc`),
    // not of every service beneath it.
    use axum::middleware::from_fn_with_state as from_fn;
    let layered = tower::ServiceBuilder::new()
        .option_layer(auth.clone().map(|a| from_fn(a, auth::authenticate)))
        .option_layer(config.audit.clone().map(|a| from_fn(a, audit::record)))
        .layer(from_fn(config.request_timeout(), http::deadline::within))
        // Bodies are read with their own limit so that an oversized one is
        // a `Status`, not a bare 413.
        .layer(DefaultBodyLimit::disable())
        .option_layer(auth.map(|a| from_fn(a, auth::authorize)))
        .service(routes);
    Router::new().fallback_service(layered)
}

/// Creates what every cluster starts with, if missing: the namespaces,
/// upstream's bootstrap RBAC roles, the system PriorityClasses, the local
/// APIServices and the `kubernetes` ServiceCIDR.
pub async fn bootstrap(store: Arc<dyn Store>) -> Result<(), keelson_api::ApiError> {
    bootstrap_with(store, &Config::default()).await
}

/// [`bootstrap`], set up as `config` says.
pub async fn bootstrap_with(
    store: Arc<dyn Store>,
    config: &Config,
) -> Result<(), keelson_api::ApiError> {
    let (store, encrypted) = encryption::wrap(store, config.encryption.as_ref());
    let caches = watch::Caches::new(Arc::clone(&store));
    let objects = objects_of(store, encrypted, config, &caches, None);
    let namespaces =
        keelson_api::registry::by_resource("", "namespaces").expect("namespaces are registered");
    for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let namespace = serde_json::json!({"metadata": {"name": name}});
        match objects
            .create(
                namespaces,
                None,
                namespace,
                &objects::WriteOptions::default(),
            )
            .await
        {
            Ok(_) => {}
            Err(err) if err.reason == keelson_api::StatusReason::AlreadyExists => {}
            Err(err) => return Err(err),
        }
    }
    registry::bootstrap::ensure(&objects).await?;
    registry::allocation::ensure_service_cidr(&objects, &config.ranges).await
}

/// Serves the API on `listener` until `shutdown` completes; then the
/// watches end, and it returns once every connection has closed.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Arc<dyn Store>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, store, Config::default(), shutdown).await
}

/// [`serve`], set up as `config` says; keeps the `kubernetes` Service
/// pointing at this server meanwhile.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    store: Arc<dyn Store>,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let tls = match &config.tls {
        Some(tls) => Some(serve::tls::acceptor(tls).map_err(std::io::Error::other)?),
        None => None,
    };
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let address = listener.local_addr()?;
    let state = state_of(store, &config, stopping.clone());
    let router = router_of(state.clone(), &config);
    let limits = config.connections.clone();
    let keeper = tokio::spawn(keep_kubernetes_service(
        state.objects.clone(),
        config,
        address,
        stopping,
    ));
    let shutdown = async move {
        shutdown.await;
        // Watches would hold their connections open for minutes.
        let _ = stop.send(true);
    };
    serve::run(listener, router, &limits, tls, shutdown).await;
    keeper.abort();
    Ok(())
}

/// Reconciles the `kubernetes` Service every interval until `stopping`.
async fn keep_kubernetes_service(
    objects: objects::Objects,
    config: Config,
    address: std::net::SocketAddr,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let first = config.ranges.kubernetes_service_ip();
    loop {
        if let Err(err) =
            registry::kubernetes_service::reconcile(&objects, &first.to_string(), address).await
        {
            tracing::warn!(error = %err, "failed to keep the kubernetes Service");
        }
        tokio::select! {
            _ = tokio::time::sleep(registry::kubernetes_service::INTERVAL) => {}
            _ = stopping.changed() => return,
        }
    }
}
