//! The providers: one [`Transformer`] per configured key, with upstream's
//! stored layouts so that values have the same form as upstream's:
//! `k8s:enc:<provider>:v1:<key name>:` followed by
//! - `aesgcm`: a random 12-byte nonce, then the ciphertext and its 16-byte
//!   tag, authenticated together with the storage key (so a value copied to
//!   another key does not open);
//! - `aescbc`: a random 16-byte IV, then the ciphertext with PKCS#7 padding
//!   (no authentication, as upstream);
//! - `secretbox`: a random 24-byte nonce, then NaCl's sealed box (the
//!   16-byte Poly1305 tag, then the XSalsa20 ciphertext);
//! - `identity`: the value as it is, with no prefix.

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};

/// What marks an encrypted value; identity refuses to read one.
pub const ENCRYPTED_PREFIX: &[u8] = b"k8s:enc:";

/// One key of one provider, with the prefix its values carry.
pub struct Transformer {
    /// Empty for identity.
    pub prefix: Vec<u8>,
    cipher: Cipher,
}

impl std::fmt::Debug for Transformer {
    // The prefix names the provider and key; the key itself stays out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.prefix.is_empty() {
            true => f.write_str("identity"),
            false => f.write_str(&String::from_utf8_lossy(&self.prefix)),
        }
    }
}

impl Transformer {
    pub fn identity() -> Self {
        Transformer {
            prefix: Vec::new(),
            cipher: Cipher::Identity,
        }
    }

    pub fn new(kind: &str, name: &str, cipher: Cipher) -> Self {
        Transformer {
            prefix: format!("k8s:enc:{kind}:v1:{name}:").into_bytes(),
            cipher,
        }
    }

    /// The stored form of `plain` at `key`, prefix included.
    pub fn seal(&self, plain: &[u8], key: &str) -> Result<Vec<u8>, String> {
        let mut out = self.prefix.clone();
        self.cipher.seal(plain, key.as_bytes(), &mut out)?;
        Ok(out)
    }

    /// The plain value of `payload` (the stored value after the prefix).
    pub fn open(&self, payload: &[u8], key: &str) -> Result<Vec<u8>, String> {
        self.cipher.open(payload, key.as_bytes())
    }
}

type Aes192Gcm = aes_gcm::AesGcm<aes::Aes192, U12>;

/// A provider's cipher with its key.
pub enum Cipher {
    Identity,
    Gcm128(Box<aes_gcm::Aes128Gcm>),
    Gcm192(Box<Aes192Gcm>),
    Gcm256(Box<aes_gcm::Aes256Gcm>),
    Cbc(Box<[u8; 32]>),
    Secretbox(Box<crypto_secretbox::XSalsa20Poly1305>),
}

const GCM_NONCE: usize = 12;
const CBC_BLOCK: usize = 16;
const SECRETBOX_NONCE: usize = 24;
const TAG: usize = 16;

impl Cipher {
    /// The cipher of provider `kind` with `secret`, or why the secret does
    /// not fit (its length only: never the secret).
    pub fn new(kind: &str, secret: &[u8]) -> Result<Cipher, String> {
        let wrong = |expected: &str| {
            format!(
                "is {} bytes long; {kind} needs a key of {expected} bytes",
                secret.len()
            )
        };
        let cipher = match (kind, secret.len()) {
            ("aesgcm", 16) => Cipher::Gcm128(Box::new(aes_gcm::Aes128Gcm::new(secret.into()))),
            ("aesgcm", 24) => Cipher::Gcm192(Box::new(Aes192Gcm::new(secret.into()))),
            ("aesgcm", 32) => Cipher::Gcm256(Box::new(aes_gcm::Aes256Gcm::new(secret.into()))),
            ("aesgcm", _) => return Err(wrong("16, 24 or 32")),
            ("aescbc", 32) => {
                let mut key = Box::new([0; 32]);
                key.copy_from_slice(secret);
                Cipher::Cbc(key)
            }
            ("secretbox", 32) => Cipher::Secretbox(Box::new(
                crypto_secretbox::XSalsa20Poly1305::new(secret.into()),
            )),
            ("aescbc" | "secretbox", _) => return Err(wrong("32")),
            _ => return Err(format!("{kind} is not a provider keelson knows")),
        };
        Ok(cipher)
    }

