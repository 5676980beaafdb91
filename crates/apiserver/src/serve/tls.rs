//! TLS on the accepted connections, with rustls on the ring provider.
//!
//! The server offers `h2` and `http/1.1` by ALPN (kubectl speaks HTTP/2
//! over TLS). With a client CA configured, it asks every client for a
//! certificate but does not insist, as upstream does: a client without one
//! is served all the same, and a verified chain is put into each of the
//! connection's requests as [`PeerCertificates`] for authentication to
//! read later. A certificate that does not verify ends the handshake.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio_rustls::TlsAcceptor;

/// What the server needs to speak TLS.
#[derive(Debug)]
pub struct TlsConfig {
    /// The serving certificate first, then its intermediates.
    pub cert_chain: Vec<CertificateDer<'static>>,
    /// The serving certificate's private key.
    pub key: PrivateKeyDer<'static>,
    /// The CAs client certificates are verified against; `None` asks no
    /// client for a certificate.
    pub client_cas: Option<Vec<CertificateDer<'static>>>,
}

impl Clone for TlsConfig {
    fn clone(&self) -> Self {
        Self {
            cert_chain: self.cert_chain.clone(),
            key: self.key.clone_key(),
            client_cas: self.client_cas.clone(),
        }
    }
}

/// The certificate chain a client presented and the server verified
/// against its client CA: the client's own certificate first. It is in
/// the extensions of every request of a connection that presented one.
#[derive(Debug, Clone)]
pub struct PeerCertificates(pub Arc<Vec<CertificateDer<'static>>>);

/// What can be wrong with a [`TlsConfig`].
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("failed to use the client CA: {0}")]
    ClientCa(String),
    #[error("failed to use the serving certificate and key: {0}")]
    ServingCertificate(rustls::Error),
}

