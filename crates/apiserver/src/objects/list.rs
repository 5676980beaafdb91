//! Listing objects: label and field selectors, limit and continue, and the
//! resourceVersion / resourceVersionMatch semantics of lists.

use base64::Engine;
use keelson_api::registry::{self, ResourceInfo};
use keelson_api::{ApiError, FieldError, FieldPath, field_selector, label_selector};
use keelson_store::{KeyValue, RangeRequest, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Objects, decode};
use crate::meta;

/// Store entries read per round while filling a page.
const CHUNK: usize = 500;

/// What a list asks for.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
    pub resource_version: Option<String>,
    pub resource_version_match: Option<String>,
}

/// The parsed selectors of a list or watch.
#[derive(Debug, Clone)]
pub struct Filter {
    labels: label_selector::Selector,
    fields: field_selector::Selector,
    selectable: &'static field_selector::SelectableFields,
}

impl Filter {
    /// Parses the selectors of a request for `resource`.
    pub fn new(
        resource: &'static ResourceInfo,
        labels: Option<&str>,
        fields: Option<&str>,
    ) -> Result<Self, ApiError> {
        let labels = match labels {
            Some(text) => label_selector::Selector::parse(text).map_err(|err| {
                ApiError::bad_request(format!("unable to parse requirement: {err}"))
            })?,
            None => label_selector::Selector::everything(),
        };
        let fields = match fields {
            Some(text) => field_selector::Selector::parse(text)
                .and_then(|s| s.for_fields(resource.strategy.selectable_fields()))
                .map_err(|err| ApiError::bad_request(err.to_string()))?,
            None => field_selector::Selector::everything(),
        };
        Ok(Filter {
            labels,
            fields,
            selectable: resource.strategy.selectable_fields(),
        })
    }

    /// Whether every object passes.
    pub fn is_everything(&self) -> bool {
        self.labels.is_everything() && self.fields.is_everything()
    }

    /// Whether `object` passes both selectors.
    pub fn matches(&self, object: &Value) -> bool {
        (self.labels.is_everything() || self.labels.matches(&meta::labels(object)))
            && (self.fields.is_everything() || self.fields.matches_fields(self.selectable, object))
    }
}

/// Checks the resourceVersion options of a list (not a watch) as upstream's
/// `ValidateListOptions` does: a 422 on `ListOptions`.
pub fn validate_options(
    params: &std::collections::HashMap<String, String>,
) -> Result<(), ApiError> {
    let get = |key: &str| params.get(key).map(String::as_str).unwrap_or("");
    let (matching, rv) = (get("resourceVersionMatch"), get("resourceVersion"));
    let path = FieldPath::new("resourceVersionMatch");
    let mut causes = Vec::new();
    if !matching.is_empty() {
        if rv.is_empty() {
            causes.push(FieldError::forbidden(
                &path,
                "resourceVersionMatch is forbidden unless resourceVersion is provided",
            ));
        }
        if !get("continue").is_empty() {
            causes.push(FieldError::forbidden(
                &path,
                "resourceVersionMatch is forbidden when continue is provided",
            ));
        }
        if matching != "Exact" && matching != "NotOlderThan" {
            causes.push(FieldError::not_supported(
                &path,
                matching,
                &["Exact", "NotOlderThan", ""],
            ));
        }
        if matching == "Exact" && rv == "0" {
            causes.push(FieldError::forbidden(
                &path,
                "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
            ));
        }
    }
    if params.contains_key("sendInitialEvents") {
        causes.push(FieldError::forbidden(
            &FieldPath::new("sendInitialEvents"),
            "sendInitialEvents is forbidden for list",
        ));
    }
    match causes.is_empty() {
        true => Ok(()),
        false => Err(ApiError::invalid("meta.k8s.io", "ListOptions", "", &causes)),
    }
}

