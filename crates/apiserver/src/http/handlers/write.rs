//! Writes: create, replace, the patch types and server-side apply, and the
//! pod actions (binding, eviction).

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use keelson_api::ApiError;
use keelson_api::registry::Serve;

use super::{Call, with_warnings};
use crate::http::response::{ApiResult, Failure, json_response};
use crate::objects::Update;
use crate::registry::{pod_actions, token_request};
use crate::schema::Source;

/// A success `Status`, answered with its own code.
fn status_response(status: &serde_json::Value) -> Response {
    let code = status["code"].as_u64().and_then(|c| u16::try_from(c).ok());
    let code = code.and_then(|c| StatusCode::from_u16(c).ok());
    json_response(code.unwrap_or(StatusCode::OK), status)
}

impl Call<'_> {
    pub(super) async fn create(&self, request_body: Body) -> ApiResult<Response> {
        let (mut object, duplicates) = self.object_body(request_body).await?;
        let options = self.write_options("CreateOptions")?;
        let warnings =
            self.field_validation()?
                .check_body(self.target.resource, &mut object, &duplicates)?;
        let created = self
            .state
            .objects
            .create(
                self.target.resource,
                self.target.namespace.as_deref(),
                object,
                &options,
            )
            .await?;
        Ok(with_warnings(
            self.object_response(StatusCode::CREATED, &created)?,
            &warnings,
        ))
    }

    /// `POST pods/NAME/binding`, `pods/NAME/eviction` and
    /// `serviceaccounts/NAME/token`.
    pub(super) async fn pod_action(&self, name: &str, request_body: Body) -> ApiResult<Response> {
        let object = self.body(request_body).await?;
        let update = Update {
            subresource: None,
            ..self.item(name)?
        };
        match self.serve() {
            Some(Serve::Binding) => {
                let options = self.write_options("CreateOptions")?;
                let status =
                    pod_actions::bind(&self.state.objects, &update, &options, object).await?;
                Ok(status_response(&status))
            }
            Some(Serve::Eviction) => {
                let options = self.write_options("CreateOptions")?;
                let objects = &self.state.objects;
                let status = pod_actions::evict(objects, &update, object, options.dry_run).await?;
                Ok(status_response(&status))
            }
            Some(Serve::TokenRequest) => {
                self.write_options("CreateOptions")?;
                let issuer = self.state.tokens.as_deref();
                let objects = &self.state.objects;
                let made = token_request::create(objects, issuer, &update, object).await?;
                Ok(json_response(StatusCode::CREATED, &made))
            }
            _ => Err(Failure(ApiError::method_not_supported(
                self.target.resource.group,
                self.target.resource.plural,
                "create",
            ))),
        }
    }

    pub(super) async fn replace(&self, name: &str, request_body: Body) -> ApiResult<Response> {
        let (mut object, duplicates) = self.object_body(request_body).await?;
        let update = self.item(name)?;
        let options = self.write_options("UpdateOptions")?;
        if self.serve() == Some(Serve::Scale) {
            let scaled =
                crate::registry::scale::update(&self.state.objects, &update, &options, object)
                    .await?;
            return Ok(json_response(StatusCode::OK, &scaled));
        }
        let warnings =
            self.field_validation()?
                .check_body(self.target.resource, &mut object, &duplicates)?;
        let updated = self
            .state
            .objects
            .update(&update, &options, |_| Ok(object.clone()))
            .await?;
        Ok(with_warnings(
            self.object_response(StatusCode::OK, &updated)?,
            &warnings,
        ))
    }

    pub(super) async fn patch(&self, name: &str, request_body: Body) -> ApiResult<Response> {
        let bytes = crate::http::body::read(request_body).await?;
        let media_type = crate::http::body::content_type(self.headers);
        if media_type == crate::fields::apply::MEDIA_TYPE {
            return self.apply(name, &bytes).await;
        }
        let patch = crate::fields::patch::Patch::parse(&media_type, &bytes)?;
        let update = self.item(name)?;
        let options = self.write_options("PatchOptions")?;
        if self.param("force").is_some() {
            let path = keelson_api::FieldPath::new("force");
            let cause = keelson_api::FieldError::forbidden(
                &path,
                "may not be specified for non-apply patch",
            );
            return Err(Failure(ApiError::invalid(
                "meta.k8s.io",
                "PatchOptions",
                "",
                &[cause],
            )));
        }
        if self.serve() == Some(Serve::Scale) {
            let scaled =
                crate::registry::scale::patch(&self.state.objects, &update, &options, &patch)
                    .await?;
            return Ok(json_response(StatusCode::OK, &scaled));
        }
        let validation = self.field_validation()?;
        let mut warnings = Vec::new();
        let updated = self
            .state
            .objects
            .update(&update, &options, |current| {
                let mut patched = patch.apply(current)?;
                // A patch that leaves the resourceVersion as it was names
                // none: it applies again to a newer object, as upstream's
                // does, instead of conflicting with a write in between.
                if crate::meta::meta_str(&patched, "resourceVersion")
                    == crate::meta::meta_str(current, "resourceVersion")
                {
                    crate::meta::set_meta(&mut patched, "resourceVersion", None);
                }
                warnings = validation.check(self.target.resource, &mut patched, Source::Patch)?;
                Ok(patched)
            })
            .await?;
        Ok(with_warnings(
            self.object_response(StatusCode::OK, &updated)?,
            &warnings,
        ))
    }

    /// Server-side apply: `PATCH` with `application/apply-patch+yaml`, on
    /// the object or its status; creates the object when absent (201).
    async fn apply(&self, name: &str, bytes: &[u8]) -> ApiResult<Response> {
        let force =
            crate::fields::apply::check_options(self.param("fieldManager"), self.param("force"))?;
        let options = self.write_options("PatchOptions")?;
        let validation = self.field_validation()?;
        // Apply writes the object or a subresource that owns its fields
        // and takes patches (status); not scale, nor a namespace's finalize.
        let appliable = match self.serve() {
            None => self.target.subresource.is_none(),
            Some(Serve::Owns(_)) => self.subresource_supports("patch"),
            Some(_) => false,
        };
        if !appliable {
            return Err(Failure(ApiError::method_not_supported(
                self.target.resource.group,
                self.target.resource.plural,
                "apply",
            )));
        }
        let config = crate::fields::apply::decode(bytes)?;
        let update = self.item(name)?;
        let request = crate::objects::apply::Request {
            target: &update,
            options: &options,
            force,
            validation,
        };
        let outcome = self.state.objects.apply(&request, config).await?;
        let code = if outcome.created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok(with_warnings(
            self.object_response(code, &outcome.object)?,
            &outcome.warnings,
        ))
    }
}
