//! Deletes of one object and of collections.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use keelson_api::ApiError;
use keelson_api::registry::ResourceInfo;
use serde_json::{Value, json};

use super::{Call, dry_run};
use crate::http::response::{ApiResult, Failure, json_response};
use crate::objects::{DeleteOptions, Deleted, ListOptions};

impl Call<'_> {
    /// DeleteOptions from the body, or else from the query.
    async fn delete_options(&self, request_body: Body) -> ApiResult<DeleteOptions> {
        let bytes = crate::http::body::read(request_body).await?;
        let mut options: DeleteOptions = if bytes.iter().all(u8::is_ascii_whitespace) {
            DeleteOptions::default()
        } else {
            let value =
                crate::codec::decode(&bytes, &crate::http::body::content_type(self.headers))?;
            serde_json::from_value(value).map_err(|err| {
                Failure(ApiError::bad_request(format!(
                    "invalid DeleteOptions: {err}"
                )))
            })?
        };
        if let Some(policy) = self.param("propagationPolicy") {
            options.propagation_policy = Some(policy.to_string());
        }
        if let Some(grace) = self.param("gracePeriodSeconds") {
            options.grace_period_seconds = Some(grace.parse().map_err(|_| {
                Failure(ApiError::bad_request(format!(
                    "invalid gracePeriodSeconds {grace:?}"
                )))
            })?);
        }
        if let Some(value) = self.param("dryRun") {
            options.dry_run.push(value.to_string());
        }
        for value in &options.dry_run {
            dry_run(Some(value), "DeleteOptions")?;
        }
        Ok(options)
    }

    pub(super) async fn delete(&self, name: &str, request_body: Body) -> ApiResult<Response> {
        let options = self.delete_options(request_body).await?;
        let r = self.target.resource;
        let deleted = self
            .state
            .objects
            .delete(r, self.namespace()?, name, &options)
            .await?;
        match deleted {
            // Upstream answers 202 only when the client asked for cascading
            // deletion the old way; held and graceful deletes are 200.
            Deleted::Pending(object) if options.orphan_dependents == Some(false) => {
                self.object_response(StatusCode::ACCEPTED, &object)
            }
            Deleted::Pending(object) => self.object_response(StatusCode::OK, &object),
            Deleted::Gone(object) if r.strategy.returns_deleted_object() => {
                self.object_response(StatusCode::OK, &object)
            }
            Deleted::Gone(object) => Ok(json_response(StatusCode::OK, &success(r, name, &object))),
        }
    }

    pub(super) async fn delete_collection(&self, request_body: Body) -> ApiResult<Response> {
        let options = self.delete_options(request_body).await?;
        let list_options = ListOptions {
            label_selector: self.param("labelSelector").map(str::to_string),
            field_selector: self.param("fieldSelector").map(str::to_string),
            ..ListOptions::default()
        };
        let r = self.target.resource;
        let objects = &self.state.objects;
        let list = objects
            .list(r, self.target.namespace.as_deref(), &list_options)
            .await?;
        let mut deleted = Vec::new();
        for item in list["items"].as_array().into_iter().flatten() {
            let namespace = crate::meta::meta_str(item, "namespace");
            let name = crate::meta::meta_str(item, "name");
            match objects.delete(r, namespace, name, &options).await {
                Ok(Deleted::Gone(object) | Deleted::Pending(object)) => deleted.push(object),
                Err(err) if err.code() == 404 => {}
                Err(err) => return Err(Failure(err)),
            }
        }
        let result = json!({
            "kind": r.list_kind,
            "apiVersion": r.api_version(),
            "metadata": {"resourceVersion": list["metadata"]["resourceVersion"]},
            "items": deleted,
        });
        Ok(json_response(StatusCode::OK, &result))
    }
}

/// The `Status` of a completed delete.
fn success(resource: &ResourceInfo, name: &str, object: &Value) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {
            "name": name,
            "group": resource.group,
            "kind": resource.plural,
            "uid": object["metadata"]["uid"],
        },
    })
}
