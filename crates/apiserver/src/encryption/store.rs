//! [`EncryptedStore`]: a [`Store`] over another that encrypts the values of
//! the configured resources on their way in and decrypts them on their way
//! out, so that everything above it (the object layer, lists, the watch
//! cache, bootstrap, the registry's own keys) sees plain values.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use keelson_store::{
    Event, KeyValue, RangeRequest, RangeResponse, Revision, Store, StoreError, WatchStream,
};

use super::EncryptionConfig;
use super::provider::{ENCRYPTED_PREFIX, Transformer};

/// The store with encryption at rest, as an [`EncryptionConfig`] says.
pub struct EncryptedStore {
    inner: Arc<dyn Store>,
    config: EncryptionConfig,
}

impl EncryptedStore {
    pub fn new(inner: Arc<dyn Store>, config: EncryptionConfig) -> Self {
        EncryptedStore { inner, config }
    }

    fn transformers(&self, key: &str) -> Option<&[Transformer]> {
        self.config.rules.for_key(key)
    }

    /// Whether the value stored at `key` was written by another provider
    /// or key than the one that writes now, so that rewriting it unchanged
    /// still stores it anew (key rotation by rewriting, as upstream).
    pub async fn stale(&self, key: &str) -> Result<bool, StoreError> {
        let Some(transformers) = self.transformers(key) else {
            return Ok(false);
        };
        let Some(kv) = self.inner.get(key).await? else {
            return Ok(false);
        };
        Ok(read(transformers, &kv.key, &kv.value)?.1)
    }

    fn encrypt(&self, key: &str, value: Bytes) -> Result<Bytes, StoreError> {
        let Some(first) = self.transformers(key).and_then(|t| t.first()) else {
            return Ok(value);
        };
        if first.prefix.is_empty() {
            return Ok(value);
        }
        first.seal(&value, key).map(Bytes::from).map_err(|reason| {
            StoreError::Internal(format!("failed to encrypt the value of {key}: {reason}"))
        })
    }

    fn decrypt(&self, mut kv: KeyValue) -> Result<KeyValue, StoreError> {
        if let Some(transformers) = self.transformers(&kv.key)
            && !kv.value.is_empty()
        {
            kv.value = read(transformers, &kv.key, &kv.value)?.0;
        }
        Ok(kv)
    }

    fn decrypt_event(&self, mut event: Event) -> Result<Event, StoreError> {
        event.kv = self.decrypt(event.kv)?;
        event.prev = event.prev.map(|kv| self.decrypt(kv)).transpose()?;
        Ok(event)
    }

    /// A write's result: the value as written, not as stored.
    fn written(mut kv: KeyValue, plain: Bytes) -> KeyValue {
        kv.value = plain;
        kv
    }

    fn decrypt_error(&self, err: StoreError) -> StoreError {
        match err {
            StoreError::Conflict {
                key,
                expected,
                current: Some(current),
            } => match self.decrypt(*current) {
                Ok(current) => StoreError::Conflict {
                    key,
                    expected,
                    current: Some(Box::new(current)),
                },
                Err(err) => err,
            },
            other => other,
        }
    }
}

/// The plain value of `stored` at `key`, and whether a provider other than
/// the first read it. As upstream, every provider whose prefix matches is
/// tried in order; identity (no prefix) gives way when it meets encrypted
/// data.
fn read(
    transformers: &[Transformer],
    key: &str,
    stored: &Bytes,
) -> Result<(Bytes, bool), StoreError> {
    let mut failures = Vec::new();
    for (i, transformer) in transformers.iter().enumerate() {
        if !stored.starts_with(&transformer.prefix) {
            continue;
        }
        if transformer.prefix.is_empty() {
            if stored.starts_with(ENCRYPTED_PREFIX) {
                continue;
            }
            return Ok((stored.clone(), i != 0));
        }
        match transformer.open(&stored[transformer.prefix.len()..], key) {
            Ok(plain) => return Ok((Bytes::from(plain), i != 0)),
            Err(reason) => failures.push(format!("{transformer:?} {reason}")),
        }
    }
    let reason = match failures.is_empty() {
        true => format!(
            "no configured provider reads a value written by {}",
            writer_of(stored)
        ),
        false => failures.join("; "),
    };
    Err(StoreError::Internal(format!(
        "failed to decrypt the value of {key}: {reason}"
    )))
}

/// The provider and key a stored value names (`k8s:enc:aescbc:v1:key1:`),
/// or "identity" for a plain one.
fn writer_of(stored: &[u8]) -> String {
    if !stored.starts_with(ENCRYPTED_PREFIX) {
        return "identity (a plain value)".to_string();
    }
    let end = stored
        .iter()
        .enumerate()
        .filter(|(_, byte)| **byte == b':')
        .nth(4)
        .map_or(0, |(at, _)| at + 1)
        .min(200);
    String::from_utf8_lossy(&stored[..end]).into_owned()
}

#[async_trait]
impl Store for EncryptedStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        self.inner
            .get(key)
            .await?
            .map(|kv| self.decrypt(kv))
            .transpose()
    }

    async fn range(&self, request: RangeRequest) -> Result<RangeResponse, StoreError> {
        let touched = self.config.rules.touches(&request.prefix);
        let mut response = self.inner.range(request).await?;
        if !touched {
            return Ok(response);
        }
        response.kvs = std::mem::take(&mut response.kvs)
            .into_iter()
            .map(|kv| self.decrypt(kv))
            .collect::<Result<_, _>>()?;
        Ok(response)
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue, StoreError> {
        let stored = self.encrypt(key, value.clone())?;
        let kv = self.inner.create(key, stored).await?;
        Ok(Self::written(kv, value))
    }

    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected: Revision,
    ) -> Result<KeyValue, StoreError> {
        let stored = self.encrypt(key, value.clone())?;
        match self.inner.update(key, stored, expected).await {
            Ok(kv) => Ok(Self::written(kv, value)),
            Err(err) => Err(self.decrypt_error(err)),
        }
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue, StoreError> {
        match self.inner.delete(key, expected).await {
            Ok(kv) => self.decrypt(kv),
            Err(err) => Err(self.decrypt_error(err)),
        }
    }

    async fn watch(&self, prefix: &str, from: Revision) -> Result<WatchStream, StoreError> {
        let events = self.inner.watch(prefix, from).await?;
        if !self.config.rules.touches(prefix) {
            return Ok(events);
        }
        let config = self.config.clone();
        let inner = Arc::clone(&self.inner);
        let this = EncryptedStore { inner, config };
        let events = events
            .map(move |item| item.and_then(|event| this.decrypt_event(event)))
            // As every watch stream: nothing after an error.
            .scan(false, |ended, item| {
                let next = (!*ended).then_some(item);
                if let Some(Err(_)) = &next {
                    *ended = true;
                }
                futures::future::ready(next)
            });
        Ok(events.boxed())
    }

    async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        self.inner.compact(revision).await
    }

    async fn current_revision(&self) -> Result<Revision, StoreError> {
        self.inner.current_revision().await
    }
}
