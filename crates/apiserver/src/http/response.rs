//! Turning results into HTTP responses: every failure becomes a `Status`
//! object in one place, and objects are written as JSON, large lists as
//! they are read ([`streamed_list`]).

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
    body_response(code, Body::from(body))
}

/// About the most bytes of a streamed body made ahead of the client.
const STREAM_CHUNK: usize = 64 * 1024;

/// A JSON list answered as the client reads it: `head`, then each of
/// `items` written by `write` (separated by commas), then `tail`, made in
/// chunks of about 64 KiB only as the client takes them, so that the
/// whole list is never in memory.
pub fn streamed_list<I, F>(head: Vec<u8>, items: I, write: F, tail: &'static [u8]) -> Response
where
    I: Iterator + Send + 'static,
    F: FnMut(I::Item, &mut Vec<u8>) + Send + 'static,
{
    let chunks = ListChunks {
        head: Some(head),
        items,
        write,
        first: true,
        tail: Some(tail),
    };
    let stream = futures::stream::iter(chunks.map(Ok::<_, std::convert::Infallible>));
    body_response(StatusCode::OK, Body::from_stream(stream))
}

/// A JSON body sent in the given pieces, none of them copied.
pub fn pieces_response(code: StatusCode, pieces: Vec<bytes::Bytes>) -> Response {
    let stream = futures::stream::iter(pieces.into_iter().map(Ok::<_, std::convert::Infallible>));
    body_response(code, Body::from_stream(stream))
}

fn body_response(code: StatusCode, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = code;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The chunks of a [`streamed_list`], each made when asked for.
struct ListChunks<I, F> {
    head: Option<Vec<u8>>,
    items: I,
    write: F,
    first: bool,
    tail: Option<&'static [u8]>,
}

impl<I: Iterator, F: FnMut(I::Item, &mut Vec<u8>)> Iterator for ListChunks<I, F> {
    type Item = bytes::Bytes;

    fn next(&mut self) -> Option<Self::Item> {
        let mut chunk = self
            .head
            .take()
            .unwrap_or_else(|| Vec::with_capacity(STREAM_CHUNK + STREAM_CHUNK / 4));
        while chunk.len() < STREAM_CHUNK {
            let Some(item) = self.items.next() else {
                chunk.extend_from_slice(self.tail.take().unwrap_or_default());
                break;
            };
            if !std::mem::take(&mut self.first) {
                chunk.push(b',');
            }
            (self.write)(item, &mut chunk);
        }
        (!chunk.is_empty()).then(|| bytes::Bytes::from(chunk))
    }
}

pub use crate::objects::store_error;
pub use crate::registry::no_such_path;

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(items: std::ops::Range<usize>) -> (Vec<u8>, usize) {
        let chunks = ListChunks {
            head: Some(b"{\"items\":[".to_vec()),
            items,
            write: |i: usize, out: &mut Vec<u8>| {
                out.extend_from_slice(
                    format!("{{\"n\":{i},\"pad\":\"{}\"}}", "p".repeat(100)).as_bytes(),
                )
            },
            first: true,
            tail: Some(b"]}"),
        };
        let chunks: Vec<bytes::Bytes> = chunks.collect();
        let count = chunks.len();
        (chunks.concat(), count)
    }

    #[test]
    fn a_streamed_list_is_one_json_document_in_bounded_chunks() {
        let (whole, chunks) = joined(0..5000);
        let list: Value = serde_json::from_slice(&whole).expect("one JSON document");
        let items = list["items"].as_array().expect("items");
        assert_eq!(items.len(), 5000);
        assert_eq!(items[4999]["n"], 4999);
        assert!(chunks > 5, "{chunks} chunks for {} bytes", whole.len());
        assert!(whole.len() / chunks < 2 * STREAM_CHUNK);
        let (empty, _) = joined(0..0);
        assert_eq!(empty, b"{\"items\":[]}");
    }
}