    fn seal(&self, plain: &[u8], aad: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let failed = |_| "the cipher failed".to_string();
        match self {
            Cipher::Identity => out.extend_from_slice(plain),
            Cipher::Gcm128(_) | Cipher::Gcm192(_) | Cipher::Gcm256(_) => {
                let nonce = random::<GCM_NONCE>()?;
                let payload = Payload { msg: plain, aad };
                let sealed = match self {
                    Cipher::Gcm128(c) => c.encrypt((&nonce).into(), payload),
                    Cipher::Gcm192(c) => c.encrypt((&nonce).into(), payload),
                    Cipher::Gcm256(c) => c.encrypt((&nonce).into(), payload),
                    _ => unreachable!("a GCM cipher"),
                }
                .map_err(failed)?;
                out.extend_from_slice(&nonce);
                out.extend_from_slice(&sealed);
            }
            Cipher::Cbc(key) => {
                let iv = random::<CBC_BLOCK>()?;
                let encryptor = cbc::Encryptor::<aes::Aes256>::new(key.as_ref().into(), &iv.into());
                out.extend_from_slice(&iv);
                out.extend_from_slice(&encryptor.encrypt_padded_vec_mut::<Pkcs7>(plain));
            }
            Cipher::Secretbox(c) => {
                let nonce = random::<SECRETBOX_NONCE>()?;
                let sealed = c.encrypt((&nonce).into(), plain).map_err(failed)?;
                out.extend_from_slice(&nonce);
                out.extend_from_slice(&sealed);
            }
        }
        Ok(())
    }

    fn open(&self, payload: &[u8], aad: &[u8]) -> Result<Vec<u8>, String> {
        let short = || "the stored data is shorter than the provider's header".to_string();
        match self {
            Cipher::Identity => {
                if payload.starts_with(ENCRYPTED_PREFIX) {
                    return Err("identity cannot read encrypted data".into());
                }
                Ok(payload.to_vec())
            }
            Cipher::Gcm128(_) | Cipher::Gcm192(_) | Cipher::Gcm256(_) => {
                if payload.len() < GCM_NONCE + TAG {
                    return Err(short());
                }
                let (nonce, sealed) = payload.split_at(GCM_NONCE);
                let payload = Payload { msg: sealed, aad };
                match self {
                    Cipher::Gcm128(c) => c.decrypt(nonce.into(), payload),
                    Cipher::Gcm192(c) => c.decrypt(nonce.into(), payload),
                    Cipher::Gcm256(c) => c.decrypt(nonce.into(), payload),
                    _ => unreachable!("a GCM cipher"),
                }
                .map_err(|_| "the key does not open it (wrong key, or damaged data)".to_string())
            }
            Cipher::Cbc(key) => {
                if payload.len() < 2 * CBC_BLOCK {
                    return Err(short());
                }
                let (iv, sealed) = payload.split_at(CBC_BLOCK);
                if sealed.len() % CBC_BLOCK != 0 {
                    return Err("the stored data is not a whole number of blocks".into());
                }
                cbc::Decryptor::<aes::Aes256>::new(key.as_ref().into(), iv.into())
                    .decrypt_padded_vec_mut::<Pkcs7>(sealed)
                    .map_err(|_| "invalid padding: wrong key, or damaged data".to_string())
            }
            Cipher::Secretbox(c) => {
                if payload.len() < SECRETBOX_NONCE + TAG {
                    return Err(short());
                }
                let (nonce, sealed) = payload.split_at(SECRETBOX_NONCE);
                c.decrypt(nonce.into(), sealed)
                    .map_err(|_| "the key does not open it (wrong key, or damaged data)".into())
            }
        }
    }
}

