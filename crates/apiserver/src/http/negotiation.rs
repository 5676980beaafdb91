//! Content negotiation of responses: the form of the object a client asks
//! for in `Accept` (`application/json;as=Table;g=meta.k8s.io;v=v1`, the
//! `PartialObjectMetadata` forms that metadata-only clients use, or the
//! object itself), on every verb that answers with an object.

use axum::http::{HeaderMap, header};
use keelson_api::ApiError;
use serde_json::{Value, json};

/// The form of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// The object (or list) itself.
    Object,
    /// A `meta.k8s.io` Table.
    Table,
    /// `PartialObjectMetadata`: the object's metadata only.
    Metadata,
    /// `PartialObjectMetadataList`: a list of those.
    MetadataList,
}

/// The groups and versions the `as=` forms are served in.
const META_GROUP: &str = "meta.k8s.io";
const META_VERSIONS: &[&str] = &["v1", "v1beta1"];

/// The first form in `Accept` that the server can give, as upstream picks
/// among the media ranges in order; the object when none names a form.
pub fn form(headers: &HeaderMap) -> Result<Form, ApiError> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(Form::Object);
    };
    let mut refused = None;
    for range in accept.split(',') {
        match range_form(range) {
            Some(Ok(form)) => return Ok(form),
            Some(Err(what)) => refused = refused.or(Some(what)),
            None => {}
        }
    }
    match refused {
        Some(what) => Err(ApiError::not_acceptable(format!(
            "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf; {what} is not served"
        ))),
        None => Ok(Form::Object),
    }
}

/// The form one media range asks for: `None` for a range that is not
/// JSON (protobuf, YAML: answered as JSON, as before), `Err` for an
/// `as=` form not served.
fn range_form(range: &str) -> Option<Result<Form, String>> {
    let mut parts = range.split(';').map(str::trim);
    let media = parts.next().unwrap_or("");
    let params: Vec<(&str, &str)> = parts.filter_map(|p| p.split_once('=')).collect();
    let param = |name: &str| params.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let Some(kind) = param("as") else {
        return matches!(media, "application/json" | "*/*" | "application/*" | "")
            .then_some(Ok(Form::Object));
    };
    let group_ok = param("g") == Some(META_GROUP);
    let version_ok = param("v").is_some_and(|v| META_VERSIONS.contains(&v));
    let form = match kind {
        "Table" => Form::Table,
        "PartialObjectMetadata" => Form::Metadata,
        "PartialObjectMetadataList" => Form::MetadataList,
        _ => return Some(Err(format!("as={kind}"))),
    };
    if !(group_ok && version_ok) {
        return Some(Err(format!("as={kind} outside meta.k8s.io/v1")));
    }
    Some(Ok(form))
}

/// The `PartialObjectMetadata` of `object`.
pub fn metadata_of(object: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// Upstream's refusal of a list form for one object, or of the one-object
/// form for a list.
pub fn wrong_shape(form: Form) -> ApiError {
    let message = match form {
        Form::MetadataList => {
            "you requested PartialObjectMetadataList, but the requested object is not a list"
        }
        _ => "you requested PartialObjectMetadata, but the requested object is a list",
    };
    ApiError::not_acceptable(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(text: &str) -> Result<Form, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, text.parse().expect("a header value"));
        form(&headers)
    }

    #[test]
    fn forms_are_read_from_accept_in_order() {
        let kubectl_get = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        let cases = [
            (kubectl_get, Form::Table),
            ("application/json", Form::Object),
            ("*/*", Form::Object),
            (
                "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1",
                Form::Metadata,
            ),
            (
                "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
                Form::MetadataList,
            ),
            (
                "application/json;as=Widget;g=meta.k8s.io;v=v1, application/json",
                Form::Object,
            ),
            (
                "application/vnd.kubernetes.protobuf, application/json",
                Form::Object,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(accept(text).expect(text), want, "{text}");
        }
        let refused = accept("application/json;as=Widget;g=meta.k8s.io;v=v1").expect_err("406");
        assert_eq!(refused.code(), 406);
        assert!(accept("application/json;as=Table;g=apps;v=v1").is_err());
    }

    #[test]
    fn metadata_forms_keep_only_metadata() {
        let object = json!({"kind": "Pod", "metadata": {"name": "a"}, "spec": {}});
        assert_eq!(
            metadata_of(&object),
            json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": {"name": "a"}})
        );
    }
}
