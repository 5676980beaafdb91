//! keelson's API server: the Kubernetes REST API (discovery, OpenAPI, CRUD,
//! list and watch, patches, subresources, tables) on the keelson store.
//!
//! [`router`] builds the HTTP service on a store; [`serve`] runs it on a
//! listener until shutdown.
//!
//! The crate is layered, and imports only point down:
//! - `http`: paths, bodies, responses, negotiation, and the handlers;
//! - `registry`: what subresources do beyond storing fields (scale,
//!   binding, eviction) and admission, the checks every write passes;
//! - `watch`: the watch cache, one store watch per resource, fanned out;
//! - [`objects`]: the generic object layer over the store, with every
//!   kind's rules found from its strategy in `keelson_api::strategy`;
//! - `fields`: managedFields, the server-side apply engine and patches;
//! - `codec`: JSON, YAML and protobuf documents into JSON values;
//! - `schema` and `documents` ([`discovery`], [`openapi`], [`table`]):
//!   what the registry and the OpenAPI schemas say, and `meta`, helpers
//!   for metadata.

// The layers, top to bottom (see above); a module imports only from
// those below it.
mod http;

mod registry;

mod watch;

pub mod objects;

mod fields;

mod codec;

mod schema;

mod documents;

mod meta;

pub use documents::{discovery, openapi, table};

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
}

/// The API server's HTTP service on `store`; its watches end when
/// `stopping` turns true.
pub fn router(store: Arc<dyn Store>, stopping: tokio::sync::watch::Receiver<bool>) -> Router {
    let state = AppState {
        objects: objects::Objects::new(Arc::clone(&store))
            .with_admission(registry::admission::chain()),
        caches: watch::Caches::new(store),
        stopping,
    };
    Router::new()
        .route("/version", get(discovery_routes::version))
        .route("/healthz", get(discovery_routes::ok))
        .route("/livez", get(discovery_routes::ok))
        .route("/readyz", get(discovery_routes::ok))
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
        // Bodies are read with their own limit so that an oversized one is
        // a `Status`, not a bare 413.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

/// Creates the namespaces every cluster starts with, if missing.
pub async fn bootstrap(store: Arc<dyn Store>) -> Result<(), keelson_api::ApiError> {
    let objects = objects::Objects::new(store).with_admission(registry::admission::chain());
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
    Ok(())
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Arc<dyn Store>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let shutdown = async move {
        shutdown.await;
        // Watches would hold their connections open for minutes.
        let _ = stop.send(true);
    };
    axum::serve(listener, router(store, stopping))
        .with_graceful_shutdown(shutdown)
        .await
}
