//! TLS clients of a keelson server: a rustls client configuration that
//! verifies the server with a CA file (and presents a client certificate
//! when given one), and a connection made with it, for the readiness
//! probe and for tests and benchmarks that write their requests by hand.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// A client certificate and its key, both PEM files.
#[derive(Clone, Copy, Debug)]
pub struct Identity<'a> {
    pub cert: &'a Path,
    pub key: &'a Path,
}

/// A client configuration, on the ring provider, that trusts the CAs in
/// the PEM file `ca` and presents `identity` if given; it offers
/// `alpn` (e.g. `[b"http/1.1"]`, or nothing).
pub fn client_config(
    ca: &Path,
    identity: Option<Identity<'_>>,
    alpn: &[&[u8]],
) -> io::Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in read_certificates(ca)? {
        roots.add(cert).map_err(invalid(ca))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots);
    let mut config = match identity {
        None => builder.with_no_client_auth(),
        Some(identity) => {
            let chain = read_certificates(identity.cert)?;
            let key = PrivateKeyDer::from_pem_file(identity.key).map_err(invalid(identity.key))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(invalid(identity.cert))?
        }
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// A byte stream to a server, plain or TLS.
pub trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}

impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// How to open a connection to one server: TCP to its address, then TLS
/// with `tls` when it serves TLS.
#[derive(Clone, Debug)]
pub struct Dialer {
    pub address: SocketAddr,
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl Dialer {
    /// A new connection, its TLS handshake done.
    pub async fn connect(&self) -> io::Result<Box<dyn Io>> {
        match &self.tls {
            None => {
                let stream = TcpStream::connect(self.address).await?;
                let _ = stream.set_nodelay(true);
                Ok(Box::new(stream))
            }
            Some(config) => Ok(Box::new(connect(self.address, config).await?)),
        }
    }

    /// TLS on an open TCP connection (none when the server is plain).
    pub async fn secure(&self, stream: TcpStream) -> io::Result<Box<dyn Io>> {
        match &self.tls {
            None => Ok(Box::new(stream)),
            Some(config) => {
                let name = ServerName::IpAddress(self.address.ip().into());
                Ok(Box::new(wrap(stream, name, config).await?))
            }
        }
    }
}

/// Connects to `address` and completes a TLS handshake with `config`,
/// verifying the server's certificate for `address`'s IP.
pub async fn connect(
    address: SocketAddr,
    config: &Arc<rustls::ClientConfig>,
) -> io::Result<TlsStream<TcpStream>> {
    let stream = TcpStream::connect(address).await?;
    let _ = stream.set_nodelay(true);
    wrap(stream, ServerName::IpAddress(address.ip().into()), config).await
}

/// A TLS handshake on `stream`, verifying the server's certificate for
/// `name`.
pub async fn wrap(
    stream: TcpStream,
    name: ServerName<'static>,
    config: &Arc<rustls::ClientConfig>,
) -> io::Result<TlsStream<TcpStream>> {
    TlsConnector::from(Arc::clone(config))
        .connect(name, stream)
        .await
}

fn read_certificates(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(invalid(path))?;
    match certs.is_empty() {
        true => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} holds no certificate", path.display()),
        )),
        false => Ok(certs),
    }
}

fn invalid<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> io::Error + '_ {
    move |err| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("failed to use {}: {err}", path.display()),
        )
    }
}
