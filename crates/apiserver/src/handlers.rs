//! The resource endpoints: one handler takes every request under `/api` and
//! `/apis`, finds what the path addresses, and calls the object layer.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use keelson_api::ApiError;
use keelson_api::registry::ResourceInfo;
use serde_json::{Value, json};

use crate::objects::{DeleteOptions, Deleted, ListOptions, Update, WriteOptions};
use crate::path::{self, ApiPath, Target};
use crate::response::{ApiResult, Failure, bytes_response, json_response};
use crate::schema::FieldValidation;
use crate::{AppState, body, discovery_routes, pod_actions, table, watch};

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
        None => Err(Failure(crate::response::no_such_path())),
        Some(ApiPath::Group { group }) => discovery_routes::group(&group),
        Some(ApiPath::GroupVersion { group, version }) => {
            discovery_routes::group_version(&group, &version)
        }
        Some(ApiPath::Resource(target)) => {
            resource(&state, method, target, params, &headers, request_body).await
        }
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn resource(
    state: &AppState,
    method: Method,
    target: Target,
    params: Params,
    headers: &HeaderMap,
    request_body: Body,
) -> ApiResult<Response> {
    let r = target.resource;
    if let Some(sub) = &target.subresource
        && !matches!(
            sub.as_str(),
            "status" | "scale" | "binding" | "eviction" | "finalize"
        )
    {
        return Err(Failure(crate::response::no_such_path()));
    }
    let is_watch = matches!(params.get("watch").map(String::as_str), Some("true" | "1"));
    match (method.clone(), &target.name) {
        (Method::GET, None) if is_watch => watch::serve(state, target, params, headers).await,
        (Method::GET, None) => list(state, &target, &params, headers).await,
        (Method::GET, Some(name)) => get(state, &target, name, &params, headers).await,
        (Method::POST, None) => create(state, &target, &params, headers, request_body).await,
        (Method::POST, Some(name)) if r.kind == "Pod" => {
            pod_action(state, &target, name, &params, headers, request_body).await
        }
        (Method::PUT, Some(name)) => {
            replace(state, &target, name, &params, headers, request_body).await
        }
        (Method::PATCH, Some(name)) => {
            patch(state, &target, name, &params, headers, request_body).await
        }
        (Method::DELETE, Some(name)) => {
            delete(state, &target, name, &params, headers, request_body).await
        }
        (Method::DELETE, None) => {
            delete_collection(state, &target, &params, headers, request_body).await
        }
        _ => Err(Failure(ApiError::method_not_supported(
            r.group,
            r.plural,
            method.as_str(),
        ))),
    }
}

/// The namespace an item request names ("" for cluster-scoped resources).
fn namespace_of(target: &Target) -> ApiResult<&str> {
    match (&target.namespace, target.resource.namespaced) {
        (Some(ns), true) => Ok(ns),
        (None, false) => Ok(""),
        _ => Err(Failure(crate::response::no_such_path())),
    }
}

/// The options of a write; `kind` names them in errors (`CreateOptions`, ...).
fn write_options(params: &Params, headers: &HeaderMap, kind: &str) -> ApiResult<WriteOptions> {
    let dry_run = dry_run(params.get("dryRun").map(String::as_str), kind)?;
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|agent| agent.split('/').next())
        .filter(|agent| !agent.is_empty());
    Ok(WriteOptions {
        dry_run,
        field_manager: params
            .get("fieldManager")
            .cloned()
            .or_else(|| user_agent.map(str::to_string)),
    })
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

fn field_validation(params: &Params) -> ApiResult<FieldValidation> {
    Ok(FieldValidation::parse(
        params.get("fieldValidation").map(String::as_str),
    )?)
}

