//! The benchmarks' clients of a `keelson up` they started: a pooled
//! HTTP/1.1 client and raw connections, both speaking TLS with the admin's
//! credentials from the server's data dir (plain HTTP only for a server
//! started with the insecure flag), so that what is measured goes through
//! TLS as every real client's requests do.

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use keelson_harness::keelson::KeelsonProcess;

pub(crate) use keelson_harness::tls::{Dialer, Io};

/// The pooled client of the benchmarks.
pub(crate) type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client of `server` keeping up to `idle` connections.
pub(crate) fn http_client(server: &KeelsonProcess, idle: usize) -> anyhow::Result<HttpClient> {
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let connector = match server.tls_client_config(&[])? {
        Some(config) => builder
            .with_tls_config((*config).clone())
            .https_only()
            .enable_http1()
            .build(),
        // A server of plain HTTP: the TLS side, trusting nothing, is unused.
        None => builder
            .with_tls_config(trusting_nothing()?)
            .https_or_http()
            .enable_http1()
            .build(),
    };
    Ok(Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(idle)
        .build(connector))
}

fn trusting_nothing() -> anyhow::Result<rustls::ClientConfig> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth())
}
