//! The resource endpoints: one handler takes every request under `/api` and
//! `/apis`, finds what the path addresses, and calls the object layer.
//! [`read`] answers gets, lists and tables (large lists written item by
//! item in [`lists`]); [`watch`] streams watches;
//! [`write`] creates, replaces, patches and applies; [`delete`] deletes.

mod delete;
mod lists;
mod read;
mod watch;
mod write;

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use keelson_api::ApiError;
use keelson_api::registry::Serve;
use serde_json::Value;

use crate::AppState;
use crate::codec;
use crate::http::negotiation::{self, Form};
use crate::http::path::{self, ApiPath, Target};
use crate::http::response::json_response;
use crate::http::response::{ApiResult, Failure, no_such_path};
use crate::http::{body, discovery_routes};
use crate::objects::{Update, WriteOptions};
use crate::schema::FieldValidation;

pub use read::as_table;

/// Query parameters, decoded.
pub type Params = HashMap<String, String>;

/// Handles `/api/...` and `/apis/...`.
pub async fn api(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    Query(params): Query<Params>,
    headers: HeaderMap,
    request_body: Body,
) -> Response {
    let path = uri.path();
    let (core, rest) = match path.strip_prefix("/api/") {
        Some(rest) => (true, rest),
        None => (false, path.strip_prefix("/apis/").unwrap_or("")),
    };
    let result = match path::parse(core, rest) {
        None => Err(Failure(no_such_path())),
        Some(ApiPath::Group { .. } | ApiPath::GroupVersion { .. }) if method != Method::GET => Err(
            Failure(ApiError::method_not_supported("", path, method.as_str())),
        ),
        Some(ApiPath::Group { group }) => discovery_routes::group(&group),
        Some(ApiPath::GroupVersion { group, version }) => {
            discovery_routes::group_version(&group, &version)
        }
        Some(ApiPath::Resource(target)) => {
            match negotiation::form(&headers) {
                // An answer the client cannot take is refused before
                // anything is done.
                Err(err) => Err(Failure(err)),
                Ok(form) => {
                    let call = Call {
                        state: &state,
                        target: &target,
                        params: &params,
                        headers: &headers,
                        form,
                    };
                    let answer = call.dispatch(method, request_body).await;
                    let answer = answer.unwrap_or_else(IntoResponse::into_response);
                    // Every request of a deprecated version says so.
                    match target.resource.strategy.deprecation() {
                        Some(warning) => Ok(with_warnings(answer, &[warning.to_string()])),
                        None => Ok(answer),
                    }
                }
            }
        }
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

/// One request to a resource path: what every handler reads.
pub(crate) struct Call<'a> {
    pub state: &'a AppState,
    pub target: &'a Target,
    pub params: &'a Params,
    pub headers: &'a HeaderMap,
    /// The form of answer the client's `Accept` asks for.
    pub form: Form,
}

/// Bodies up to this size are decoded where the request is served.
const DECODE_INLINE_BYTES: usize = 64 * 1024;

impl Call<'_> {
    async fn dispatch(&self, method: Method, request_body: Body) -> ApiResult<Response> {
        let r = self.target.resource;
        let serve = match &self.target.subresource {
            None => None,
            Some(_) => Some(self.serve().ok_or_else(|| Failure(no_such_path()))?),
        };
        let watching = match self.param("watch") {
            None => false,
            Some(text) => parse_bool(text, "watch")?,
        };
        match (&method, self.target.name.as_deref()) {
            (&Method::GET, None) if watching => {
                watch::serve(
                    self.state,
                    self.target.clone(),
                    self.params.clone(),
                    self.form,
                )
                .await
            }
            (&Method::GET, None) => self.list().await,
            (&Method::GET, Some(name)) => self.get(name).await,
            (&Method::POST, None) => self.create(request_body).await,
            (&Method::POST, Some(name))
                if matches!(
                    serve,
                    Some(Serve::Binding | Serve::Eviction | Serve::TokenRequest)
                ) =>
            {
                self.pod_action(name, request_body).await
            }
            (&Method::PUT, Some(name)) => self.replace(name, request_body).await,
            (&Method::PATCH, Some(name)) => self.patch(name, request_body).await,
            (&Method::DELETE, Some(name)) => self.delete(name, request_body).await,
            (&Method::DELETE, None) => self.delete_collection(request_body).await,
            _ => Err(Failure(ApiError::method_not_supported(
                r.group,
                r.plural,
                method.as_str(),
            ))),
        }
    }

    /// How the addressed subresource is served; `None` for the object
    /// itself and for subresources the server does not serve.
    fn serve(&self) -> Option<Serve> {
        let name = self.target.subresource.as_deref()?;
        let sub = self.target.resource.subresource(name)?;
        sub.is_served().then_some(sub.serve)
    }

    /// Whether the addressed subresource lists `verb` in discovery.
    fn subresource_supports(&self, verb: &str) -> bool {
        let name = self.target.subresource.as_deref().unwrap_or_default();
        self.target
            .resource
            .subresource(name)
            .is_some_and(|sub| sub.verbs.contains(&verb))
    }

    /// An answer with one object of the addressed resource, in the form
    /// the client asked for.
    fn object_response(&self, code: axum::http::StatusCode, object: &Value) -> ApiResult<Response> {
        let form = self.form;
        let body = match form {
            Form::Object => return Ok(json_response(code, object)),
            Form::Metadata => negotiation::metadata_of(object),
            Form::Table => {
                let one = std::slice::from_ref(object);
                let mut table = as_table(self.target.resource, one, self.params)?;
                let version = object["metadata"]["resourceVersion"].clone();
                table["metadata"] = serde_json::json!({"resourceVersion": version});
                table
            }
            Form::MetadataList => return Err(Failure(negotiation::wrong_shape(form))),
        };
        Ok(json_response(code, &body))
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// The namespace an item request names ("" for cluster-scoped resources).
    fn namespace(&self) -> ApiResult<&str> {
        match (&self.target.namespace, self.target.resource.namespaced) {
            (Some(ns), true) => Ok(ns),
            (None, false) => Ok(""),
            _ => Err(Failure(no_such_path())),
        }
    }

    /// The object (or subresource) `name` addresses.
    fn item<'n>(&'n self, name: &'n str) -> ApiResult<Update<'n>> {
        Ok(Update {
            resource: self.target.resource,
            namespace: self.namespace()?,
            name,
            subresource: self.target.subresource.as_deref(),
        })
    }

    /// The request body, decoded by its content type.
    async fn body(&self, request_body: Body) -> ApiResult<Value> {
        Ok(self.object_body(request_body).await?.0)
    }

    /// An object body and, for JSON, the fields it names twice (which
    /// `fieldValidation` reports).
    async fn object_body(&self, request_body: Body) -> ApiResult<(Value, Vec<String>)> {
        let bytes = body::read(request_body).await?;
        let media_type = body::content_type(self.headers);
        let wanted = self.field_validation()? != FieldValidation::Ignore;
        let find_duplicates = wanted && media_type.contains("json");
        let inline = bytes.len() <= DECODE_INLINE_BYTES;
        let decode = move || {
            let object = codec::decode(&bytes, &media_type)?;
            let duplicates = match find_duplicates {
                true => codec::duplicate_fields(&bytes),
                false => Vec::new(),
            };
            Ok::<_, ApiError>((object, duplicates))
        };
        if inline {
            return Ok(decode()?);
        }
        // A big body is decoded beside the threads that serve requests, so
        // that a few of them do not hold up every other client.
        let decoded = tokio::task::spawn_blocking(decode)
            .await
            .map_err(|err| ApiError::internal(format!("failed to decode the body: {err}")))?;
        Ok(decoded?)
    }

    /// The options of a write; `kind` names them in errors (`CreateOptions`, ...).
    fn write_options(&self, kind: &str) -> ApiResult<WriteOptions> {
        let dry_run = dry_run(self.param("dryRun"), kind)?;
        if let Some(manager) = self.param("fieldManager") {
            check_field_manager(manager, kind)?;
        }
        let user_agent = self
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .and_then(|agent| agent.split('/').next())
            .filter(|agent| !agent.is_empty());
        Ok(WriteOptions {
            dry_run,
            field_manager: self
                .param("fieldManager")
                .or(user_agent)
                .map(str::to_string),
        })
    }

    fn field_validation(&self) -> ApiResult<FieldValidation> {
        Ok(FieldValidation::parse(self.param("fieldValidation"))?)
    }
}

/// A boolean query parameter as Go's `strconv.ParseBool` reads it (and
/// upstream's query decoding with it): a 400 for anything else.
fn parse_bool(text: &str, name: &str) -> ApiResult<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "" | "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        other => Err(Failure(ApiError::bad_request(format!(
            "invalid value for {name}: strconv.ParseBool: parsing {other:?}: invalid syntax"
        )))),
    }
}

