//! Request bodies: the size limit and the media type of a request.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use keelson_api::ApiError;

/// The largest request body accepted, as upstream (3 MiB).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Reads the whole body, refusing more than [`MAX_BODY_BYTES`] with 413.
pub async fn read(body: Body) -> Result<bytes::Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|err| {
            let too_large = std::error::Error::source(&err)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            match too_large {
                true => ApiError::too_large("the request body is larger than the 3 MiB limit"),
                // The client sent less than it announced, or went away.
                false => {
                    ApiError::bad_request(format!("the request body could not be read: {err}"))
                }
            }
        })
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
