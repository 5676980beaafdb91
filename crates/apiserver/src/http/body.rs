//! Request bodies: the size limit and the media type of a request.

use axum::body::{Body, HttpBody};
use axum::http::{HeaderMap, header};
use keelson_api::ApiError;

/// The largest request body accepted, as upstream (3 MiB).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Reads the whole body, refusing more than [`MAX_BODY_BYTES`] with 413:
/// at once when its `Content-Length` says so, else once that much came.
pub async fn read(body: Body) -> Result<bytes::Bytes, ApiError> {
    // hyper gives the announced length as the body's exact size hint.
    if body.size_hint().lower() > MAX_BODY_BYTES as u64 {
        return Err(too_large());
    }
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|err| {
            let over_limit = std::error::Error::source(&err)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            match over_limit {
                true => too_large(),
                // The client sent less than it announced, or went away.
                false => {
                    ApiError::bad_request(format!("the request body could not be read: {err}"))
                }
            }
        })
}

fn too_large() -> ApiError {
    ApiError::too_large("the request body is larger than the 3 MiB limit")
}

/// The media type of the request, without parameters.
pub fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("application/json")
        .trim()
        .to_ascii_lowercase()
}
