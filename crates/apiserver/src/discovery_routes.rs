//! The endpoints around the resources: version, health, discovery and
//! OpenAPI, each answering from the documents [`crate::discovery`] and
//! [`crate::openapi`] build.

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::response::{ApiResult, Failure, json_response, no_such_path};

/// `GET /version`.
pub async fn version() -> Response {
    let version = crate::KUBERNETES_VERSION;
    let (major, minor) = {
        let mut parts = version.trim_start_matches('v').split('.');
        (parts.next().unwrap_or("1"), parts.next().unwrap_or("0"))
    };
    json_response(
        StatusCode::OK,
        &json!({
            "major": major,
            "minor": minor,
            "gitVersion": version,
            "gitCommit": env!("CARGO_PKG_VERSION"),
            "gitTreeState": "clean",
            "buildDate": "1970-01-01T00:00:00Z",
            "goVersion": "keelson",
            "compiler": "rustc",
            "platform": format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
        }),
    )
}

/// `GET /healthz`, `/livez`, `/readyz`.
pub async fn ok() -> &'static str {
    "ok"
}

/// Any path nothing serves.
pub async fn not_found() -> Response {
    Failure(no_such_path()).into_response()
}

/// `GET /api`.
pub async fn core(_headers: HeaderMap) -> Response {
    not_found().await
}

/// `GET /apis`.
pub async fn groups(_headers: HeaderMap) -> Response {
    not_found().await
}

/// `GET /apis/G`.
pub fn group(_group: &str) -> ApiResult<Response> {
    Err(Failure(no_such_path()))
}

/// `GET /api/v1`, `/apis/G/V`.
pub fn group_version(_group: &str, _version: &str) -> ApiResult<Response> {
    Err(Failure(no_such_path()))
}

/// `GET /openapi/v3`.
pub async fn openapi_index() -> Response {
    not_found().await
}

/// `GET /openapi/v3/...`.
pub async fn openapi_document(Path(_path): Path<String>) -> Response {
    not_found().await
}
