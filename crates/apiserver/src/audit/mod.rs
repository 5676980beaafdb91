//! The audit log, as upstream's `--audit-policy-file` and
//! `--audit-log-path`: one layer around every route decides from the
//! [`policy`] how much of a request to record (None, Metadata, Request,
//! RequestResponse) and writes audit.k8s.io/v1 `Event`s as JSON lines at
//! the stages the policy keeps (RequestReceived, then ResponseComplete; a
//! watch has ResponseStarted when its response begins and ResponseComplete
//! when it ends).
//!
//! The user comes from an [`AuditUser`] request extension, which
//! authentication adds; without one the request is `system:anonymous`.

mod policy;
mod request;
mod writer;

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub use policy::{Level, Stage};

use crate::http::response::Failure;

/// Why auditing cannot start.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("failed to read the audit policy {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid audit policy: {0}")]
    Policy(String),
    #[error("failed to open the audit log {path}: {source}")]
    Log {
        path: String,
        source: std::io::Error,
    },
}

/// Who made a request, as the audit log records it. Authentication puts
/// one in the request's extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditUser {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
}

impl Default for AuditUser {
    /// Upstream's anonymous user.
    fn default() -> Self {
        AuditUser {
            name: "system:anonymous".into(),
            uid: String::new(),
            groups: vec!["system:unauthenticated".into()],
        }
    }
}

/// A policy and the log it writes to; cheap to clone.
#[derive(Clone)]
pub struct AuditConfig {
    policy: Arc<policy::Policy>,
    sink: writer::Sink,
}

impl std::fmt::Debug for AuditConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditConfig")
    }
}

impl AuditConfig {
    /// Reads the policy at `policy_file` and opens the log at `log_path`
    /// (`-` for standard output), starting the log's writer.
    pub fn open(policy_file: &Path, log_path: &Path) -> Result<Self, AuditError> {
        let text = std::fs::read_to_string(policy_file).map_err(|source| AuditError::Read {
            path: policy_file.display().to_string(),
            source,
        })?;
        Self::with_policy(&text, log_path)
    }

    /// [`AuditConfig::open`] with the policy's text.
    pub fn with_policy(policy: &str, log_path: &Path) -> Result<Self, AuditError> {
        Ok(AuditConfig {
            policy: Arc::new(policy::Policy::parse(policy)?),
            sink: writer::Sink::open(log_path)?,
        })
    }
}

/// The policy `keelson up` writes when given a log but no policy: every
/// request at Metadata (who did what to which object, and the answer's
/// status), never the bodies, so Secrets, ConfigMaps and TokenReviews
/// never show their contents; health probes not at all.
pub const DEFAULT_POLICY: &str = "apiVersion: audit.k8s.io/v1
kind: Policy
omitStages:
- RequestReceived
rules:
- level: None
  nonResourceURLs:
  - /healthz*
  - /livez*
  - /readyz*
  - /version
- level: Metadata
  resources:
  - group: \"\"
    resources: [secrets, configmaps]
  - group: authentication.k8s.io
    resources: [tokenreviews]
- level: Metadata
";

/// What one request's events share.
struct Context {
    level: Level,
    base: Value,
}

impl Context {
    fn event(&self, stage: Stage, extra: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut event = self.base.clone();
        event["stage"] = Value::from(stage.name());
        event["stageTimestamp"] = Value::from(now());
        extra(&mut event);
        let mut line = serde_json::to_vec(&event).unwrap_or_default();
        line.push(b'\n');
        line
    }
}

