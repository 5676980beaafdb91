//! Patches of the main resource and subresources: JSON patch (RFC 6902),
//! JSON merge patch (RFC 7386) and strategic merge patch. Server-side
//! apply plugs in here as a further variant.

use keelson_api::strategic_merge;
use keelson_api::{ApiError, StatusReason};
use serde_json::Value;

/// A decoded patch.
pub enum Patch {
    /// `application/json-patch+json`.
    Json(json_patch::Patch),
    /// `application/merge-patch+json`.
    Merge(Value),
    /// `application/strategic-merge-patch+json`.
    Strategic(Value),
}

impl Patch {
    /// Decodes a patch body of the given media type.
    pub fn parse(media_type: &str, bytes: &[u8]) -> Result<Self, ApiError> {
        match media_type {
            "application/json-patch+json" => {
                let value = crate::codec::decode(bytes, "application/json")?;
                let patch = serde_json::from_value(value).map_err(|err| {
                    ApiError::bad_request(format!("the JSON patch is malformed: {err}"))
                })?;
                Ok(Patch::Json(patch))
            }
            "application/merge-patch+json" => {
                let value = crate::codec::decode(bytes, "application/json")?;
                if !value.is_object() {
                    return Err(ApiError::bad_request("a merge patch must be a JSON object"));
                }
                Ok(Patch::Merge(value))
            }
            "application/strategic-merge-patch+json" => {
                let value = crate::codec::decode(bytes, "application/json")?;
                if !value.is_object() {
                    return Err(ApiError::bad_request(
                        "a strategic merge patch must be a JSON object",
                    ));
                }
                Ok(Patch::Strategic(value))
            }
            other => Err(ApiError::unsupported_media_type(format!(
                "the media type {other:?} is not supported for patches: use application/json-patch+json, application/merge-patch+json or application/strategic-merge-patch+json"
            ))),
        }
    }

    /// The object `current` becomes under this patch.
    pub fn apply(&self, current: &Value) -> Result<Value, ApiError> {
        let mut object = current.clone();
        match self {
            Patch::Json(patch) => apply_json_patch(&mut object, patch)?,
            Patch::Merge(patch) => json_patch::merge(&mut object, patch),
            Patch::Strategic(patch) => {
                object = strategic_merge::apply(&definition_of(current), current, patch)
                    .map_err(strategic_error)?;
            }
        }
        if !object.is_object() {
            return Err(ApiError::bad_request("the patch did not produce an object"));
        }
        if encoded_len(&object) > MAX_PATCHED_BYTES {
            return Err(ApiError::too_large(
                "the patched object is larger than the 3 MiB request limit",
            ));
        }
        Ok(object)
    }
}

/// The largest object a patch may produce: no more than a request may send.
const MAX_PATCHED_BYTES: usize = 3 * 1024 * 1024;

/// The length of `value` as JSON, counted without writing it anywhere.
fn encoded_len(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a `Value` to a writer that never fails cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// The most operations a JSON patch may have, as upstream.
const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;
/// The most bytes a JSON patch's `copy` operations may add up to, as
/// upstream's accumulated copy size limit (the request size limit): doubling
/// copies would otherwise grow an object without bound.
const MAX_ACCUMULATED_COPY_BYTES: usize = 3 * 1024 * 1024;

/// Applies `patch` to `object` one operation at a time, refusing patches
/// with too many operations or whose copies add up to too much.
fn apply_json_patch(object: &mut Value, patch: &json_patch::Patch) -> Result<(), ApiError> {
    if patch.0.len() > MAX_JSON_PATCH_OPERATIONS {
        return Err(ApiError::too_large(&format!(
            "The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, got {}",
            patch.0.len()
        )));
    }
    let mut copied = 0usize;
    for operation in &patch.0 {
        if let json_patch::PatchOperation::Copy(copy) = operation {
            let size = object.pointer(copy.from.as_str()).map_or(0, |value| {
                serde_json::to_vec(value).map_or(0, |bytes| bytes.len())
            });
            copied += size;
            if copied > MAX_ACCUMULATED_COPY_BYTES {
                return Err(ApiError::too_large(&format!(
                    "Unable to complete the copy, the accumulated size increase of copy is {copied}, exceeding the limit {MAX_ACCUMULATED_COPY_BYTES}"
                )));
            }
        }
        let one = json_patch::Patch(vec![operation.clone()]);
        json_patch::patch(object, &one).map_err(|err| ApiError {
            reason: StatusReason::Invalid,
            message: format!("the JSON patch could not be applied: {err}"),
            details: None,
        })?;
    }
    Ok(())
}

/// The OpenAPI definition of an object (`io.k8s.api.apps.v1.Deployment`),
/// from its apiVersion and kind; views that are not resources (Scale) are
/// named as upstream names them.
fn definition_of(object: &Value) -> String {
    let api_version = object["apiVersion"].as_str().unwrap_or("");
    let kind = object["kind"].as_str().unwrap_or("");
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    match keelson_api::registry::by_kind(group, version, kind) {
        Some(resource) => resource.definition.to_string(),
        None if group.is_empty() => format!("io.k8s.api.core.{version}.{kind}"),
        None => format!("io.k8s.api.{group}.{version}.{kind}"),
    }
}

/// The status answered for each strategic merge patch error.
fn strategic_error(error: strategic_merge::Error) -> ApiError {
    use strategic_merge::Error;
    let (reason, message) = match error {
        Error::Malformed(message) => (StatusReason::BadRequest, message),
        Error::Unsupported(message) => (StatusReason::Invalid, message),
        // Upstream's handler passes these on as 500s, as if the server
        // had failed; they are the client's patch that does not fit its
        // object, so they are 400s here, with upstream's message.
        Error::Inapplicable(message) => (StatusReason::BadRequest, message),
        Error::UnknownKind(_) => (
            StatusReason::UnsupportedMediaType,
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml".into(),
        ),
    };
    ApiError {
        reason,
        message,
        details: None,
    }
}

#[cfg(test)]
mod json_patch_limits {
    use super::*;
    use serde_json::json;

    #[test]
    fn too_many_operations_are_refused() {
        let ops: Vec<Value> = (0..10_001)
            .map(|_| json!({"op": "test", "path": "/a", "value": 1}))
            .collect();
        let patch = Patch::parse(
            "application/json-patch+json",
            &serde_json::to_vec(&ops).expect("json"),
        )
        .expect("a patch");
        let err = patch.apply(&json!({"a": 1})).expect_err("refused");
        assert_eq!(err.code(), 413, "{}", err.message);
    }

    #[test]
    fn a_patch_may_not_grow_an_object_past_the_request_limit() {
        let current = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "data": {"a": "x".repeat(2 * 1024 * 1024)},
        });
        let patch = json!({"data": {"b": "y".repeat(1536 * 1024)}});
        for media_type in [
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
        ] {
            let patch = Patch::parse(media_type, &serde_json::to_vec(&patch).expect("json"))
                .expect("a patch");
            let err = patch.apply(&current).expect_err("refused");
            assert_eq!(err.code(), 413, "{media_type}: {}", err.message);
        }
        let small = Patch::Merge(json!({"data": {"b": "y"}}));
        assert!(small.apply(&current).is_ok());
    }
}