/// The protocols offered by ALPN, most preferred first.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The acceptor for `config`.
pub(crate) fn acceptor(config: &TlsConfig) -> Result<TlsAcceptor, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(TlsError::ServingCertificate)?;
    let builder = match &config.client_cas {
        None => builder.with_no_client_auth(),
        Some(cas) => {
            let mut roots = rustls::RootCertStore::empty();
            for ca in cas {
                roots
                    .add(ca.clone())
                    .map_err(|err| TlsError::ClientCa(err.to_string()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|err| TlsError::ClientCa(err.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut server = builder
        .with_single_cert(config.cert_chain.clone(), config.key.clone_key())
        .map_err(TlsError::ServingCertificate)?;
    server.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(TlsAcceptor::from(Arc::new(server)))
}

/// The verified chain of a connection's client, if it presented one.
pub(super) fn peer_certificates(connection: &rustls::ServerConnection) -> Option<PeerCertificates> {
    let chain = connection.peer_certificates()?;
    (!chain.is_empty()).then(|| PeerCertificates(Arc::new(chain.to_vec())))
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use axum::Router;
    use axum::routing::get;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use rustls::pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::serve::ConnectionLimits;

    /// A CA, and a certificate it signed for `names` (DER) with its key.
    struct Ca {
        cert: CertificateDer<'static>,
        issuer: Issuer<'static, KeyPair>,
    }

    impl Ca {
        fn new() -> Self {
            let key = KeyPair::generate().expect("a key");
            let mut params = CertificateParams::new(Vec::new()).expect("params");
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let cert = params.self_signed(&key).expect("a CA certificate");
            Self {
                cert: cert.der().clone(),
                issuer: Issuer::new(params, key),
            }
        }

        fn issue(&self, names: &[&str]) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
            let key = KeyPair::generate().expect("a key");
            let names = names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
            let params = CertificateParams::new(names).expect("params");
            let cert = params.signed_by(&key, &self.issuer).expect("a certificate");
            let key = PrivateKeyDer::try_from(key.serialize_der()).expect("a PKCS#8 key");
            (cert.der().clone(), key)
        }
    }

    /// Answers whether the request carries a client certificate chain.
    async fn who(request: axum::extract::Request) -> String {
        match request.extensions().get::<PeerCertificates>() {
            Some(PeerCertificates(chain)) => format!("peer of {} certificates", chain.len()),
            None => "anonymous".to_string(),
        }
    }

    async fn serve(ca: &Ca) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        serve_at_most(ca, ConnectionLimits::default().max_connections).await
    }

    async fn serve_at_most(
        ca: &Ca,
        max_connections: usize,
    ) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let (cert, key) = ca.issue(&["localhost"]);
        let config = TlsConfig {
            cert_chain: vec![cert],
            key,
            client_cas: Some(vec![ca.cert.clone()]),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let address = listener.local_addr().expect("an address");
        let limits = ConnectionLimits {
            read_header_timeout: Duration::from_millis(300),
            max_connections,
            ..ConnectionLimits::default()
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let slow = || async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            "slow"
        };
        let router = Router::new().route("/", get(who)).route("/slow", get(slow));
        let tls = acceptor(&config).expect("an acceptor");
        tokio::spawn(async move {
            crate::serve::run(listener, router, &limits, Some(tls), async {
                let _ = stopped.await;
            })
            .await;
        });
        (address, stop)
    }

    fn client(
        ca: &Ca,
        identity: Option<(CertificateDer<'static>, PrivateKeyDer<'static>)>,
    ) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.cert.clone()).expect("a root");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots);
        let mut config = match identity {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => builder
                .with_client_auth_cert(vec![cert], key)
                .expect("a client certificate"),
        };
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(config)
    }

    /// The negotiated protocol and the answer to an HTTP/1.1 `GET /`
    /// (sent without ALPN), or the error.
    async fn ask(address: SocketAddr, config: Arc<rustls::ClientConfig>) -> Result<String, String> {
        let mut plain = (*config).clone();
        plain.alpn_protocols = vec![b"http/1.1".to_vec()];
        let connector = tokio_rustls::TlsConnector::from(Arc::new(plain));
        let stream = tokio::net::TcpStream::connect(address)
            .await
            .map_err(|e| e.to_string())?;
        let name = ServerName::try_from("localhost").expect("a name");
        let mut stream = connector
            .connect(name, stream)
            .await
            .map_err(|e| e.to_string())?;
        let request = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        stream.write_all(request).await.map_err(|e| e.to_string())?;
        let mut answer = Vec::new();
        let read = stream.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer).to_string();
        match (read, answer.is_empty()) {
            (Err(err), true) => Err(err.to_string()),
            _ => Ok(answer),
        }
    }

    #[tokio::test]
    async fn client_certificates_are_asked_for_verified_and_handed_to_requests() {
        let ca = Ca::new();
        let (address, _stop) = serve(&ca).await;

        let anonymous = ask(address, client(&ca, None)).await;
        assert!(
            anonymous
                .as_ref()
                .is_ok_and(|a| a.starts_with("HTTP/1.1 200") && a.ends_with("anonymous")),
            "{anonymous:?}"
        );

        let known = ask(address, client(&ca, Some(ca.issue(&["admin"])))).await;
        assert!(
            known
                .as_ref()
                .is_ok_and(|a| a.ends_with("peer of 1 certificates")),
            "{known:?}"
        );

        // A certificate of another CA ends the handshake.
        let stranger = Ca::new();
        let refused = ask(address, client(&ca, Some(stranger.issue(&["admin"])))).await;
        assert!(refused.is_err(), "{refused:?}");
    }

    #[tokio::test]
    async fn alpn_offers_h2_and_plain_http_and_silence_get_no_answer() {
        let ca = Ca::new();
        let (address, _stop) = serve(&ca).await;

        let connector = tokio_rustls::TlsConnector::from(client(&ca, None));
        let stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("connects");
        let name = ServerName::try_from("localhost").expect("a name");
        let stream = connector.connect(name, stream).await.expect("a handshake");
        assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));

        let mut plain = tokio::net::TcpStream::connect(address)
            .await
            .expect("connects");
        plain
            .write_all(b"GET / HTTP/1.1\r\nHost: k\r\n\r\n")
            .await
            .expect("writes");
        let mut answer = Vec::new();
        let _ = plain.read_to_end(&mut answer).await;
        assert!(!answer.starts_with(b"HTTP/"), "{answer:?}");

        // No hello at all: closed when the headers' deadline passes.
        let mut silent = tokio::net::TcpStream::connect(address)
            .await
            .expect("connects");
        let mut byte = [0u8; 1];
        let closed = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut byte)).await;
        assert!(matches!(closed, Ok(Ok(0) | Err(_))), "{closed:?}");
    }

    #[tokio::test]
    async fn a_connection_over_the_cap_is_refused_over_tls() {
        let ca = Ca::new();
        let (address, _stop) = serve_at_most(&ca, 1).await;
        let config = client(&ca, None);
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(&config));
        let stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("connects");
        let name = ServerName::try_from("localhost").expect("a name");
        let mut busy = connector.connect(name, stream).await.expect("a handshake");
        let slow = b"GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n";
        busy.write_all(slow).await.expect("writes");
        busy.flush().await.expect("flushes");
        tokio::time::sleep(Duration::from_millis(200)).await;

        let refused = ask(address, config).await;
        assert!(
            refused
                .as_ref()
                .is_ok_and(|a| a.starts_with("HTTP/1.1 429") && a.contains("TooManyRequests")),
            "{refused:?}"
        );
    }
}
