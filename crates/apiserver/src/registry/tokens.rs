//! ServiceAccount tokens as upstream issues them: JWTs signed with the
//! server's key (ES256 here, an ECDSA P-256 key kept as PKCS#8 PEM), with
//! the issuer, the audiences, an expiry and the `kubernetes.io` claims that
//! bind a token to its ServiceAccount and, optionally, to a Pod, Secret or
//! Node. [`Issuer::verify`] checks what the token itself says (signature,
//! issuer, time, audience); whether the objects it names still exist is
//! checked against the live objects by the caller.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde::{Deserialize, Serialize};

/// Upstream's default issuer and audience (kubeadm's `--service-account-issuer`).
pub const DEFAULT_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

/// The DER prefix of a P-256 public key's SubjectPublicKeyInfo: the point
/// follows it. The key id is a hash of the whole structure, as upstream's.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// A failure to make, read or accept a token.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// The signing key file is not a P-256 PKCS#8 key.
    #[error("failed to read the service account signing key: {0}")]
    Key(String),
    /// The token is not one this server signed, or is malformed.
    #[error("invalid bearer token, {0}")]
    Invalid(String),
}

/// An object a token is bound to, as its claims name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ref {
    pub name: String,
    pub uid: String,
}

/// The `kubernetes.io` claims of a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Private {
    pub namespace: String,
    pub serviceaccount: Ref,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<Ref>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Ref>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<Ref>,
}

/// A token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: Vec<String>,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    #[serde(rename = "kubernetes.io")]
    pub kubernetes: Private,
}

/// Signs and verifies the server's ServiceAccount tokens.
pub struct Issuer {
    issuer: String,
    audiences: Vec<String>,
    kid: String,
    /// The public key's point, for the key set it publishes.
    point: Vec<u8>,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Issuer")
            .field("issuer", &self.issuer)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A new P-256 signing key, as PKCS#8 PEM.
pub fn generate_key_pem() -> Result<String, TokenError> {
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .map_err(|_| TokenError::Key("the system's random source failed".into()))?;
    Ok(pem::encode(&pem::Pem::new(
        "PRIVATE KEY",
        pkcs8.as_ref().to_vec(),
    )))
}

impl Issuer {
    /// The issuer for a PKCS#8 PEM key; `audiences` empty means the issuer.
    pub fn new(key_pem: &str, issuer: &str, audiences: &[String]) -> Result<Self, TokenError> {
        let pem = pem::parse(key_pem).map_err(|err| TokenError::Key(err.to_string()))?;
        if pem.tag() != "PRIVATE KEY" {
            return Err(TokenError::Key(format!(
                "a PKCS#8 \"PRIVATE KEY\" block is needed, not {:?}",
                pem.tag()
            )));
        }
        let pair = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            pem.contents(),
            &SystemRandom::new(),
        )
        .map_err(|err| TokenError::Key(format!("not a P-256 key: {err}")))?;
        let point = pair.public_key().as_ref().to_vec();
        let spki = [P256_SPKI_PREFIX.as_slice(), &point].concat();
        let kid = {
            use base64::Engine;
            let digest = ring::digest::digest(&ring::digest::SHA256, &spki);
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
        };
        let audiences = match audiences.is_empty() {
            true => vec![issuer.to_string()],
            false => audiences.to_vec(),
        };
        Ok(Issuer {
            issuer: issuer.to_string(),
            audiences,
            kid,
            point: point.clone(),
            encoding: EncodingKey::from_ec_der(pem.contents()),
            decoding: DecodingKey::from_ec_der(&point),
        })
    }

    /// The OpenID discovery document (`/.well-known/openid-configuration`)
    /// that lets others verify the tokens, as upstream serves it.
    pub fn discovery(&self) -> serde_json::Value {
        serde_json::json!({
            "issuer": self.issuer,
            "jwks_uri": format!("{}/openid/v1/jwks", self.issuer.trim_end_matches('/')),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
        })
    }

    /// The public key set (`/openid/v1/jwks`).
    pub fn jwks(&self) -> serde_json::Value {
        use base64::Engine;
        let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        // An uncompressed P-256 point: 0x04, then x and y of 32 bytes each.
        let coordinates = self.point.get(1..).unwrap_or_default();
        let (x, y) = coordinates.split_at(coordinates.len() / 2);
        serde_json::json!({"keys": [{
            "use": "sig", "kty": "EC", "kid": self.kid, "crv": "P-256", "alg": "ES256",
            "x": encode(x), "y": encode(y),
        }]})
    }

