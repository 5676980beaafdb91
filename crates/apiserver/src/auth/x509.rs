//! Client certificates: the user of a verified certificate chain is its
//! leaf's subject, the common name the user's name and each organization
//! one of its groups, as upstream's x509 authenticator maps them.
//!
//! The TLS layer verifies the chain against the client CA and hands the
//! DER certificates over as a request extension, [`ClientCertificates`];
//! here the leaf is read and its validity period checked against now.

use x509_parser::prelude::{FromDer, X509Certificate};

use super::user::User;

/// The DER certificates a client presented, leaf first, already verified
/// against the client CA by the TLS layer.
#[derive(Debug, Clone, Default)]
pub struct ClientCertificates(pub Vec<Vec<u8>>);

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
/// when there is no certificate or its subject has no common name.
pub fn user_of(
    certificates: &ClientCertificates,
    now: i64,
) -> Result<Option<User>, CertificateError> {
    let Some(leaf) = certificates.0.first() else {
        return Ok(None);
    };
    let (_, certificate) = X509Certificate::from_der(leaf)
        .map_err(|err| CertificateError::Malformed(err.to_string()))?;
    let validity = certificate.validity();
    let (not_before, not_after) = (validity.not_before, validity.not_after);
    let outside =
        |relation, bound: x509_parser::time::ASN1Time| CertificateError::OutsideValidity {
            now: rfc3339(now),
            relation,
            bound: rfc3339(bound.timestamp()),
        };
    if now < not_before.timestamp() {
        return Err(outside("before", not_before));
    }
    if now > not_after.timestamp() {
        return Err(outside("after", not_after));
    }
    let subject = certificate.subject();
    let name = subject
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or_default();
    if name.is_empty() {
        return Ok(None);
    }
    let groups: Vec<&str> = subject
        .iter_organization()
        .filter_map(|o| o.as_str().ok())
        .collect();
    Ok(Some(User::new(name, &groups).authenticated()))
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
        ClientCertificates(vec![cert.der().to_vec()])
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
        let garbage = ClientCertificates(vec![vec![0x30, 0x03, 0x01, 0x02]]);
        assert!(matches!(
            user_of(&garbage, NOW),
            Err(CertificateError::Malformed(_))
        ));
    }
}
