//! OpenAPI documents.

use bytes::Bytes;
use serde_json::{Value, json};

/// `GET /openapi/v3`.
pub fn v3_index() -> Value {
    json!({ "paths": {} })
}

/// `GET /openapi/v3/apis/G/V`.
pub fn v3_document(_group: &str, _version: &str) -> Option<Bytes> {
    None
}