/// Checks the options of a watch as upstream does: `resourceVersionMatch`
/// only with `sendInitialEvents`, and then only `NotOlderThan`.
pub fn validate_watch_options(
    params: &std::collections::HashMap<String, String>,
) -> Result<(), ApiError> {
    let get = |key: &str| params.get(key).map(String::as_str).unwrap_or("");
    let matching = get("resourceVersionMatch");
    let send_initial = params.contains_key("sendInitialEvents");
    let path = FieldPath::new("resourceVersionMatch");
    let mut causes = Vec::new();
    if send_initial && matching != "NotOlderThan" {
        causes.push(FieldError::forbidden(
            &path,
            "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
        ));
    }
    if !matching.is_empty() {
        if !send_initial {
            causes.push(FieldError::forbidden(
                &path,
                "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
            ));
        }
        if matching != "NotOlderThan" {
            causes.push(FieldError::not_supported(
                &path,
                matching,
                &["NotOlderThan"],
            ));
        }
        if !get("continue").is_empty() {
            causes.push(FieldError::forbidden(
                &path,
                "resourceVersionMatch is forbidden when continue is provided",
            ));
        }
    }
    match causes.is_empty() {
        true => Ok(()),
        false => Err(ApiError::invalid("meta.k8s.io", "ListOptions", "", &causes)),
    }
}

/// The stored entries of one list response.
struct Page {
    items: Vec<Item>,
    revision: i64,
    continue_token: Option<String>,
}

/// One selected entry, with the object if selecting it needed decoding.
struct Item {
    kv: KeyValue,
    object: Option<Value>,
}

impl Page {
    fn metadata(&self) -> Value {
        let mut metadata = json!({"resourceVersion": self.revision.to_string()});
        if let Some(token) = &self.continue_token {
            metadata["continue"] = Value::from(token.clone());
        }
        metadata
    }
}

/// A continue token: where the next page starts, and at which revision.
#[derive(Serialize, Deserialize)]
struct Continue {
    rv: i64,
    start: String,
}

fn encode_continue(rv: i64, start: &str) -> String {
    let token = serde_json::to_vec(&Continue {
        rv,
        start: start.to_string(),
    })
    .unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token)
}

fn decode_continue(token: &str) -> Result<Continue, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::bad_request("invalid continue token"))
}

const EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

