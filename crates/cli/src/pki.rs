//! The cluster's certificates, kept in `DATA_DIR/pki`: a CA (`ca.crt`,
//! `ca.key`), the API server's serving certificate (`apiserver.crt`,
//! `apiserver.key`) and an admin client certificate (`admin.crt`,
//! `admin.key`: CN `kubernetes-admin`, O `system:masters`) for the
//! kubeconfig. Each is made on the first start and reused after; the
//! serving certificate is made again when it no longer verifies against
//! the CA for every name the server must answer to (the listen address
//! changed, say) or expires within 30 days. Private keys are mode 0600.
//!
//! `--tls-cert-file` and `--tls-private-key-file` serve another
//! certificate instead, and `--client-ca-file` verifies client
//! certificates against more CAs than the cluster's (which stays, as it
//! signs the kubeconfig's admin certificate).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use keelson_apiserver::TlsConfig;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

/// The CA's common name.
const CA_NAME: &str = "keelson-ca";
/// The admin client certificate's user and group, as kubeadm names them.
pub const ADMIN_USER: &str = "kubernetes-admin";
pub const ADMIN_GROUP: &str = "system:masters";
/// How long certificates are valid: the CA ten years, the others one.
const CA_DAYS: i64 = 3650;
const LEAF_DAYS: i64 = 365;
/// A serving certificate is made anew at a start this close to its end.
const RENEW_DAYS: u64 = 30;

/// Certificate files given on the command line instead of the cluster's.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub client_ca_file: Option<PathBuf>,
}

