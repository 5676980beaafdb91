//! Reads: get, list (from the store, or the watch cache at
//! `resourceVersion=0`, in [`lists`](super::lists)), and the tables
//! kubectl asks for.

use axum::http::StatusCode;
use axum::response::Response;
use keelson_api::ApiError;
use keelson_api::registry::ResourceInfo;
use serde_json::Value;

use super::lists::{self, Shape};
use super::{Call, Params};
use crate::documents::table;
use crate::http::negotiation::{self, Form};
use crate::http::response::{ApiResult, Failure, bytes_response, json_response};
use crate::objects::ListOptions;
use crate::objects::list::{Filter, validate_options};

/// The table of `objects` as the request's `includeObject` asks.
pub fn as_table(resource: &ResourceInfo, objects: &[Value], params: &Params) -> ApiResult<Value> {
    Ok(table::table(
        resource,
        objects,
        lists::include_object(params)?,
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
        let shape = Shape::of(form, self.params)?;
        if from_cache {
            return self.cached_list(&options, shape).await;
        }
        let body = self
            .state
            .objects
            .list_bytes(resource, namespace, &options)
            .await?;
        match shape {
            Shape::Objects => Ok(bytes_response(StatusCode::OK, body)),
            shape => lists::reshaped(resource, &body, shape),
        }
    }

    /// A list at `resourceVersion=0` ("any"), served from the watch
    /// cache's shared objects as the client reads it.
    async fn cached_list(&self, options: &ListOptions, shape: Shape) -> ApiResult<Response> {
        let r = self.target.resource;
        let filter = Filter::new(
            r,
            options.label_selector.as_deref(),
            options.field_selector.as_deref(),
        )?;
        let prefix = keelson_api::registry::storage_prefix(r, self.target.namespace.as_deref());
        let cache = self.state.caches.of(r).await?;
        let snapshot = cache.snapshot().ok_or_else(|| {
            Failure(ApiError::service_unavailable(
                "the watch cache is restarting; try again",
            ))
        })?;
        Ok(lists::from_snapshot(r, &snapshot, &prefix, filter, shape))
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