impl Objects {
    /// A list object (`PodList`, ...) of what `options` select.
    pub async fn list(
        &self,
        resource: &'static ResourceInfo,
        namespace: Option<&str>,
        options: &ListOptions,
    ) -> Result<Value, ApiError> {
        let page = self.list_page(resource, namespace, options).await?;
        let metadata = page.metadata();
        let items = page
            .items
            .into_iter()
            .map(|item| match item.object {
                Some(object) => Ok(object),
                None => decode(resource, &item.kv),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(json!({
            "kind": resource.list_kind,
            "apiVersion": resource.api_version(),
            "metadata": metadata,
            "items": items,
        }))
    }

    /// The same list as JSON bytes, built from the stored bytes without
    /// parsing them where possible.
    pub async fn list_bytes(
        &self,
        resource: &'static ResourceInfo,
        namespace: Option<&str>,
        options: &ListOptions,
    ) -> Result<Vec<u8>, ApiError> {
        let page = self.list_page(resource, namespace, options).await?;
        let head = json!({
            "kind": resource.list_kind,
            "apiVersion": resource.api_version(),
            "metadata": page.metadata(),
        });
        let head = serde_json::to_vec(&head).unwrap_or_default();
        let size = page
            .items
            .iter()
            .map(|item| item.kv.value.len() + 32)
            .sum::<usize>();
        let mut body = Vec::with_capacity(head.len() + size + 16);
        body.extend_from_slice(&head[..head.len() - 1]);
        body.extend_from_slice(b",\"items\":[");
        for (i, Item { kv, .. }) in page.items.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            match super::raw(resource, kv) {
                Some(bytes) => body.extend_from_slice(&bytes),
                None => body.extend_from_slice(
                    &serde_json::to_vec(&decode(resource, kv)?).unwrap_or_default(),
                ),
            }
        }
        body.extend_from_slice(b"]}");
        Ok(body)
    }

    /// The stored entries a list selects, at one revision.
    async fn list_page(
        &self,
        resource: &'static ResourceInfo,
        namespace: Option<&str>,
        options: &ListOptions,
    ) -> Result<Page, ApiError> {
        let filter = Filter::new(
            resource,
            options.label_selector.as_deref(),
            options.field_selector.as_deref(),
        )?;
        let prefix = registry::storage_prefix(resource, namespace);
        let (mut revision, mut start_after) = self.list_start(options, &prefix).await?;
        let limit = options.limit.filter(|l| *l > 0);
        let mut items = Vec::new();
        let mut next = None;
        'pages: loop {
            let response = self
                .store
                .range(RangeRequest {
                    prefix: prefix.clone(),
                    start_after: start_after.clone(),
                    revision,
                    limit: Some(CHUNK),
                })
                .await
                .map_err(|err| match err {
                    StoreError::Compacted { .. } if options.continue_token.is_some() => {
                        ApiError::expired(EXPIRED)
                    }
                    err => super::store_error(err, resource.group, resource.plural, ""),
                })?;
            revision = Some(response.revision);
            let count = response.kvs.len();
            for (i, kv) in response.kvs.iter().enumerate() {
                if filter.is_everything() {
                    items.push(Item {
                        kv: kv.clone(),
                        object: None,
                    });
                } else {
                    let object = decode(resource, kv)?;
                    if filter.matches(&object) {
                        items.push(Item {
                            kv: kv.clone(),
                            object: Some(object),
                        });
                    }
                }
                if limit.is_some_and(|l| items.len() >= l) {
                    if i + 1 < count || response.more {
                        next = Some(encode_continue(response.revision, &kv.key));
                    }
                    break 'pages;
                }
            }
            start_after = response.kvs.last().map(|kv| kv.key.clone());
            if !response.more {
                break;
            }
        }
        Ok(Page {
            items,
            revision: revision.unwrap_or(0),
            continue_token: next,
        })
    }

    /// The revision to read at and the key to start after.
    async fn list_start(
        &self,
        options: &ListOptions,
        prefix: &str,
    ) -> Result<(Option<i64>, Option<String>), ApiError> {
        let rv = options.resource_version.as_deref().unwrap_or("");
        if let Some(token) = &options.continue_token {
            if !rv.is_empty() && rv != "0" {
                return Err(ApiError::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            let token = decode_continue(token)?;
            if !token.start.starts_with(prefix) {
                return Err(ApiError::bad_request("invalid continue token"));
            }
            return Ok((Some(token.rv), Some(token.start)));
        }
        match (options.resource_version_match.as_deref(), rv) {
            (Some("Exact"), "" | "0") => Err(ApiError::bad_request(
                "resourceVersionMatch \"Exact\" needs a resourceVersion other than 0",
            )),
            (Some("Exact"), rv) => Ok((Some(super::parse_resource_version(rv)?), None)),
            (None | Some("NotOlderThan"), "" | "0") => Ok((None, None)),
            (None | Some("NotOlderThan"), rv) => {
                let wanted = super::parse_resource_version(rv)?;
                let current = self
                    .store
                    .current_revision()
                    .await
                    .map_err(ApiError::internal)?;
                if wanted > current {
                    return Err(ApiError::timeout(
                        &format!("Too large resource version: {wanted}, current: {current}"),
                        1,
                    ));
                }
                Ok((None, None))
            }
            (Some(other), _) => Err(ApiError::bad_request(format!(
                "unsupported resourceVersionMatch {other:?}: use NotOlderThan or Exact"
            ))),
        }
    }
}
