//! The request deadline: every request but the long-running ones (watches)
//! must finish within the server's limit (upstream's `--request-timeout`,
//! one minute) or the shorter `timeout` the client asks for; past it the
//! work is dropped and the client gets a 504 `Timeout` Status, as upstream
//! answers. A client that goes away drops its request's work the same way.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use keelson_api::ApiError;

use crate::http::response::Failure;

/// Upstream's default request timeout.
pub const DEFAULT: Duration = Duration::from_secs(60);

/// Runs `request` within its deadline.
pub async fn within(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    if long_running(&request) {
        return next.run(request).await;
    }
    let limit = match requested(request.uri().query()) {
        Ok(Some(asked)) => asked.min(limit),
        Ok(None) => limit,
        Err(err) => return Failure(err).into_response(),
    };
    let started = tokio::time::Instant::now();
    match tokio::time::timeout(limit, next.run(request)).await {
        // A request that ends past its deadline is late even when the
        // timer (of millisecond resolution) has not fired yet.
        Ok(response) if started.elapsed() < limit => response,
        _ => {
            let message = format!("request did not complete within {}", go_duration(limit));
            Failure(ApiError::timeout(&message, 0)).into_response()
        }
    }
}

/// Watches stream for as long as they are open.
fn long_running(request: &Request) -> bool {
    let path = request.uri().path();
    let watch_path = path.split('/').any(|segment| segment == "watch");
    let watch_param = request.uri().query().is_some_and(|query| {
        query
            .split('&')
            .any(|pair| matches!(pair, "watch=true" | "watch=1" | "watch=True" | "watch=t"))
    });
    watch_path || watch_param
}

/// The `timeout` query parameter: a Go duration (`30s`, `1m30s`, `500ms`).
fn requested(query: Option<&str>) -> Result<Option<Duration>, ApiError> {
    let Some(text) = query
        .into_iter()
        .flat_map(|query| query.split('&'))
        .find_map(|pair| pair.strip_prefix("timeout="))
    else {
        return Ok(None);
    };
    parse_go_duration(text).map(Some).ok_or_else(|| {
        ApiError::bad_request(format!(
            "invalid timeout specified in the request URL: time: invalid duration {text:?}"
        ))
    })
}

/// Parses a non-negative Go duration (`1m30s`, `500ms`): numbers with
/// units `h`, `m`, `s`, `ms`, `us`, `µs` or `ns`, one after another.
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = text;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|&end| end > 0)?;
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_end] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += number * seconds;
        rest = &rest[unit_end..];
    }
    // Go's durations end at 2^63 nanoseconds, some 292 years.
    (total <= i64::MAX as f64 / 1e9)
        .then(|| Duration::try_from_secs_f64(total).ok())
        .flatten()
}

/// A duration as Go prints one: `1m0s`, `30s`, `1.5s`, `500ms`, `1ns`.
fn go_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    let scaled = |unit: f64| nanos as f64 / unit;
    match nanos {
        0 => "0s".to_string(),
        1..1_000 => format!("{nanos}ns"),
        1_000..1_000_000 => format!("{}µs", scaled(1e3)),
        1_000_000..1_000_000_000 => format!("{}ms", scaled(1e6)),
        _ => {
            let whole = duration.as_secs();
            let (hours, minutes) = (whole / 3600, whole / 60 % 60);
            let seconds = (whole % 60) as f64 + f64::from(duration.subsec_nanos()) / 1e9;
            match (hours, minutes) {
                (0, 0) => format!("{seconds}s"),
                (0, _) => format!("{minutes}m{seconds}s"),
                _ => format!("{hours}h{minutes}m{seconds}s"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_are_read_and_written() {
        assert_eq!(parse_go_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_go_duration("30"), None);
        assert_eq!(parse_go_duration("soon"), None);
        assert_eq!(parse_go_duration(""), None);
        assert_eq!(parse_go_duration("99999999999s"), None);
        assert_eq!(go_duration(DEFAULT), "1m0s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(go_duration(Duration::from_nanos(1)), "1ns");
        assert_eq!(go_duration(Duration::from_secs(3725)), "1h2m5s");
    }

    #[test]
    fn watches_have_no_deadline() {
        let request = |uri: &str| Request::builder().uri(uri).body(axum::body::Body::empty());
        let long = |uri: &str| long_running(&request(uri).expect("a request"));
        assert!(long("/api/v1/namespaces/default/pods?watch=true"));
        assert!(long("/api/v1/watch/pods"));
        assert!(long("/apis/apps/v1/deployments?labelSelector=a&watch=1"));
        assert!(!long("/api/v1/pods?watch=false"));
        assert!(!long("/api/v1/namespaces/watchers/pods"));
    }
}