/// What the server and the kubeconfig are given.
pub struct Pki {
    pub serving: TlsConfig,
    /// The CAs a client verifies the server with, PEM.
    pub server_ca_pem: String,
    /// The admin's client certificate and key, PEM.
    pub admin_cert_pem: String,
    pub admin_key_pem: String,
    /// Each cluster component's identity: its kubeconfig's name, its
    /// certificate and its key (PEM).
    pub components: Vec<(&'static str, String, String)>,
}

/// The names and addresses the serving certificate is valid for:
/// loopback, the `kubernetes` Service's names and cluster IP, and `listen`
/// (unless it is the unspecified address).
pub fn serving_names(listen: IpAddr, kubernetes_service_ip: IpAddr) -> Vec<String> {
    let mut names: Vec<String> = [
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "127.0.0.1",
    ]
    .map(String::from)
    .to_vec();
    for ip in [kubernetes_service_ip, listen] {
        if !ip.is_unspecified() && !names.contains(&ip.to_string()) {
            names.push(ip.to_string());
        }
    }
    names
}

/// Loads the cluster's certificates from `data_dir/pki`, making what is
/// missing, and applies the overrides.
pub fn ensure(data_dir: &Path, names: &[String], overrides: &Overrides) -> anyhow::Result<Pki> {
    let dir = data_dir.join("pki");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    crate::up::set_mode(&dir, 0o700)?;
    let (ca, fresh) = Ca::load_or_create(&dir)?;
    let serving = match (&overrides.cert_file, &overrides.key_file) {
        (Some(cert), Some(key)) => given_serving(cert, key)?,
        (None, None) => ca.serving(&dir, names, fresh)?,
        _ => anyhow::bail!("--tls-cert-file and --tls-private-key-file go together"),
    };
    let server_ca_pem = match &overrides.cert_file {
        // The top of the given chain is what a client can anchor it to.
        Some(_) => pem_of(serving.0.last().expect("a chain has a certificate")),
        None => ca.cert_pem.clone(),
    };
    // The cluster's CA signs the kubeconfig's admin certificate, so it is
    // kept beside the given CAs.
    let mut client_cas = vec![ca.cert.clone()];
    if let Some(path) = &overrides.client_ca_file {
        client_cas.extend(read_certificates(path)?);
    }
    let (admin_cert_pem, admin_key_pem) = ca.admin(&dir, fresh)?;
    let mut components = Vec::new();
    for (name, user) in COMPONENTS {
        let (cert, key) = ca.client(&dir, name, user, None, fresh)?;
        components.push((name, cert, key));
    }
    Ok(Pki {
        serving: TlsConfig {
            cert_chain: serving.0,
            key: serving.1,
            client_cas: Some(client_cas),
        },
        server_ca_pem,
        admin_cert_pem,
        admin_key_pem,
        components,
    })
}

/// The cluster components and the users upstream's bootstrap policy
/// grants their permissions to, each with a client certificate of its own
/// (`scheduler.crt`, ...) and a kubeconfig (`scheduler.kubeconfig`, ...).
pub const COMPONENTS: [(&str, &str); 2] = [
    ("scheduler", "system:kube-scheduler"),
    ("controller-manager", "system:kube-controller-manager"),
];

/// A new client certificate and key (PEM) for `user` in `group`, signed
/// by the cluster's CA in `DATA_DIR/pki`, valid for `days`: how a user or
/// a node agent (`system:node:NAME` in `system:nodes`) is given an
/// identity, as `kubeadm kubeconfig user` gives one. Nothing is kept.
pub fn issue_client(
    data_dir: &Path,
    user: &str,
    group: Option<&str>,
    days: i64,
) -> anyhow::Result<(String, String)> {
    let dir = data_dir.join("pki");
    anyhow::ensure!(
        dir.join("ca.crt").exists() && dir.join("ca.key").exists(),
        "there is no cluster CA in {}: start `keelson up --data-dir {}` once first",
        dir.display(),
        data_dir.display()
    );
    let (ca, _) = Ca::load_or_create(&dir)?;
    anyhow::ensure!(!user.is_empty(), "a client certificate needs a user name");
    anyhow::ensure!(days > 0, "a certificate must be valid for a day at least");
    let mut params = leaf_params(user, group, Vec::new())?;
    params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    ca.issue(params)
}

/// The cluster's CA.
struct Ca {
    cert_pem: String,
    cert: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    /// The CA in `dir`, or a new one (then true).
    fn load_or_create(dir: &Path) -> anyhow::Result<(Self, bool)> {
        let (cert_path, key_path) = (dir.join("ca.crt"), dir.join("ca.key"));
        match (cert_path.exists(), key_path.exists()) {
            (true, true) => {
                let key = KeyPair::from_pem(&read(&key_path)?)
                    .with_context(|| format!("cannot read the key {}", key_path.display()))?;
                let cert_pem = read(&cert_path)?;
                let cert = first_certificate(&cert_pem, &cert_path)?;
                let issuer = Issuer::new(ca_params(), key);
                Ok((
                    Self {
                        cert_pem,
                        cert,
                        issuer,
                    },
                    false,
                ))
            }
            (false, false) => {
                let key = KeyPair::generate().context("cannot make the CA's key")?;
                let cert = ca_params()
                    .self_signed(&key)
                    .context("cannot make the CA certificate")?;
                write_key(&key_path, &key.serialize_pem())?;
                write_cert(&cert_path, &cert.pem())?;
                let ca = Self {
                    cert_pem: cert.pem(),
                    cert: cert.der().clone(),
                    issuer: Issuer::new(ca_params(), key),
                };
                Ok((ca, true))
            }
            _ => anyhow::bail!(
                "{} holds only one of ca.crt and ca.key; restore the other or remove both \
                 to make a new CA (every certificate is then made again)",
                dir.display()
            ),
        }
    }

    /// The serving certificate in `dir`, made (again) unless it is there
    /// and verifies for every one of `names`.
    fn serving(
        &self,
        dir: &Path,
        names: &[String],
        fresh: bool,
    ) -> anyhow::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
        let (cert_path, key_path) = (dir.join("apiserver.crt"), dir.join("apiserver.key"));
        if !fresh && cert_path.exists() && key_path.exists() {
            let chain = read_certificates(&cert_path)?;
            if self.verifies_for(&chain, names) {
                return Ok((chain, read_key(&key_path)?));
            }
        }
        let mut params = leaf_params("kube-apiserver", None, names.to_vec())?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let (cert_pem, key_pem) = self.issue(params)?;
        write_key(&key_path, &key_pem)?;
        write_cert(&cert_path, &cert_pem)?;
        let chain = read_certificates(&cert_path)?;
        anyhow::ensure!(
            self.verifies_for(&chain, names),
            "the serving certificate made with the CA in {} does not verify against it; \
             is ca.crt keelson's own?",
            dir.display()
        );
        Ok((chain, read_key(&key_path)?))
    }

