//! Request bodies in Kubernetes' protobuf encoding
//! (`application/vnd.kubernetes.protobuf`), which kubectl 1.32+ and
//! client-go's typed clients send for `create`: decoded into the same JSON
//! object the JSON path produces, so nothing after the body knows the
//! difference.
//!
//! The wire form is the magic `k8s\0` and a `runtime.Unknown` envelope
//! whose `typeMeta` names the kind and whose `raw` holds the object's own
//! message (k8s.io/api's `generated.proto`). [`kinds`] pairs each kind's
//! prost type (from k8s-pb) with its OpenAPI schema (from k8s-openapi);
//! [`debug`] reads the field names back from the decoded message and
//! [`json`] maps them onto the schema. No kind has code of its own.
//!
//! Why through `Debug`: k8s-pb's prost types carry no serde and no message
//! descriptors, so the only place their field names are published is the
//! derived `Debug` output, whose grammar is small and fixed. Should a prost
//! upgrade change it, the unit tests fail and such a request is a 500, never
//! a wrong object.

mod debug;
mod json;
mod kinds;

use k8s_pb::apimachinery::pkg::runtime::Unknown;
use keelson_api::ApiError;
use prost::Message;
use serde_json::Value;

/// The media type of protobuf bodies.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// What starts every protobuf body.
pub const MAGIC: &[u8] = b"k8s\0";

/// Why a protobuf body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the protobuf body does not start with the magic bytes \"k8s\\x00\"")]
    Magic,
    #[error("the protobuf envelope (runtime.Unknown) is malformed: {0}")]
    Envelope(prost::DecodeError),
    #[error(
        "the protobuf envelope has content encoding {0:?}; only unencoded bodies are supported"
    )]
    Encoding(String),
    #[error("the protobuf envelope names no kind")]
    NoKind,
    #[error("the kind {kind:?} of apiVersion {api_version:?} cannot be decoded from protobuf")]
    UnknownKind { api_version: String, kind: String },
    #[error(
        "the kind {kind:?} of apiVersion {api_version:?} is accepted as application/json or application/yaml, not as protobuf"
    )]
    JsonOnly {
        api_version: String,
        kind: &'static str,
    },
    #[error("the protobuf body is not a valid {kind}: {source}")]
    Object {
        kind: &'static str,
        source: prost::DecodeError,
    },
    #[error("the protobuf body has a {kind} that has no JSON form: {source}")]
    Convert {
        kind: &'static str,
        source: json::ConvertError,
    },
    /// prost printed something its grammar does not allow: a bug here.
    #[error("failed to read the decoded {kind}: {source}")]
    Internal {
        kind: &'static str,
        source: debug::ParseError,
    },
}

impl From<DecodeError> for ApiError {
    fn from(err: DecodeError) -> Self {
        match err {
            DecodeError::Internal { .. } => ApiError::internal(err.to_string()),
            DecodeError::JsonOnly { .. } => ApiError::unsupported_media_type(err.to_string()),
            _ => ApiError::bad_request(err.to_string()),
        }
    }
}

/// Decodes a protobuf body into the JSON object of the kind it holds, with
/// `apiVersion` and `kind` from its envelope.
pub fn decode(bytes: &[u8]) -> Result<Value, ApiError> {
    Ok(decode_object(bytes)?)
}

fn decode_object(bytes: &[u8]) -> Result<Value, DecodeError> {
    let envelope = bytes.strip_prefix(MAGIC).ok_or(DecodeError::Magic)?;
    let unknown = Unknown::decode(envelope).map_err(DecodeError::Envelope)?;
    if let Some(encoding) = unknown.content_encoding.filter(|e| !e.is_empty()) {
        return Err(DecodeError::Encoding(encoding));
    }
    let type_meta = unknown.type_meta.unwrap_or_default();
    let api_version = type_meta.api_version.unwrap_or_default();
    let kind_name = type_meta.kind.unwrap_or_default();
    if kind_name.is_empty() {
        return Err(DecodeError::NoKind);
    }
    let table = kinds::table();
    let kind = table
        .find(&api_version, &kind_name)
        .ok_or_else(|| DecodeError::UnknownKind {
            api_version: api_version.clone(),
            kind: kind_name.clone(),
        })?;
    if !kind.message.reads_protobuf {
        return Err(DecodeError::JsonOnly {
            api_version,
            kind: kind.message.kind,
        });
    }
    let raw = unknown.raw.unwrap_or_default();
    let text = (kind.message.decode)(&raw).map_err(|source| DecodeError::Object {
        kind: kind.message.kind,
        source,
    })?;
    let tree = debug::parse(&text).map_err(|source| DecodeError::Internal {
        kind: kind.message.kind,
        source,
    })?;
    let schema = table
        .definitions
        .get(&kind.definition)
        .expect("every kind's schema is generated with the table");
    let mut object =
        json::object(&tree, schema, &table.definitions).map_err(|source| DecodeError::Convert {
            kind: kind.message.kind,
            source,
        })?;
    if let Value::Object(map) = &mut object {
        if !api_version.is_empty() {
            map.insert("apiVersion".into(), Value::String(api_version));
        }
        map.insert("kind".into(), Value::String(kind_name));
    }
    Ok(object)
}
