//! Request bodies: size limit, content types (JSON, YAML and protobuf), decoding
//! with clear errors.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use keelson_api::ApiError;
use serde_json::Value;

/// The largest request body accepted, as upstream (3 MiB).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Deepest nesting accepted in a body.
const MAX_DEPTH: usize = 100;

/// Reads the whole body, refusing more than [`MAX_BODY_BYTES`] with 413.
pub async fn read(body: Body) -> Result<bytes::Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::too_large("the request body is larger than the 3 MiB limit"))
}

/// The media type of the request, without parameters.
pub fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("application/json")
        .trim()
        .to_ascii_lowercase()
}

/// Decodes a JSON, YAML or protobuf document into a JSON value.
pub fn decode(bytes: &[u8], media_type: &str) -> Result<Value, ApiError> {
    if media_type == crate::protobuf::MEDIA_TYPE {
        return within_depth(crate::protobuf::decode(bytes)?);
    }
    if !(media_type.contains("json") || media_type.contains("yaml")) {
        return Err(ApiError::unsupported_media_type(format!(
            "the body of type {media_type:?} is not supported: send application/json, application/yaml or application/vnd.kubernetes.protobuf"
        )));
    }
    if std::str::from_utf8(bytes).is_err() {
        return Err(ApiError::bad_request("the request body is not valid UTF-8"));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    let value: Value = if media_type.contains("yaml") {
        serde_yaml::from_slice(bytes).map_err(|err| {
            ApiError::bad_request(format!("the request body is not valid YAML: {err}"))
        })?
    } else {
        serde_json::from_slice(bytes).map_err(|err| {
            ApiError::bad_request(format!("the request body is not valid JSON: {err}"))
        })?
    };
    within_depth(value)
}

fn within_depth(value: Value) -> Result<Value, ApiError> {
    if depth(&value) > MAX_DEPTH {
        return Err(ApiError::bad_request(format!(
            "the request body is nested deeper than {MAX_DEPTH} levels"
        )));
    }
    Ok(value)
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_bodies_are_errors_with_messages() {
        assert!(
            decode(b"{\"a\": ", "application/json")
                .unwrap_err()
                .message
                .contains("JSON")
        );
        assert!(
            decode(&[0xff, 0xfe], "application/json")
                .unwrap_err()
                .message
                .contains("UTF-8")
        );
        assert!(
            decode(b"a: [", "application/yaml")
                .unwrap_err()
                .message
                .contains("YAML")
        );
        let deep = "[".repeat(120) + &"]".repeat(120);
        assert!(
            decode(deep.as_bytes(), "application/json")
                .unwrap_err()
                .message
                .contains("nested")
        );
        assert_eq!(
            decode(b"kind: Pod", "application/yaml").unwrap()["kind"],
            "Pod"
        );
    }
}