/// The layer: records `request` as the policy says.
pub async fn record(State(audit): State<AuditConfig>, request: Request, next: Next) -> Response {
    let received = now();
    let info = request::parse(
        request.method().as_str(),
        request.uri().path(),
        request.uri().query(),
    );
    let user = request
        .extensions()
        .get::<AuditUser>()
        .cloned()
        .unwrap_or_default();
    let decision = audit.policy.decide(&user, &info);
    let audit_id = uuid::Uuid::new_v4().to_string();
    if decision.level == Level::None {
        // Every answer names its audit ID, logged or not (as upstream).
        let mut response = next.run(request).await;
        if let Ok(value) = HeaderValue::from_str(&audit_id) {
            response.headers_mut().insert("audit-id", value);
        }
        return response;
    }
    let mut base = json!({
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": decision.level.name(),
        "auditID": audit_id,
        "requestURI": request.uri().path_and_query().map_or("/", |pq| pq.as_str()),
        "verb": info.verb,
        "user": user_json(&user),
        "sourceIPs": source_ips(&request),
        "requestReceivedTimestamp": received,
    });
    if let Some(agent) = header(request.headers(), "user-agent") {
        base["userAgent"] = Value::from(agent);
    }
    if let Some(object) = &info.object {
        base["objectRef"] = object.to_json();
    }
    let (request, body) = match capture_request(decision.level, request).await {
        Ok(pair) => pair,
        Err(failure) => {
            let ctx = Context {
                level: decision.level,
                base,
            };
            return finish(&audit, &ctx, &decision, failure, false, &audit_id).await;
        }
    };
    if let Some(body) = body {
        // A create names its object in the body, not the path.
        if base["objectRef"].is_object()
            && base["objectRef"].get("name").is_none()
            && let Some(name) = body["metadata"]["name"].as_str()
            && info.verb == "create"
        {
            base["objectRef"]["name"] = Value::from(name);
        }
        base["requestObject"] = body;
    }
    let ctx = Context {
        level: decision.level,
        base,
    };
    if decision.logs(Stage::RequestReceived) {
        audit
            .sink
            .send(ctx.event(Stage::RequestReceived, |_| {}))
            .await;
    }
    let response = next.run(request).await;
    let watch = info.verb == "watch";
    finish(&audit, &ctx, &decision, response, watch, &audit_id).await
}

/// Writes the response's events and gives the response on.
async fn finish(
    audit: &AuditConfig,
    ctx: &Context,
    decision: &policy::Decision,
    response: Response,
    watch: bool,
    audit_id: &str,
) -> Response {
    let (mut parts, body) = response.into_parts();
    if let Ok(value) = HeaderValue::from_str(audit_id) {
        parts.headers.insert("audit-id", value);
    }
    let code = parts.status.as_u16();
    if watch {
        let status = json!({"metadata": {}, "code": code});
        if decision.logs(Stage::ResponseStarted) {
            let status = status.clone();
            let line = ctx.event(Stage::ResponseStarted, |e| e["responseStatus"] = status);
            audit.sink.send(line).await;
        }
        let body = match decision.logs(Stage::ResponseComplete) {
            true => {
                let done = ctx.event(Stage::ResponseComplete, |e| e["responseStatus"] = status);
                on_end(body, audit.sink.clone(), done)
            }
            false => body,
        };
        return Response::from_parts(parts, body);
    }
    // Failures carry their Status at every level; a whole response at
    // RequestResponse.
    let keep = code >= 400 || ctx.level >= Level::RequestResponse;
    let (body, object) = match keep {
        true => match axum::body::to_bytes(body, usize::MAX).await {
            Ok(bytes) => {
                let object = serde_json::from_slice::<Value>(&bytes).ok();
                (Body::from(bytes), object)
            }
            Err(_) => (Body::empty(), None),
        },
        false => (body, None),
    };
    if decision.logs(Stage::ResponseComplete) {
        let line = ctx.event(Stage::ResponseComplete, |event| {
            event["responseStatus"] = response_status(code, object.as_ref());
            if ctx.level >= Level::RequestResponse
                && let Some(object) = object
            {
                event["responseObject"] = object;
            }
        });
        audit.sink.send(line).await;
    }
    Response::from_parts(parts, body)
}

