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

/// The pooled client of the benchmarks: the admin's certificate, or a
/// bearer token and no certificate.
#[derive(Clone)]
pub(crate) struct HttpClient {
    pool: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    bearer: Option<http::HeaderValue>,
}

impl HttpClient {
    /// Sends `request` with the client's credentials.
    pub(crate) async fn request(
        &self,
        mut request: http::Request<Full<Bytes>>,
    ) -> Result<http::Response<hyper::body::Incoming>, hyper_util::client::legacy::Error> {
        if let Some(bearer) = &self.bearer {
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, bearer.clone());
        }
        self.pool.request(request).await
    }
}

/// A client of `server` keeping up to `idle` connections, as its admin.
pub(crate) fn http_client(server: &KeelsonProcess, idle: usize) -> anyhow::Result<HttpClient> {
    let config = server.tls_client_config(&[])?;
    pooled(config.as_deref().cloned(), idle, None)
}

/// A client of `server` that sends `token` and no certificate.
pub(crate) fn token_client(
    server: &KeelsonProcess,
    idle: usize,
    token: &str,
) -> anyhow::Result<HttpClient> {
    let ca = server.data_dir().join("pki/ca.crt");
    let config = keelson_harness::tls::client_config(&ca, None, &[])?;
    let bearer = http::HeaderValue::from_str(&format!("Bearer {token}"))?;
    pooled(Some((*config).clone()), idle, Some(bearer))
}

fn pooled(
    config: Option<rustls::ClientConfig>,
    idle: usize,
    bearer: Option<http::HeaderValue>,
) -> anyhow::Result<HttpClient> {
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let connector = match config {
        Some(config) => builder
            .with_tls_config(config)
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
    let pool = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(idle)
        .build(connector);
    Ok(HttpClient { pool, bearer })
}

fn trusting_nothing() -> anyhow::Result<rustls::ClientConfig> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth())
}
