//! The endpoints around the resources: version, health, discovery and
//! OpenAPI, each answering from the documents [`crate::documents::discovery`] and
//! [`crate::documents::openapi`] build.

use axum::extract::Path;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::documents::discovery::{self, Aggregated};
use crate::http::response::{ApiResult, Failure, json_response, no_such_path};

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

/// `/.well-known/openid-configuration`: how to verify ServiceAccount tokens.
pub async fn openid_configuration(State(state): State<crate::AppState>) -> Response {
    match &state.tokens {
        Some(issuer) => json_response(StatusCode::OK, &issuer.discovery()),
        None => Failure(no_such_path()).into_response(),
    }
}

/// `/openid/v1/jwks`: the public key of ServiceAccount tokens.
pub async fn openid_jwks(State(state): State<crate::AppState>) -> Response {
    match &state.tokens {
        Some(issuer) => {
            let mut response = json_response(StatusCode::OK, &issuer.jwks());
            response.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/jwk-set+json"),
            );
            response
        }
        None => Failure(no_such_path()).into_response(),
    }
}

/// Any path nothing serves.
pub async fn not_found() -> Response {
    Failure(no_such_path()).into_response()
}

/// A method a path does not take: 405 with a `Status`, as upstream.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    let message = format!(
        "the server does not allow this method on the requested resource ({method} {})",
        uri.path()
    );
    let error = keelson_api::ApiError {
        reason: keelson_api::StatusReason::MethodNotAllowed,
        message,
        details: None,
    };
    Failure(error).into_response()
}

/// `GET /api`.
pub async fn core(headers: HeaderMap) -> Response {
    discovery_root(&headers, Aggregated::Core)
}

/// `GET /apis`.
pub async fn groups(headers: HeaderMap) -> Response {
    discovery_root(&headers, Aggregated::Groups)
}

fn discovery_root(headers: &HeaderMap, which: Aggregated) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(version) = discovery::negotiate(accept) {
        let mut response = json_response(StatusCode::OK, &discovery::aggregated(which, version));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(version.content_type()),
        );
        return response;
    }
    let document = match which {
        Aggregated::Core => discovery::api_versions("127.0.0.1"),
        Aggregated::Groups => discovery::api_group_list(),
    };
    json_response(StatusCode::OK, &document)
}

/// `GET /apis/G`.
pub fn group(group: &str) -> ApiResult<Response> {
    let document = discovery::api_group(group).ok_or_else(|| Failure(no_such_path()))?;
    Ok(json_response(StatusCode::OK, &document))
}

/// `GET /api/v1`, `/apis/G/V`.
pub fn group_version(group: &str, version: &str) -> ApiResult<Response> {
    let document =
        discovery::api_resource_list(group, version).ok_or_else(|| Failure(no_such_path()))?;
    Ok(json_response(StatusCode::OK, &document))
}

/// `GET /openapi/v3`.
pub async fn openapi_index() -> Response {
    json_response(StatusCode::OK, &crate::documents::openapi::v3_index())
}

/// `GET /openapi/v3/api/v1`, `/openapi/v3/apis/G/V`.
pub async fn openapi_document(Path(path): Path<String>) -> Response {
    let parts: Vec<&str> = path.split('/').collect();
    let document = match parts.as_slice() {
        ["api", version] => crate::documents::openapi::v3_document("", version),
        ["apis", group, version] => crate::documents::openapi::v3_document(group, version),
        _ => None,
    };
    match document {
        Some(bytes) => {
            let mut response = Response::new(axum::body::Body::from(bytes));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        None => Failure(no_such_path()).into_response(),
    }
}
