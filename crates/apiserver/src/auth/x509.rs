//! Client certificates: the user of a verified certificate chain is its
//! leaf's subject, the common name the user's name and each organization
//! one of its groups, as upstream's x509 authenticator maps them.
//!
//! The TLS layer verifies the chain against the client CA and hands the
//! DER certificates over as a request extension, [`ClientCertificates`];
//! here the leaf is read and its validity period checked against now.

use std::sync::{Arc, OnceLock};

use x509_parser::prelude::{FromDer, X509Certificate};

use super::user::User;

/// The DER certificates a client presented, leaf first, already verified
/// against the client CA by the TLS layer. Clones share the chain and
/// what is read from its leaf, which is read once: a connection hands one
/// clone to each of its requests.
#[derive(Debug, Clone, Default)]
pub struct ClientCertificates {
    chain: Arc<[Vec<u8>]>,
    leaf: Arc<OnceLock<Result<Leaf, CertificateError>>>,
}

impl ClientCertificates {
    /// The certificates of `chain`, leaf first.
    pub fn new(chain: Vec<Vec<u8>>) -> Self {
        ClientCertificates {
            chain: chain.into(),
            leaf: Arc::default(),
        }
    }

    /// The leaf as read, once for all clones.
    fn leaf(&self) -> Option<&Result<Leaf, CertificateError>> {
        let der = self.chain.first()?;
        Some(self.leaf.get_or_init(|| Leaf::read(der)))
    }
}

/// What authentication needs of a leaf certificate.
#[derive(Debug)]
struct Leaf {
    /// The subject's common name; empty when it has none.
    name: String,
    /// The subject's organizations.
    groups: Vec<String>,
    not_before: i64,
    not_after: i64,
}

impl Leaf {
    fn read(der: &[u8]) -> Result<Self, CertificateError> {
        let (_, certificate) = X509Certificate::from_der(der)
            .map_err(|err| CertificateError::Malformed(err.to_string()))?;
        let validity = certificate.validity();
        let subject = certificate.subject();
        let name = subject
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .unwrap_or_default();
        let groups = subject
            .iter_organization()
            .filter_map(|o| o.as_str().ok())
            .map(str::to_string)
            .collect();
        Ok(Leaf {
            name: name.to_string(),
            groups,
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
        })
    }
}

/// Why a client certificate does not authenticate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("failed to parse the client certificate: {0}")]
    Malformed(String),
    #[error(
        "x509: certificate has expired or is not yet valid: current time {now} is {relation} {bound}"
    )]
    OutsideValidity {
        now: String,
        relation: &'static str,
        bound: String,
    },
}

/// The user of `certificates` at `now` (seconds since the epoch); `None`
/// when there is no certificate or its subject has no common name. The
/// validity period is checked at every call, so that a certificate that
/// expires while its connection is open stops authenticating.
pub fn user_of(
    certificates: &ClientCertificates,
    now: i64,
) -> Result<Option<User>, CertificateError> {
    let Some(leaf) = certificates.leaf() else {
        return Ok(None);
    };
    let leaf = leaf.as_ref().map_err(Clone::clone)?;
    let outside = |relation, bound: i64| CertificateError::OutsideValidity {
        now: rfc3339(now),
        relation,
        bound: rfc3339(bound),
    };
    if now < leaf.not_before {
        return Err(outside("before", leaf.not_before));
    }
    if now > leaf.not_after {
        return Err(outside("after", leaf.not_after));
    }
    if leaf.name.is_empty() {
        return Ok(None);
    }
    let user = User {
        name: leaf.name.clone(),
        groups: leaf.groups.clone(),
        ..User::default()
    };
    Ok(Some(user.authenticated()))
}

fn rfc3339(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| seconds.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};

    fn certificate(cn: &str, orgs: &[&str], from: i64, until: i64) -> ClientCertificates {
        let mut params = CertificateParams::default();
        let mut subject = DistinguishedName::new();
        if !cn.is_empty() {
            subject.push(DnType::CommonName, cn);
        }
        for org in orgs {
            subject.push(DnType::OrganizationName, *org);
        }
        params.distinguished_name = subject;
        params.not_before = time_of(from);
        params.not_after = time_of(until);
        let key = KeyPair::generate().expect("a key");
        let cert = params.self_signed(&key).expect("a certificate");
        ClientCertificates::new(vec![cert.der().to_vec()])
    }

    fn time_of(seconds: i64) -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp(seconds).expect("a time")
    }

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn subject_is_the_user() {
        // (rcgen keeps one attribute of each type: one organization.)
        let certs = certificate("jane", &["system:masters"], NOW - 60, NOW + 60);
        let user = user_of(&certs, NOW).expect("valid").expect("a user");
        assert_eq!(user.name, "jane");
        assert_eq!(user.groups, ["system:masters", "system:authenticated"]);
        let nameless = certificate("", &["dev"], NOW - 60, NOW + 60);
        assert_eq!(user_of(&nameless, NOW), Ok(None));
        assert_eq!(user_of(&ClientCertificates::default(), NOW), Ok(None));
    }

    #[test]
    fn a_chain_read_once_is_still_checked_against_each_now() {
        let certs = certificate("jane", &["dev"], NOW - 60, NOW + 60);
        let user = user_of(&certs, NOW).expect("valid").expect("a user");
        assert_eq!(user.groups, ["dev", "system:authenticated"]);
        // A clone (another request of the connection) shares the read
        // leaf, and is refused once the certificate has expired.
        let later = certs.clone();
        assert_eq!(user_of(&later, NOW + 30), Ok(Some(user)));
        let err = user_of(&later, NOW + 120).expect_err("expired");
        assert!(err.to_string().contains("is after"), "{err}");
    }

    #[test]
    fn expired_not_yet_valid_and_garbage_are_refused() {
        let expired = certificate("jane", &[], NOW - 120, NOW - 60);
        let err = user_of(&expired, NOW).expect_err("expired");
        assert!(
            err.to_string().contains("has expired or is not yet valid"),
            "{err}"
        );
        assert!(err.to_string().contains("is after"), "{err}");
        let early = certificate("jane", &[], NOW + 60, NOW + 120);
        let err = user_of(&early, NOW).expect_err("not yet valid");
        assert!(err.to_string().contains("is before"), "{err}");
        let garbage = ClientCertificates::new(vec![vec![0x30, 0x03, 0x01, 0x02]]);
        assert!(matches!(
            user_of(&garbage, NOW),
            Err(CertificateError::Malformed(_))
        ));
    }
}