/// Whether `dryRun` asks for a dry run; a value other than `All` is
/// refused as upstream does, rather than taken for a real write.
fn dry_run(value: Option<&str>, kind: &str) -> ApiResult<bool> {
    match value {
        None | Some("") => Ok(false),
        Some("All") => Ok(true),
        Some(other) => {
            let path = keelson_api::FieldPath::new("dryRun");
            let cause = keelson_api::FieldError::not_supported(&path, other, &["All"]);
            Err(Failure(ApiError::invalid(
                "meta.k8s.io",
                kind,
                "",
                &[cause],
            )))
        }
    }
}

/// The most bytes a field manager's name may have, as upstream.
const FIELD_MANAGER_MAX: usize = 128;

/// Refuses a `fieldManager` that is too long or not printable, as upstream.
fn check_field_manager(manager: &str, kind: &str) -> ApiResult<()> {
    let path = keelson_api::FieldPath::new("fieldManager");
    let mut causes = Vec::new();
    if manager.len() > FIELD_MANAGER_MAX {
        causes.push(keelson_api::FieldError::too_long(
            &path,
            Some(FIELD_MANAGER_MAX),
        ));
    }
    for (at, c) in manager.char_indices() {
        if c.is_control() {
            let detail = format!("invalid character U+{:04X} (at position {at})", c as u32);
            causes.push(keelson_api::FieldError::invalid(&path, manager, detail));
        }
    }
    match causes.is_empty() {
        true => Ok(()),
        false => Err(Failure(ApiError::invalid("meta.k8s.io", kind, "", &causes))),
    }
}

/// Adds a `Warning` header per warning, as upstream sends them.
fn with_warnings(mut response: Response, warnings: &[String]) -> Response {
    for warning in warnings {
        let text = format!("299 - {}", Value::from(warning.as_str()));
        if let Ok(value) = header::HeaderValue::from_str(&text) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
    response
}