/// The request with its body read back in, and the body as the event's
/// `requestObject` at Request level and above.
async fn capture_request(
    level: Level,
    request: Request,
) -> Result<(Request, Option<Value>), Response> {
    if level < Level::Request || !matches!(request.method().as_str(), "POST" | "PUT" | "PATCH") {
        return Ok((request, None));
    }
    let (parts, body) = request.into_parts();
    let bytes = crate::http::body::read(body)
        .await
        .map_err(|err| Failure(err).into_response())?;
    // Decoded as the handlers will (JSON, YAML, protobuf); a body they
    // will refuse is left out.
    let media_type = crate::http::body::content_type(&parts.headers);
    let object = crate::codec::decode(&bytes, &media_type).ok();
    Ok((Request::from_parts(parts, Body::from(bytes)), object))
}

/// upstream's `responseStatus`: the code, and for a failure the Status's
/// status, reason and message.
fn response_status(code: u16, body: Option<&Value>) -> Value {
    let mut status = json!({"metadata": {}, "code": code});
    if let Some(body) = body.filter(|b| code >= 400 && b["kind"] == "Status") {
        for field in ["status", "message", "reason", "details"] {
            if let Some(value) = body.get(field) {
                status[field] = value.clone();
            }
        }
    }
    status
}

/// `body`, which sends `line` when it ends or is dropped (a watch closed).
fn on_end(body: Body, sink: writer::Sink, line: Vec<u8>) -> Body {
    struct Done(Option<(writer::Sink, Vec<u8>)>);
    impl Drop for Done {
        fn drop(&mut self) {
            if let Some((sink, line)) = self.0.take()
                && let Ok(runtime) = tokio::runtime::Handle::try_current()
            {
                runtime.spawn(async move { sink.send(line).await });
            }
        }
    }
    let done = Done(Some((sink, line)));
    let stream = futures::StreamExt::map(body.into_data_stream(), move |chunk| {
        let _ = &done;
        chunk
    });
    Body::from_stream(stream)
}

fn user_json(user: &AuditUser) -> Value {
    let mut out = json!({"username": user.name});
    if !user.uid.is_empty() {
        out["uid"] = Value::from(user.uid.clone());
    }
    if !user.groups.is_empty() {
        out["groups"] = Value::from(user.groups.clone());
    }
    out
}

/// The client addresses the proxy headers give (`X-Forwarded-For`, then
/// `X-Real-Ip`), then the connection's peer when the accept loop gives it
/// (as axum's `ConnectInfo`), as upstream lists them.
fn source_ips(request: &Request) -> Vec<String> {
    let headers = request.headers();
    let mut ips: Vec<String> = header(headers, "x-forwarded-for")
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(|ip| ip.trim().to_string())
        .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
        .collect();
    if let Some(real) =
        header(headers, "x-real-ip").filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
        && !ips.iter().any(|ip| ip == real)
    {
        ips.push(real.to_string());
    }
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_string());
    if let Some(peer) = peer
        && !ips.contains(&peer)
    {
        ips.push(peer);
    }
    ips
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Now as upstream's MicroTime writes it.
fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_microseconds() {
        let text = now();
        assert_eq!(text.len(), "2026-12-01T18:00:00.123456Z".len(), "{text}");
        assert!(text.ends_with('Z'));
    }

    #[test]
    fn the_default_policy_keeps_secrets_at_metadata() {
        let policy = policy::Policy::parse(DEFAULT_POLICY).expect("valid");
        let user = AuditUser::default();
        for path in [
            "/api/v1/namespaces/ns/secrets/s",
            "/api/v1/namespaces/ns/configmaps",
            "/apis/authentication.k8s.io/v1/tokenreviews",
            "/apis/apps/v1/namespaces/ns/deployments",
        ] {
            let decision = policy.decide(&user, &request::parse("POST", path, None));
            assert_eq!(decision.level, Level::Metadata, "{path}");
            assert!(!decision.logs(Stage::RequestReceived));
            assert!(decision.logs(Stage::ResponseComplete));
        }
        let probe = policy.decide(&user, &request::parse("GET", "/readyz", None));
        assert_eq!(probe.level, Level::None);
    }
}