    /// The admin's client certificate and key (PEM) in `dir`, made unless
    /// they are there and the CA is not new.
    fn admin(&self, dir: &Path, fresh: bool) -> anyhow::Result<(String, String)> {
        self.client(dir, "admin", ADMIN_USER, Some(ADMIN_GROUP), fresh)
    }

    /// A client certificate and key (PEM) for `user` in `group`, kept in
    /// `dir` as `NAME.crt` and `NAME.key`: made unless they are there and
    /// the CA is not new.
    fn client(
        &self,
        dir: &Path,
        name: &str,
        user: &str,
        group: Option<&str>,
        fresh: bool,
    ) -> anyhow::Result<(String, String)> {
        let cert_path = dir.join(format!("{name}.crt"));
        let key_path = dir.join(format!("{name}.key"));
        if !fresh && cert_path.exists() && key_path.exists() {
            return Ok((read(&cert_path)?, read(&key_path)?));
        }
        let mut params = leaf_params(user, group, Vec::new())?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let (cert_pem, key_pem) = self.issue(params)?;
        write_key(&key_path, &key_pem)?;
        write_cert(&cert_path, &cert_pem)?;
        Ok((cert_pem, key_pem))
    }

    /// A new key and a certificate for it signed by the CA, PEM.
    fn issue(&self, params: CertificateParams) -> anyhow::Result<(String, String)> {
        let key = KeyPair::generate().context("cannot make a key")?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .context("cannot sign a certificate with the CA")?;
        Ok((cert.pem(), key.serialize_pem()))
    }

    /// Whether `chain` verifies against the CA for each of `names`, now
    /// and still in [`RENEW_DAYS`] days.
    fn verifies_for(&self, chain: &[CertificateDer<'static>], names: &[String]) -> bool {
        let Some((leaf, intermediates)) = chain.split_first() else {
            return false;
        };
        let Ok(verifier) = server_verifier(std::slice::from_ref(&self.cert)) else {
            return false;
        };
        let now = UnixTime::now();
        let renew = std::time::Duration::from_secs(RENEW_DAYS * 24 * 3600);
        let later =
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(now.as_secs()) + renew);
        names.iter().all(|name| {
            ServerName::try_from(name.clone()).is_ok_and(|name| {
                [now, later].into_iter().all(|at| {
                    verifier
                        .verify_server_cert(leaf, intermediates, &name, &[], at)
                        .is_ok()
                })
            })
        })
    }
}

/// A verifier of server certificates against `cas`, on the ring provider.
pub fn server_verifier(
    cas: &[CertificateDer<'static>],
) -> anyhow::Result<Arc<rustls::client::WebPkiServerVerifier>> {
    let mut roots = rustls::RootCertStore::empty();
    for ca in cas {
        roots
            .add(ca.clone())
            .context("cannot use a CA certificate")?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .context("cannot build a certificate verifier")
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, CA_NAME);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(CA_DAYS);
    params
}

fn leaf_params(
    common_name: &str,
    organization: Option<&str>,
    names: Vec<String>,
) -> anyhow::Result<CertificateParams> {
    let mut params =
        CertificateParams::new(names).context("a name is not valid in a certificate")?;
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    if let Some(organization) = organization {
        params
            .distinguished_name
            .push(DnType::OrganizationName, organization);
    }
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let now = time::OffsetDateTime::now_utc();
    // Leeway for clocks a little behind.
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(LEAF_DAYS);
    Ok(params)
}

/// A serving certificate and key from the files given on the command line.
fn given_serving(
    cert: &Path,
    key: &Path,
) -> anyhow::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    Ok((read_certificates(cert)?, read_key(key)?))
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Every certificate in the PEM file at `path`; at least one.
pub fn read_certificates(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read the certificates in {}", path.display()))?;
    anyhow::ensure!(!certs.is_empty(), "{} holds no certificate", path.display());
    Ok(certs)
}

fn first_certificate(pem: &str, path: &Path) -> anyhow::Result<CertificateDer<'static>> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .with_context(|| format!("cannot read the certificate in {}", path.display()))
}

