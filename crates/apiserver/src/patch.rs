//! Patches of the main resource and subresources: JSON patch (RFC 6902)
//! and JSON merge patch (RFC 7386). Strategic merge patch and server-side
//! apply plug in here as further variants.

use keelson_api::ApiError;
use serde_json::Value;

/// A decoded patch.
pub enum Patch {
    /// `application/json-patch+json`.
    Json(json_patch::Patch),
    /// `application/merge-patch+json`.
    Merge(Value),
}

impl Patch {
    /// Decodes a patch body of the given media type.
    pub fn parse(media_type: &str, bytes: &[u8]) -> Result<Self, ApiError> {
        match media_type {
            "application/json-patch+json" => {
                let value = crate::body::decode(bytes, "application/json")?;
                let patch = serde_json::from_value(value).map_err(|err| {
                    ApiError::bad_request(format!("the JSON patch is malformed: {err}"))
                })?;
                Ok(Patch::Json(patch))
            }
            "application/merge-patch+json" => {
                let value = crate::body::decode(bytes, "application/json")?;
                if !value.is_object() {
                    return Err(ApiError::bad_request("a merge patch must be a JSON object"));
                }
                Ok(Patch::Merge(value))
            }
            other => Err(ApiError::unsupported_media_type(format!(
                "the media type {other:?} is not supported for patches: use application/json-patch+json or application/merge-patch+json"
            ))),
        }
    }

    /// The object `current` becomes under this patch.
    pub fn apply(&self, current: &Value) -> Result<Value, ApiError> {
        let mut object = current.clone();
        match self {
            Patch::Json(patch) => {
                json_patch::patch(&mut object, patch).map_err(|err| ApiError {
                    reason: keelson_api::StatusReason::Invalid,
                    message: format!("the JSON patch could not be applied: {err}"),
                    details: None,
                })?;
            }
            Patch::Merge(patch) => json_patch::merge(&mut object, patch),
        }
        if !object.is_object() {
            return Err(ApiError::bad_request("the patch did not produce an object"));
        }
        Ok(object)
    }
}