/// N bytes from the operating system's random source.
fn random<const N: usize>() -> Result<[u8; N], String> {
    let mut bytes = [0; N];
    getrandom::fill(&mut bytes).map_err(|err| format!("no random bytes for a nonce: {err}"))?;
    Ok(bytes)
}

/// A new random 32-byte key, base64 as the configuration writes it.
pub fn new_key() -> Result<String, String> {
    use base64::Engine;
    Ok(base64::engine::general_purpose::STANDARD.encode(random::<32>()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transformers() -> Vec<Transformer> {
        let key = [7u8; 32];
        vec![
            Transformer::new(
                "aesgcm",
                "g16",
                Cipher::new("aesgcm", &key[..16]).expect("ok"),
            ),
            Transformer::new(
                "aesgcm",
                "g24",
                Cipher::new("aesgcm", &key[..24]).expect("ok"),
            ),
            Transformer::new("aesgcm", "g32", Cipher::new("aesgcm", &key).expect("ok")),
            Transformer::new("aescbc", "c", Cipher::new("aescbc", &key).expect("ok")),
            Transformer::new(
                "secretbox",
                "s",
                Cipher::new("secretbox", &key).expect("ok"),
            ),
            Transformer::identity(),
        ]
    }

    #[test]
    fn every_provider_opens_what_it_sealed() {
        for transformer in transformers() {
            for plain in [&b""[..], b"x", b"0123456789abcdef", &[1u8; 1000]] {
                let sealed = transformer
                    .seal(plain, "/registry/core/secrets/a/b")
                    .expect("seals");
                assert!(sealed.starts_with(&transformer.prefix));
                let payload = &sealed[transformer.prefix.len()..];
                let opened = transformer.open(payload, "/registry/core/secrets/a/b");
                assert_eq!(opened.as_deref(), Ok(plain), "{transformer:?}");
            }
        }
    }

    #[test]
    fn layouts_are_upstream_s() {
        let plain = [9u8; 20];
        let [g16, _, _, c, s, _] = &transformers()[..] else {
            panic!("six transformers")
        };
        // nonce + ciphertext + tag; IV + padded blocks; nonce + tag + ciphertext.
        assert_eq!(
            g16.seal(&plain, "k").expect("seals").len() - g16.prefix.len(),
            12 + 20 + 16
        );
        assert_eq!(
            c.seal(&plain, "k").expect("seals").len() - c.prefix.len(),
            16 + 32
        );
        assert_eq!(
            s.seal(&plain, "k").expect("seals").len() - s.prefix.len(),
            24 + 16 + 20
        );
        assert_eq!(g16.prefix, b"k8s:enc:aesgcm:v1:g16:");
    }

    #[test]
    fn gcm_values_open_only_at_their_key_and_with_their_key() {
        let gcm = Transformer::new("aesgcm", "k", Cipher::new("aesgcm", &[1; 32]).expect("ok"));
        let other = Transformer::new("aesgcm", "k", Cipher::new("aesgcm", &[2; 32]).expect("ok"));
        let sealed = gcm
            .seal(b"secret", "/registry/core/secrets/a/b")
            .expect("seals");
        let payload = &sealed[gcm.prefix.len()..];
        assert!(gcm.open(payload, "/registry/core/secrets/a/c").is_err());
        assert!(other.open(payload, "/registry/core/secrets/a/b").is_err());
        let sb = Transformer::new(
            "secretbox",
            "k",
            Cipher::new("secretbox", &[1; 32]).expect("ok"),
        );
        let wrong = Transformer::new(
            "secretbox",
            "k",
            Cipher::new("secretbox", &[2; 32]).expect("ok"),
        );
        let sealed = sb.seal(b"secret", "k").expect("seals");
        assert!(wrong.open(&sealed[sb.prefix.len()..], "k").is_err());
        assert!(Transformer::identity().open(&sealed, "k").is_err());
    }

    #[test]
    fn key_lengths_are_checked() {
        assert!(Cipher::new("aescbc", &[0; 16]).is_err());
        assert!(Cipher::new("secretbox", &[0; 24]).is_err());
        assert!(Cipher::new("aesgcm", &[0; 20]).is_err());
    }
}