fn read_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path)
        .with_context(|| format!("cannot read the private key in {}", path.display()))
}

/// `cert` as a PEM `CERTIFICATE` block.
fn pem_of(cert: &CertificateDer<'_>) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

/// Writes a private key, readable by its owner only.
fn write_key(path: &Path, pem: &str) -> anyhow::Result<()> {
    crate::up::write_private(path, pem)
}

fn write_cert(path: &Path, pem: &str) -> anyhow::Result<()> {
    std::fs::write(path, pem).with_context(|| format!("cannot write {}", path.display()))?;
    crate::up::set_mode(path, 0o644)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(listen: &str) -> Vec<String> {
        let listen: IpAddr = listen.parse().expect("an address");
        serving_names(listen, "10.96.0.1".parse().expect("an address"))
    }

    #[test]
    fn the_serving_names_cover_loopback_the_service_and_the_listen_address() {
        let everywhere = names("0.0.0.0");
        assert_eq!(
            everywhere,
            [
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
                "127.0.0.1",
                "10.96.0.1",
            ]
        );
        assert_eq!(names("127.0.0.1"), everywhere);
        let elsewhere = names("192.0.2.7");
        assert_eq!(elsewhere.last().map(String::as_str), Some("192.0.2.7"));
    }

    fn read_file(dir: &Path, file: &str) -> Vec<u8> {
        std::fs::read(dir.join("pki").join(file)).expect("a pki file")
    }

    #[test]
    fn certificates_are_kept_and_the_serving_one_follows_the_names() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let none = Overrides::default();
        let first = ensure(dir.path(), &names("127.0.0.1"), &none).expect("made");
        let ca = read_file(dir.path(), "ca.crt");
        let serving = read_file(dir.path(), "apiserver.crt");
        let again = ensure(dir.path(), &names("127.0.0.1"), &none).expect("kept");
        assert_eq!(read_file(dir.path(), "apiserver.crt"), serving);
        assert_eq!(again.admin_cert_pem, first.admin_cert_pem);
        assert_eq!(again.server_ca_pem, first.server_ca_pem);

        ensure(dir.path(), &names("192.0.2.7"), &none).expect("made again");
        assert_eq!(read_file(dir.path(), "ca.crt"), ca);
        assert_ne!(read_file(dir.path(), "apiserver.crt"), serving);
    }

    #[test]
    fn a_serving_certificate_near_its_end_is_made_again() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let names = names("127.0.0.1");
        ensure(dir.path(), &names, &Overrides::default()).expect("made");
        let pki = dir.path().join("pki");
        let (ca, _) = Ca::load_or_create(&pki).expect("the CA");
        let mut params = leaf_params("kube-apiserver", None, names.clone()).expect("params");
        params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(10);
        let (cert, key) = ca.issue(params).expect("issued");
        write_cert(&pki.join("apiserver.crt"), &cert).expect("written");
        write_key(&pki.join("apiserver.key"), &key).expect("written");
        ensure(dir.path(), &names, &Overrides::default()).expect("made again");
        let now = read(&pki.join("apiserver.crt")).expect("a certificate");
        assert_ne!(now, cert, "a certificate 10 days from its end is replaced");
    }

    #[test]
    fn half_a_ca_and_half_a_pair_of_files_are_refused() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let none = Overrides::default();
        ensure(dir.path(), &names("127.0.0.1"), &none).expect("made");
        let cert_only = Overrides {
            cert_file: Some(dir.path().join("pki/apiserver.crt")),
            ..Overrides::default()
        };
        let err = ensure(dir.path(), &names("127.0.0.1"), &cert_only).err();
        assert!(err.is_some_and(|e| e.to_string().contains("go together")));
        std::fs::remove_file(dir.path().join("pki/ca.key")).expect("removed");
        let err = ensure(dir.path(), &names("127.0.0.1"), &none).err();
        assert!(
            err.is_some_and(|e| e.to_string().contains("only one of ca.crt and ca.key")),
            "a lone ca.crt is not replaced"
        );
    }
}