/// Adds a `Warning` header per warning, as upstream sends them.
fn with_warnings(mut response: Response, warnings: &[String]) -> Response {
    for warning in warnings {
        let text = format!("299 - {}", serde_json::Value::from(warning.as_str()));
        if let Ok(value) = header::HeaderValue::from_str(&text) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
    response
}

/// Whether the client asked for a `meta.k8s.io` Table.
pub fn wants_table(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .and_then(|accept| accept.split(',').next())
        .is_some_and(|first| first.contains("as=Table"))
}

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

async fn list(
    state: &AppState,
    target: &Target,
    params: &Params,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    crate::objects::list::validate_options(params)?;
    let options = ListOptions {
        label_selector: params.get("labelSelector").cloned(),
        field_selector: params.get("fieldSelector").cloned(),
        // As upstream, a limit below 1 means none.
        limit: match params.get("limit") {
            Some(limit) => limit
                .parse::<i64>()
                .map_err(|_| Failure(ApiError::bad_request(format!("invalid limit {limit:?}"))))?
                .try_into()
                .ok(),
            None => None,
        },
        continue_token: params.get("continue").cloned().filter(|c| !c.is_empty()),
        resource_version: params.get("resourceVersion").cloned(),
        resource_version_match: params.get("resourceVersionMatch").cloned(),
    };
    let namespace = target.namespace.as_deref();
    let from_cache = options.resource_version.as_deref() == Some("0")
        && options.continue_token.is_none()
        && options.resource_version_match.as_deref() != Some("Exact");
    let table = wants_table(headers);
    if !from_cache && !table {
        let body = state
            .objects
            .list_bytes(target.resource, namespace, &options)
            .await?;
        return Ok(bytes_response(StatusCode::OK, body));
    }
    let list = if from_cache {
        cached_list(state, target, &options).await?
    } else {
        state
            .objects
            .list(target.resource, namespace, &options)
            .await?
    };
    if !table {
        return Ok(json_response(StatusCode::OK, &list));
    }
    let items = list["items"].as_array().cloned().unwrap_or_default();
    let mut table = as_table(target.resource, &items, params)?;
    table["metadata"] = list["metadata"].clone();
    Ok(json_response(StatusCode::OK, &table))
}

/// A list at `resourceVersion=0` ("any"), served from the watch cache.
async fn cached_list(state: &AppState, target: &Target, options: &ListOptions) -> ApiResult<Value> {
    let r = target.resource;
    let filter = crate::objects::list::Filter::new(
        r,
        options.label_selector.as_deref(),
        options.field_selector.as_deref(),
    )?;
    let prefix = keelson_api::registry::storage_prefix(r, target.namespace.as_deref());
    let cache = state.caches.of(r).await?;
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

async fn get(
    state: &AppState,
    target: &Target,
    name: &str,
    params: &Params,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let namespace = namespace_of(target)?;
    if target.subresource.is_none() && !wants_table(headers) {
        let body = state
            .objects
            .get_raw(target.resource, namespace, name)
            .await?;
        return Ok(bytes_response(StatusCode::OK, body));
    }
    let object = state.objects.get(target.resource, namespace, name).await?;
    let object = match target.subresource.as_deref() {
        Some("scale") => crate::scale::to_scale(target.resource, &object)?,
        _ => object,
    };
    if wants_table(headers) && target.subresource.is_none() {
        let mut table = as_table(target.resource, std::slice::from_ref(&object), params)?;
        table["metadata"] = json!({"resourceVersion": object["metadata"]["resourceVersion"]});
        return Ok(json_response(StatusCode::OK, &table));
    }
    Ok(json_response(StatusCode::OK, &object))
}

async fn create(
    state: &AppState,
    target: &Target,
    params: &Params,
    headers: &HeaderMap,
    request_body: Body,
) -> ApiResult<Response> {
    let bytes = body::read(request_body).await?;
    let mut object = body::decode(&bytes, &body::content_type(headers))?;
    let options = write_options(params, headers, "CreateOptions")?;
    let warnings = field_validation(params)?.check(target.resource, &mut object)?;
    let created = state
        .objects
        .create(
            target.resource,
            target.namespace.as_deref(),
            object,
            &options,
        )
        .await?;
    Ok(with_warnings(
        json_response(StatusCode::CREATED, &created),
        &warnings,
    ))
}

/// `POST pods/NAME/binding` and `pods/NAME/eviction`.
async fn pod_action(
    state: &AppState,
    target: &Target,
    name: &str,
    params: &Params,
    headers: &HeaderMap,
    request_body: Body,
) -> ApiResult<Response> {
    let bytes = body::read(request_body).await?;
    let object = body::decode(&bytes, &body::content_type(headers))?;
    let update = Update {
        resource: target.resource,
        namespace: namespace_of(target)?,
        name,
        subresource: None,
    };
    match target.subresource.as_deref() {
        Some("binding") => {
            let options = write_options(params, headers, "CreateOptions")?;
            Ok(pod_actions::bind(state, &update, &options, object).await?)
        }
        Some("eviction") => Ok(pod_actions::evict(state, &update, object).await?),
        _ => Err(Failure(ApiError::method_not_supported(
            target.resource.group,
            target.resource.plural,
            "create",
        ))),
    }
}

async fn replace(
    state: &AppState,
    target: &Target,
    name: &str,
    params: &Params,
    headers: &HeaderMap,
    request_body: Body,
) -> ApiResult<Response> {
    let bytes = body::read(request_body).await?;
    let mut object = body::decode(&bytes, &body::content_type(headers))?;
    let namespace = namespace_of(target)?;
    let update = Update {
        resource: target.resource,
        namespace,
        name,
        subresource: target.subresource.as_deref(),
    };
    let options = write_options(params, headers, "UpdateOptions")?;
    if target.subresource.as_deref() == Some("scale") {
        let scaled = crate::scale::update(state, &update, &options, object).await?;
        return Ok(json_response(StatusCode::OK, &scaled));
    }
    let warnings = field_validation(params)?.check(target.resource, &mut object)?;
    let updated = state
        .objects
        .update(&update, &options, |_| Ok(object.clone()))
        .await?;
    Ok(with_warnings(
        json_response(StatusCode::OK, &updated),
        &warnings,
    ))
}

async fn patch(
    state: &AppState,
    target: &Target,
    name: &str,
    params: &Params,
    headers: &HeaderMap,
    request_body: Body,
) -> ApiResult<Response> {
    let bytes = body::read(request_body).await?;
    let media_type = body::content_type(headers);
    if media_type == crate::apply::MEDIA_TYPE {
        return apply_patch(state, target, name, params, headers, &bytes).await;
    }
    let patch = crate::patch::Patch::parse(&media_type, &bytes)?;
    let namespace = namespace_of(target)?;
    let update = Update {
        resource: target.resource,
        namespace,
        name,
        subresource: target.subresource.as_deref(),
    };
    let options = write_options(params, headers, "PatchOptions")?;
    if target.subresource.as_deref() == Some("scale") {
        let scaled = crate::scale::patch(state, &update, &options, &patch).await?;
        return Ok(json_response(StatusCode::OK, &scaled));
    }
    let validation = field_validation(params)?;
    let mut warnings = Vec::new();
    let updated = state
        .objects
        .update(&update, &options, |current| {
            let mut patched = patch.apply(current)?;
            warnings = validation.check(target.resource, &mut patched)?;
            Ok(patched)
        })
        .await?;
    Ok(with_warnings(
        json_response(StatusCode::OK, &updated),
        &warnings,
    ))
}

/// Server-side apply: `PATCH` with `application/apply-patch+yaml`, on the
/// object or its status; creates the object when absent (201).
async fn apply_patch(
    state: &AppState,
    target: &Target,
    name: &str,
    params: &Params,
    headers: &HeaderMap,
    bytes: &[u8],
) -> ApiResult<Response> {
    let force = crate::apply::check_options(
        params.get("fieldManager").map(String::as_str),
        params.get("force").map(String::as_str),
    )?;
    let options = write_options(params, headers, "PatchOptions")?;
    let validation = field_validation(params)?;
    if !matches!(target.subresource.as_deref(), None | Some("status")) {
        return Err(Failure(ApiError::method_not_supported(
            target.resource.group,
            target.resource.plural,
            "apply",
        )));
    }
    let config = crate::apply::decode(bytes)?;
    let update = Update {
        resource: target.resource,
        namespace: namespace_of(target)?,
        name,
        subresource: target.subresource.as_deref(),
    };
    let request = crate::apply::Request {
        target: &update,
        options: &options,
        force,
        validation,
    };
    let outcome = crate::apply::apply(&state.objects, &request, config).await?;
    let code = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(with_warnings(
        json_response(code, &outcome.object),
        &outcome.warnings,
    ))
}

/// DeleteOptions from the body, or else from the query.
async fn delete_options(
    params: &Params,
    headers: &HeaderMap,
    request_body: Body,
) -> ApiResult<DeleteOptions> {
    let bytes = body::read(request_body).await?;
    let mut options: DeleteOptions = if bytes.iter().all(u8::is_ascii_whitespace) {
        DeleteOptions::default()
    } else {
        let value = body::decode(&bytes, &body::content_type(headers))?;
        serde_json::from_value(value).map_err(|err| {
            Failure(ApiError::bad_request(format!(
                "invalid DeleteOptions: {err}"
            )))
        })?
    };
    if let Some(policy) = params.get("propagationPolicy") {
        options.propagation_policy = Some(policy.clone());
    }
    if let Some(grace) = params.get("gracePeriodSeconds") {
        options.grace_period_seconds = Some(grace.parse().map_err(|_| {
            Failure(ApiError::bad_request(format!(
                "invalid gracePeriodSeconds {grace:?}"
            )))
        })?);
    }
    if let Some(dry_run) = params.get("dryRun") {
        options.dry_run.push(dry_run.clone());
    }
    for value in &options.dry_run {
        dry_run(Some(value), "DeleteOptions")?;
    }
    Ok(options)
}

async fn delete(
    state: &AppState,
    target: &Target,
    name: &str,
    params: &Params,
    headers: &HeaderMap,
    request_body: Body,
) -> ApiResult<Response> {
    let options = delete_options(params, headers, request_body).await?;
    let namespace = namespace_of(target)?;
    let r = target.resource;
    match state.objects.delete(r, namespace, name, &options).await? {
        // Upstream answers 202 only when the client asked for cascading
        // deletion the old way; held and graceful deletes are 200.
        Deleted::Pending(object) if options.orphan_dependents == Some(false) => {
            Ok(json_response(StatusCode::ACCEPTED, &object))
        }
        Deleted::Pending(object) => Ok(json_response(StatusCode::OK, &object)),
        Deleted::Gone(object) if r.kind == "Pod" => Ok(json_response(StatusCode::OK, &object)),
        Deleted::Gone(object) => Ok(json_response(StatusCode::OK, &success(r, name, &object))),
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

async fn delete_collection(
    state: &AppState,
    target: &Target,
    params: &Params,
    headers: &HeaderMap,
    request_body: Body,
) -> ApiResult<Response> {
    let options = delete_options(params, headers, request_body).await?;
    let list_options = ListOptions {
        label_selector: params.get("labelSelector").cloned(),
        field_selector: params.get("fieldSelector").cloned(),
        ..ListOptions::default()
    };
    let r = target.resource;
    let list = state
        .objects
        .list(r, target.namespace.as_deref(), &list_options)
        .await?;
    let mut deleted = Vec::new();
    for item in list["items"].as_array().into_iter().flatten() {
        let namespace = crate::meta::meta_str(item, "namespace");
        let name = crate::meta::meta_str(item, "name");
        match state.objects.delete(r, namespace, name, &options).await {
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
