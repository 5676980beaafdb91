//! Creating objects: system metadata, generateName, namespace checks.

use keelson_api::registry::{self, ResourceInfo};
use keelson_api::{ApiError, FieldError, FieldPath};
use keelson_store::StoreError;
use serde_json::Value;

use super::admission::{Attributes, Operation};
use super::store_error;
use super::update::Ownership;
use super::{Objects, WriteOptions, encode, has_status};
use crate::fields::managed;
use crate::meta::{self, meta_str, set_meta};

/// Characters of generated name suffixes (no vowels, no look-alikes), as upstream.
const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
/// How often a generated name is retried when it is taken.
const GENERATE_ATTEMPTS: usize = 8;

impl Objects {
    /// Creates `object` in `namespace` (for namespaced resources).
    pub async fn create(
        &self,
        resource: &ResourceInfo,
        namespace: Option<&str>,
        object: Value,
        options: &WriteOptions,
    ) -> Result<Value, ApiError> {
        self.create_owned(resource, namespace, object, options, Ownership::Recorded)
            .await
    }

    /// [`Objects::create`], with the managedFields kept as `ownership` says.
    pub async fn create_owned(
        &self,
        resource: &ResourceInfo,
        namespace: Option<&str>,
        mut object: Value,
        options: &WriteOptions,
        ownership: Ownership,
    ) -> Result<Value, ApiError> {
        check_type(resource, &mut object)?;
        let namespace = prepare_namespace(resource, namespace, &mut object)?;
        if !meta_str(&object, "resourceVersion").is_empty() {
            return Err(ApiError::bad_request(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        // Mutating admission sees the object as decoded, with its defaults;
        // managedFields record the client's object, not what admission adds
        // (upstream's field manager runs before admission too).
        keelson_api::defaults::apply_defaults(resource, &mut object);
        if ownership == Ownership::Recorded {
            record_create(resource, options, &mut object);
        }
        let given_name = meta_str(&object, "name").to_string();
        let write = Attributes {
            operation: Operation::Create,
            resource,
            namespace: namespace.as_deref(),
            name: &given_name,
            subresource: None,
            old: None,
            dry_run: options.dry_run,
        };
        self.mutate(&write, &mut object).await?;
        prepare_for_create(resource, &mut object);
        let generate = meta_str(&object, "name").is_empty();
        let generate_name = meta_str(&object, "generateName").to_string();
        if generate && generate_name.is_empty() {
            return Err(name_required(resource));
        }
        for attempt in 0.. {
            if generate {
                let name = format!("{generate_name}{}", random_suffix(5));
                set_meta(&mut object, "name", Some(Value::from(name)));
            }
            let name = meta_str(&object, "name").to_string();
            let write = Attributes {
                name: &name,
                ..write
            };
            self.check(&write, &mut object).await?;
            let key = registry::storage_key(resource, namespace.as_deref().unwrap_or(""), &name);
            self.before_store(&write, &mut object).await?;
            if options.dry_run {
                return Ok(object);
            }
            let stored = self.store.create(&key, encode(resource, &object)).await;
            if stored.is_err() {
                self.not_stored(&write, &object).await;
            }
            match stored {
                Ok(kv) => {
                    let stored = super::decode(resource, &kv)?;
                    self.stored(&write, &stored).await;
                    return Ok(stored);
                }
                Err(StoreError::AlreadyExists { .. })
                    if generate && attempt < GENERATE_ATTEMPTS => {}
                Err(StoreError::AlreadyExists { .. }) if generate => {
                    return Err(ApiError::generate_name_conflict(
                        resource.group,
                        resource.plural,
                        &name,
                        1,
                    ));
                }
                Err(err) => return Err(store_error(err, resource.group, resource.plural, &name)),
            }
        }
        unreachable!("the loop returns")
    }
}

/// The 422 of an object with neither a name nor a generateName.
fn name_required(resource: &ResourceInfo) -> ApiError {
    let cause = FieldError::required(
        &FieldPath::new("metadata").child("name"),
        "name or generateName is required",
    );
    ApiError::invalid(resource.group, resource.kind, "", &[cause])
}

/// Records a create in managedFields, keeping the entries the client gave.
fn record_create(resource: &ResourceInfo, options: &WriteOptions, object: &mut Value) {
    let given = managed::given_by_client(object);
    set_meta(object, "managedFields", given);
    let writer = managed::Writer {
        manager: options.manager(),
        subresource: None,
    };
    managed::record_update(resource, &writer, None, object);
}

/// Checks `kind` and `apiVersion` against the resource, filling them if absent.
pub(crate) fn check_type(resource: &ResourceInfo, object: &mut Value) -> Result<(), ApiError> {
    let Some(map) = object.as_object_mut() else {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    };
    let api_version = resource.api_version();
    match map.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("kind".into(), Value::from(resource.kind));
        }
        Some(kind) if kind == resource.kind => {}
        Some(kind) => {
            return Err(ApiError::bad_request(format!(
                "the kind of the provided object ({kind}) does not match the resource ({})",
                resource.kind
            )));
        }
    }
    match map.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("apiVersion".into(), Value::from(api_version));
        }
        Some(v) if v == api_version => {}
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({api_version})"
            )));
        }
    }
    Ok(())
}

/// Sets the object's namespace from the path, refusing a mismatch.
pub(super) fn prepare_namespace(
    resource: &ResourceInfo,
    namespace: Option<&str>,
    object: &mut Value,
) -> Result<Option<String>, ApiError> {
    if !resource.namespaced {
        set_meta(object, "namespace", None);
        return Ok(None);
    }
    let Some(namespace) = namespace else {
        return Err(ApiError::bad_request(
            "a namespaced object must be created in a namespace",
        ));
    };
    let given = meta_str(object, "namespace");
    if !given.is_empty() && given != namespace {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    set_meta(object, "namespace", Some(Value::from(namespace)));
    Ok(Some(namespace.to_string()))
}

/// System metadata and the status a new object starts with.
fn prepare_for_create(resource: &ResourceInfo, object: &mut Value) {
    set_meta(
        object,
        "uid",
        Some(Value::from(uuid::Uuid::new_v4().to_string())),
    );
    set_meta(
        object,
        "creationTimestamp",
        Some(Value::from(meta::now_timestamp())),
    );
    for field in [
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
    ] {
        set_meta(object, field, None);
    }
    let generation = resource.strategy.has_generation().then(|| Value::from(1));
    set_meta(object, "generation", generation);
    if has_status(resource) {
        object["status"] = serde_json::json!({});
    }
    resource.strategy.prepare_for_create(object);
}

/// A random suffix for generateName.
pub(crate) fn random_suffix(len: usize) -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    bytes
        .iter()
        .take(len)
        .map(|b| SUFFIX_ALPHABET[*b as usize % SUFFIX_ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_use_the_alphabet() {
        let suffix = random_suffix(5);
        assert_eq!(suffix.len(), 5);
        assert!(suffix.bytes().all(|b| SUFFIX_ALPHABET.contains(&b)));
    }
}
