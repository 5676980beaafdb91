//! Reads: get, list (from the store, or the watch cache at
//! `resourceVersion=0`), and the tables kubectl asks for.

use axum::http::StatusCode;
use axum::response::Response;
use keelson_api::ApiError;
use keelson_api::registry::ResourceInfo;
use serde_json::{Value, json};

use super::{Call, Params};
use crate::documents::table;
use crate::http::negotiation::{self, Form};
use crate::http::response::{ApiResult, Failure, bytes_response, json_response};
use crate::objects::ListOptions;
use crate::objects::list::{Filter, validate_options};

/// The table of `objects` as the request's `includeObject` asks.
pub fn as_table(resource: &ResourceInfo, objects: &[Value], params: &Params) -> ApiResult<Value> {
    let include = params
        .get("includeObject")
        .map(String::as_str)
        .unwrap_or("");
    let include = table::IncludeObject::parse(include).ok_or_else(|| {
        Failure(ApiError::bad_request(format!(
            "invalid includeObject {include:?}"
        )))
    })?;
    Ok(table::table(
        resource,
        objects,
        include,
        jiff::Timestamp::now(),
    ))
}

impl Call<'_> {
    fn list_options(&self) -> ApiResult<ListOptions> {
        validate_options(self.params)?;
        Ok(ListOptions {
            label_selector: self.param("labelSelector").map(str::to_string),
            field_selector: self.param("fieldSelector").map(str::to_string),
            // As upstream, a limit below 1 means none.
            limit: match self.param("limit") {
                Some(limit) => limit
                    .parse::<i64>()
                    .map_err(|_| {
                        Failure(ApiError::bad_request(format!("invalid limit {limit:?}")))
                    })?
                    .try_into()
                    .ok(),
                None => None,
            },
            continue_token: self
                .param("continue")
                .filter(|c| !c.is_empty())
                .map(str::to_string),
            resource_version: self.param("resourceVersion").map(str::to_string),
            resource_version_match: self.param("resourceVersionMatch").map(str::to_string),
        })
    }

    pub(super) async fn list(&self) -> ApiResult<Response> {
        let options = self.list_options()?;
        let (resource, namespace) = (self.target.resource, self.target.namespace.as_deref());
        let from_cache = options.resource_version.as_deref() == Some("0")
            && options.continue_token.is_none()
            && options.resource_version_match.as_deref() != Some("Exact");
        let form = self.form;
        if form == Form::Metadata {
            return Err(Failure(negotiation::wrong_shape(form)));
        }
        let table = form == Form::Table;
        if !from_cache && form == Form::Object {
            let body = self
                .state
                .objects
                .list_bytes(resource, namespace, &options)
                .await?;
            return Ok(bytes_response(StatusCode::OK, body));
        }
        let list = if from_cache {
            self.cached_list(&options).await?
        } else {
            self.state
                .objects
                .list(resource, namespace, &options)
                .await?
        };
        if form == Form::MetadataList {
            let partial = negotiation::metadata_list_of(&list);
            return Ok(json_response(StatusCode::OK, &partial));
        }
        if !table {
            return Ok(json_response(StatusCode::OK, &list));
        }
        let items = list["items"].as_array().cloned().unwrap_or_default();
        let mut table = as_table(resource, &items, self.params)?;
        table["metadata"] = list["metadata"].clone();
        Ok(json_response(StatusCode::OK, &table))
    }

    /// A list at `resourceVersion=0` ("any"), served from the watch cache.
    async fn cached_list(&self, options: &ListOptions) -> ApiResult<Value> {
        let r = self.target.resource;
        let filter = Filter::new(
            r,
            options.label_selector.as_deref(),
            options.field_selector.as_deref(),
        )?;
        let prefix = keelson_api::registry::storage_prefix(r, self.target.namespace.as_deref());
        let cache = self.state.caches.of(r).await?;
        let (objects, revision, _) = cache.snapshot(&prefix).ok_or_else(|| {
            Failure(ApiError::service_unavailable(
                "the watch cache is restarting; try again",
            ))
        })?;
        let items: Vec<Value> = objects.into_iter().filter(|o| filter.matches(o)).collect();
        Ok(json!({
            "kind": r.list_kind,
            "apiVersion": r.api_version(),
            "metadata": {"resourceVersion": revision.to_string()},
            "items": items,
        }))
    }

    pub(super) async fn get(&self, name: &str) -> ApiResult<Response> {
        let (resource, namespace) = (self.target.resource, self.namespace()?);
        let form = self.form;
        let subresource = self.target.subresource.as_deref();
        if subresource.is_none() && form == Form::Object {
            let body = self
                .state
                .objects
                .get_raw(resource, namespace, name)
                .await?;
            return Ok(bytes_response(StatusCode::OK, body));
        }
        let object = self.state.objects.get(resource, namespace, name).await?;
        if self.serve() == Some(keelson_api::registry::Serve::Scale) {
            let scale = crate::registry::scale::to_scale(resource, &object)?;
            return Ok(json_response(StatusCode::OK, &scale));
        }
        self.object_response(StatusCode::OK, &object)
    }
}
