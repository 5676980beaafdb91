//! Turning results into HTTP responses: every failure becomes a `Status`
//! object in one place, and objects are written as JSON.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use keelson_api::ApiError;
use serde_json::Value;

/// A failed request, answered with a `Status`.
#[derive(Debug)]
pub struct Failure(pub ApiError);

impl From<ApiError> for Failure {
    fn from(err: ApiError) -> Self {
        Failure(err)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.0.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        bytes_response(code, self.0.to_wire())
    }
}

/// What the handlers return.
pub type ApiResult<T> = Result<T, Failure>;

/// A JSON body with a status code.
pub fn json_response(code: StatusCode, value: &Value) -> Response {
    bytes_response(code, serde_json::to_vec(value).unwrap_or_default())
}

/// A body of JSON bytes with a status code.
pub fn bytes_response(code: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = code;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

pub use crate::objects::store_error;
pub use crate::registry::no_such_path;
