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