    /// The audiences a token gets when its request names none.
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// Signs `claims`, filling in the issuer.
    pub fn sign(&self, mut claims: Claims) -> Result<String, TokenError> {
        claims.iss = self.issuer.clone();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|err| TokenError::Key(format!("failed to sign a token: {err}")))
    }

    /// The claims of `token` if this server signed it, it is within its
    /// lifetime at `now` (seconds since the epoch) and one of its audiences
    /// is `accepted` (the server's audiences when empty).
    pub fn verify(&self, token: &str, now: i64, accepted: &[String]) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[&self.issuer]);
        let accepted = match accepted.is_empty() {
            true => &self.audiences,
            false => accepted,
        };
        validation.set_audience(accepted);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Time is checked below, against the caller's clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|err| TokenError::Invalid(invalid_reason(&err)))?;
        let claims = data.claims;
        if claims.exp <= now {
            return Err(TokenError::Invalid(
                "service account token has expired".into(),
            ));
        }
        if claims.nbf > now + CLOCK_SKEW_SECONDS {
            return Err(TokenError::Invalid(
                "service account token is not valid yet".into(),
            ));
        }
        Ok(claims)
    }
}

/// How far a token's not-before may be ahead of this server's clock.
const CLOCK_SKEW_SECONDS: i64 = 60;

fn invalid_reason(err: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match err.kind() {
        ErrorKind::InvalidSignature => "service account token signature is invalid".into(),
        ErrorKind::InvalidIssuer => "service account token has the wrong issuer".into(),
        ErrorKind::InvalidAudience => "token audiences is invalid for the target audiences".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("service account token has no {claim}"),
        _ => "service account token is malformed".into(),
    }
}

/// Seconds since the epoch.
pub fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(now: i64, audience: &str) -> Claims {
        Claims {
            iss: String::new(),
            sub: "system:serviceaccount:default:builder".into(),
            aud: vec![audience.into()],
            exp: now + 3600,
            iat: now,
            nbf: now,
            jti: "j".into(),
            kubernetes: Private {
                namespace: "default".into(),
                serviceaccount: Ref {
                    name: "builder".into(),
                    uid: "u-1".into(),
                },
                pod: None,
                secret: None,
                node: None,
            },
        }
    }

    fn issuer() -> Issuer {
        Issuer::new(&generate_key_pem().unwrap(), DEFAULT_ISSUER, &[]).unwrap()
    }

    #[test]
    fn a_signed_token_verifies_and_carries_its_claims() {
        let issuer = issuer();
        let now = 1_700_000_000;
        let token = issuer.sign(claims(now, DEFAULT_ISSUER)).unwrap();
        let verified = issuer.verify(&token, now + 10, &[]).unwrap();
        assert_eq!(verified.iss, DEFAULT_ISSUER);
        assert_eq!(verified.kubernetes.serviceaccount.name, "builder");
    }

    #[test]
    fn bad_tokens_are_refused_with_a_reason() {
        let issuer = issuer();
        let now = 1_700_000_000;
        let token = issuer.sign(claims(now, DEFAULT_ISSUER)).unwrap();
        let expired = issuer.verify(&token, now + 3600, &[]).unwrap_err();
        assert_eq!(
            expired.to_string(),
            "invalid bearer token, service account token has expired"
        );
        let early = issuer.verify(&token, now - 3600, &[]).unwrap_err();
        assert!(early.to_string().contains("not valid yet"), "{early}");
        let other = Issuer::new(&generate_key_pem().unwrap(), DEFAULT_ISSUER, &[]).unwrap();
        let forged = other.verify(&token, now, &[]).unwrap_err();
        assert!(
            forged.to_string().contains("signature is invalid"),
            "{forged}"
        );
        let elsewhere = issuer.sign(claims(now, "https://vault.example")).unwrap();
        let audience = issuer.verify(&elsewhere, now, &[]).unwrap_err();
        assert!(audience.to_string().contains("audiences"), "{audience}");
        assert!(
            issuer
                .verify(&elsewhere, now, &["https://vault.example".into()])
                .is_ok()
        );
        for garbage in ["", "a.b.c", "not a token"] {
            assert!(issuer.verify(garbage, now, &[]).is_err());
        }
    }

    #[test]
    fn the_published_key_verifies_the_tokens() {
        let issuer = issuer();
        let jwks = issuer.jwks();
        let key = &jwks["keys"][0];
        let decoding =
            DecodingKey::from_ec_components(key["x"].as_str().unwrap(), key["y"].as_str().unwrap())
                .unwrap();
        let now = now_seconds();
        let token = issuer.sign(claims(now, DEFAULT_ISSUER)).unwrap();
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&[DEFAULT_ISSUER]);
        assert!(jsonwebtoken::decode::<Claims>(&token, &decoding, &validation).is_ok());
        assert_eq!(
            issuer.discovery()["jwks_uri"],
            "https://kubernetes.default.svc.cluster.local/openid/v1/jwks"
        );
    }

    #[test]
    fn only_a_p256_pkcs8_key_is_taken() {
        assert!(Issuer::new("not pem", DEFAULT_ISSUER, &[]).is_err());
        let wrong = pem::encode(&pem::Pem::new("RSA PRIVATE KEY", vec![1, 2, 3]));
        assert!(Issuer::new(&wrong, DEFAULT_ISSUER, &[]).is_err());
        let debug = format!("{:?}", issuer());
        assert!(!debug.contains("PRIVATE"), "{debug}");
    }
}
