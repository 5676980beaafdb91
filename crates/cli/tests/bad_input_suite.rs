//! The bad-input suite: what a hostile or careless client sends, against a
//! real `keelson up`. Every decoder (JSON, YAML, protobuf), every patch
//! type, the query parameters, the path shapes, the name and label rules,
//! the size limits and the HTTP framing cases each get a sensible answer —
//! a `Status` with a 4xx code (framing errors a plain 4xx, as Go's server
//! sends them) — `/readyz` answers after every case, nothing panics, and
//! the server's memory stays bounded.
//!
//! Each case goes over a connection of its own, written byte for byte, so
//! that malformed requests reach the server as sent.

use std::time::Duration;

use keelson_harness::keelson::KeelsonProcess;
use keelson_harness::tls::{Dialer, Io};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long one exchange may take before the case fails as a hang.
const ANSWER_WITHIN: Duration = Duration::from_secs(30);

/// The most the server may hold after the suite (its peak resident set).
const MAX_PEAK_RSS_BYTES: u64 = 256 * 1024 * 1024;

const CONFIG_MAPS: &str = "/api/v1/namespaces/default/configmaps";
const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";

/// What a case must get back.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// A `Status` body with this code.
    Status(u16),
    /// A `Status` body with one of these codes.
    StatusIn(&'static [u16]),
    /// A plain answer with this code (framing errors from the HTTP layer).
    Plain(u16),
    /// The connection closed without an answer (no request was sent).
    Closed,
}

struct Case {
    name: String,
    request: Vec<u8>,
    expect: Expect,
    /// Whether the client half-closes after sending: a body shorter than
    /// announced then ends instead of waiting.
    half_close: bool,
}

/// A request with `Host`, `Connection: close` and an honest
/// `Content-Length`.
fn request(method: &str, path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: keelson\r\nConnection: close\r\nAccept: application/json\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    [head.as_bytes(), body].concat()
}

fn json_body(method: &str, path: &str, body: &Value) -> Vec<u8> {
    request(
        method,
        path,
        "application/json",
        &serde_json::to_vec(body).unwrap_or_default(),
    )
}

fn get(path: &str) -> Vec<u8> {
    request("GET", path, "application/json", b"")
}

fn case(name: impl Into<String>, request: Vec<u8>, expect: Expect) -> Case {
    Case {
        name: name.into(),
        request,
        expect,
        half_close: false,
    }
}

fn config_map(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
}

fn deployment(name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "i"}]}},
        },
    })
}

/// `k8s\0` and a `runtime.Unknown` envelope around `raw`.
fn protobuf(kind: &str, raw: Vec<u8>) -> Vec<u8> {
    use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
    use prost::Message;
    let unknown = Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some("v1".into()),
            kind: Some(kind.into()),
        }),
        raw: Some(raw),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    [b"k8s\0".as_slice(), &unknown.encode_to_vec()].concat()
}

fn decoder_cases() -> Vec<Case> {
    use Expect::*;
    let post = |content_type: &str, body: &[u8]| request("POST", CONFIG_MAPS, content_type, body);
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
    let deep_flow = format!("a: {}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_block = format!("a:\n{}x\n", "- ".repeat(100_000));
    let mut bomb = String::from("a: &a [x,x,x,x,x,x,x,x,x]\n");
    for (prev, next) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
    {
        bomb.push_str(&format!(
            "{next}: &{next} [{}]\n",
            vec![format!("*{prev}"); 9].join(",")
        ));
    }
    vec![
        case(
            "json: truncated",
            post("application/json", b"{\"metadata\":"),
            Status(400),
        ),
        case(
            "json: an array",
            post("application/json", b"[{}]"),
            Status(400),
        ),
        case(
            "json: a string",
            post("application/json", b"\"x\""),
            Status(400),
        ),
        case(
            "json: 100,000 deep",
            post("application/json", deep_json.as_bytes()),
            Status(400),
        ),
        case(
            "json: 50,000 objects deep",
            post("application/json", deep_object.as_bytes()),
            Status(400),
        ),
        case(
            "json: not UTF-8",
            post("application/json", b"{\"a\": \"\xff\xfe\"}"),
            Status(400),
        ),
        case("json: empty", post("application/json", b""), Status(400)),
        case(
            "json: a number beyond f64",
            post("application/json", b"{\"data\": {\"k\": 1e400}}"),
            Status(400),
        ),
        case(
            "yaml: malformed",
            post("application/yaml", b"a: [b\n"),
            Status(400),
        ),
        case(
            "yaml: tabs",
            post("application/yaml", b"metadata:\n\tname: x\n"),
            Status(400),
        ),
        case(
            "yaml: 100,000 deep in flow style",
            post("application/yaml", deep_flow.as_bytes()),
            Status(400),
        ),
        case(
            "yaml: 100,000 deep in block style",
            post("application/yaml", deep_block.as_bytes()),
            Status(400),
        ),
        case(
            "yaml: an alias bomb",
            post("application/yaml", bomb.as_bytes()),
            Status(400),
        ),
        case(
            "yaml: two documents",
            post(
                "application/yaml",
                b"metadata: {name: a}\n---\nmetadata: {name: b}\n",
            ),
            Status(400),
        ),
        case(
            "protobuf: no magic",
            post("application/vnd.kubernetes.protobuf", b"\x0a\x02v1"),
            Status(400),
        ),
        case(
            "protobuf: garbage after the magic",
            post(
                "application/vnd.kubernetes.protobuf",
                b"k8s\0\xff\xff\xff\xff\x0f",
            ),
            Status(400),
        ),
        case(
            "protobuf: a bad inner message",
            post(
                "application/vnd.kubernetes.protobuf",
                &protobuf("ConfigMap", vec![0xff; 16]),
            ),
            Status(400),
        ),
        case(
            "protobuf: the wrong kind",
            post(
                "application/vnd.kubernetes.protobuf",
                &protobuf("Secret", Vec::new()),
            ),
            Status(400),
        ),
        case(
            "an unknown media type",
            post("text/plain", b"hello"),
            Status(415),
        ),
    ]
}

fn type_cases() -> Vec<Case> {
    use Expect::*;
    let mut cases = Vec::new();
    let mut replicas = deployment("replicas");
    replicas["spec"]["replicas"] = json!(9223372036854775808_u64);
    cases.push(case(
        "types: replicas beyond int32",
        json_body("POST", DEPLOYMENTS, &replicas),
        Status(400),
    ));
    let mut replicas = deployment("replicas");
    replicas["spec"]["replicas"] = json!("3");
    cases.push(case(
        "types: replicas as a string",
        json_body("POST", DEPLOYMENTS, &replicas),
        Status(400),
    ));
    let mut labels = config_map("labels");
    labels["metadata"]["labels"] = json!({"a": 1});
    cases.push(case(
        "types: a number as a label",
        json_body("POST", CONFIG_MAPS, &labels),
        Status(400),
    ));
    let mut data = config_map("data");
    data["data"] = json!({"k": ["v"]});
    cases.push(case(
        "types: a list as ConfigMap data",
        json_body("POST", CONFIG_MAPS, &data),
        Status(400),
    ));
    let mut cpu = deployment("cpu");
    cpu["spec"]["template"]["spec"]["containers"][0]["resources"] =
        json!({"limits": {"cpu": "lots"}});
    cases.push(case(
        "types: a bad quantity",
        json_body("POST", DEPLOYMENTS, &cpu),
        Status(400),
    ));
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "not base64!"}});
    cases.push(case(
        "types: bad base64",
        json_body("POST", "/api/v1/namespaces/default/secrets", &secret),
        Status(400),
    ));
    cases
}

fn patch_cases() -> Vec<Case> {
    use Expect::*;
    let target = format!("{CONFIG_MAPS}/target");
    let patch = |content_type: &str, body: &[u8]| request("PATCH", &target, content_type, body);
    let copies: Vec<Value> =
        std::iter::once(json!({"op": "add", "path": "/data/a", "value": "x".repeat(1024)}))
            .chain(
                (0..24)
                    .map(|i| json!({"op": "copy", "from": "/data", "path": format!("/data/c{i}")})),
            )
            .collect();
    let many: Vec<Value> = (0..10_001)
        .map(|_| json!({"op": "test", "path": "/kind", "value": "ConfigMap"}))
        .collect();
    let apply = format!("{target}?fieldManager=suite&force=true");
    vec![
        case(
            "json patch: not a list",
            patch("application/json-patch+json", b"{}"),
            Status(400),
        ),
        case(
            "json patch: an unknown op",
            patch(
                "application/json-patch+json",
                br#"[{"op": "frob", "path": "/a"}]"#,
            ),
            StatusIn(&[400, 422]),
        ),
        case(
            "json patch: a missing path",
            patch(
                "application/json-patch+json",
                br#"[{"op": "remove", "path": "/nope/deeper"}]"#,
            ),
            StatusIn(&[400, 422]),
        ),
        case(
            "json patch: doubling copies",
            patch(
                "application/json-patch+json",
                &serde_json::to_vec(&copies).unwrap_or_default(),
            ),
            StatusIn(&[413, 422]),
        ),
        case(
            "json patch: 10,001 operations",
            patch(
                "application/json-patch+json",
                &serde_json::to_vec(&many).unwrap_or_default(),
            ),
            Status(413),
        ),
        case(
            "json patch: a wrong type",
            patch(
                "application/json-patch+json",
                br#"[{"op": "replace", "path": "/data", "value": 1}]"#,
            ),
            Status(422),
        ),
        case(
            "merge patch: not an object",
            patch("application/merge-patch+json", b"[1]"),
            Status(400),
        ),
        case(
            "merge patch: a wrong type",
            patch(
                "application/merge-patch+json",
                br#"{"metadata": {"labels": "x"}}"#,
            ),
            Status(422),
        ),
        case(
            "strategic patch: $patch foo",
            patch(
                "application/strategic-merge-patch+json",
                br#"{"$patch": "foo"}"#,
            ),
            Status(400),
        ),
        case(
            "strategic patch: not an object",
            patch("application/strategic-merge-patch+json", b"3"),
            Status(400),
        ),
        case(
            "strategic patch: $retainKeys not a list",
            patch(
                "application/strategic-merge-patch+json",
                br#"{"data": {"$retainKeys": 1}}"#,
            ),
            Status(400),
        ),
        case(
            "apply: not an object",
            request("PATCH", &apply, "application/apply-patch+yaml", b"- a\n"),
            Status(400),
        ),
        case(
            "apply: no field manager",
            patch(
                "application/apply-patch+yaml",
                b"apiVersion: v1\nkind: ConfigMap\n",
            ),
            Status(422),
        ),
        case(
            "apply: managedFields set",
            request(
                "PATCH",
                &apply,
                "application/apply-patch+yaml",
                b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  managedFields: [{}]\n",
            ),
            Status(400),
        ),
        case(
            "apply: a wrong type",
            request(
                "PATCH",
                &apply,
                "application/apply-patch+yaml",
                b"apiVersion: v1\nkind: ConfigMap\ndata: [1]\n",
            ),
            Status(400),
        ),
        case(
            "patch: an unknown patch type",
            patch("application/x-patch", b"{}"),
            Status(415),
        ),
    ]
}

fn query_cases() -> Vec<Case> {
    use Expect::*;
    let query = |q: &str| get(&format!("{CONFIG_MAPS}?{q}"));
    vec![
        case(
            "query: watch=notabool",
            query("watch=notabool"),
            Status(400),
        ),
        case("query: limit=abc", query("limit=abc"), Status(400)),
        case(
            "query: a bad label selector",
            query("labelSelector=a%20in%20(b"),
            Status(400),
        ),
        case(
            "query: an unknown field selector",
            query("fieldSelector=spec.nope%3Dx"),
            Status(400),
        ),
        case(
            "query: a bad continue token",
            query("limit=1&continue=garbage"),
            Status(400),
        ),
        case(
            "query: a bad resourceVersion",
            query("resourceVersion=abc"),
            StatusIn(&[400, 410]),
        ),
        case(
            "query: a bad resourceVersionMatch",
            query("resourceVersion=1&resourceVersionMatch=Sideways"),
            Status(422),
        ),
        case(
            "query: timeoutSeconds=abc",
            query("watch=true&timeoutSeconds=abc"),
            Status(400),
        ),
        case("query: timeout=soon", query("timeout=soon"), Status(400)),
        case(
            "query: fieldValidation=Loose",
            json_body(
                "POST",
                &format!("{CONFIG_MAPS}?fieldValidation=Loose"),
                &config_map("fv"),
            ),
            Status(400),
        ),
        case(
            "query: dryRun=Maybe",
            json_body(
                "POST",
                &format!("{CONFIG_MAPS}?dryRun=Maybe"),
                &config_map("dr"),
            ),
            Status(422),
        ),
        case(
            "query: a field manager too long",
            json_body(
                "POST",
                &format!("{CONFIG_MAPS}?fieldManager={}", "m".repeat(200)),
                &config_map("fm"),
            ),
            Status(422),
        ),
        case(
            "query: propagationPolicy=Sideways",
            request(
                "DELETE",
                &format!("{CONFIG_MAPS}/target?propagationPolicy=Sideways"),
                "application/json",
                b"",
            ),
            StatusIn(&[400, 422]),
        ),
        case(
            "query: gracePeriodSeconds=soon",
            request(
                "DELETE",
                &format!("{CONFIG_MAPS}/target?gracePeriodSeconds=soon"),
                "application/json",
                b"",
            ),
            Status(400),
        ),
    ]
}

fn path_cases() -> Vec<Case> {
    use Expect::*;
    vec![
        case(
            "path: an unknown resource",
            get("/api/v1/namespaces/default/nosuch"),
            Status(404),
        ),
        case(
            "path: an unknown group",
            get("/apis/nosuch.example.com/v1/things"),
            Status(404),
        ),
        case(
            "path: an unknown version",
            get("/apis/apps/v9/deployments"),
            Status(404),
        ),
        case(
            "path: a status that is not there",
            get(&format!("{CONFIG_MAPS}/target/status")),
            Status(404),
        ),
        case(
            "path: too many segments",
            get(&format!("{CONFIG_MAPS}/a/b/c/d/e")),
            Status(404),
        ),
        case(
            "path: an object that is not there",
            get(&format!("{CONFIG_MAPS}/absent")),
            Status(404),
        ),
        case(
            "path: a namespace that is not there",
            json_body(
                "POST",
                "/api/v1/namespaces/absent/configmaps",
                &config_map("x"),
            ),
            Status(404),
        ),
        case(
            "path: a 10 KiB name",
            get(&format!("{CONFIG_MAPS}/{}", "n".repeat(10 * 1024))),
            Status(404),
        ),
        case(
            "path: POST to a group version",
            json_body("POST", "/apis/apps/v1", &json!({})),
            Status(405),
        ),
        case(
            "path: PUT to a collection",
            json_body("PUT", CONFIG_MAPS, &config_map("x")),
            Status(405),
        ),
        case(
            "path: POST to an object",
            json_body("POST", &format!("{CONFIG_MAPS}/target"), &config_map("x")),
            Status(405),
        ),
        case("path: an unknown top level", get("/nosuch"), Status(404)),
        case(
            "path: a traversal",
            get("/api/v1/namespaces/../../etc/passwd"),
            StatusIn(&[400, 404]),
        ),
    ]
}

fn name_cases() -> Vec<Case> {
    use Expect::*;
    let with_meta = |metadata: Value| {
        let mut object = config_map("x");
        object["metadata"] = metadata;
        json_body("POST", CONFIG_MAPS, &object)
    };
    vec![
        case(
            "names: upper case and underscores",
            with_meta(json!({"name": "Bad_Name"})),
            Status(422),
        ),
        case(
            "names: 254 characters",
            with_meta(json!({"name": "a".repeat(254)})),
            Status(422),
        ),
        case("names: none", with_meta(json!({})), Status(422)),
        case(
            "names: a bad generateName",
            with_meta(json!({"generateName": "Bad_"})),
            Status(422),
        ),
        case(
            "names: another namespace in the body",
            with_meta(json!({"name": "x", "namespace": "kube-system"})),
            Status(400),
        ),
        case(
            "labels: a key with a space",
            with_meta(json!({"name": "l1", "labels": {"bad key": "v"}})),
            Status(422),
        ),
        case(
            "labels: a 64-character value",
            with_meta(json!({"name": "l2", "labels": {"k": "v".repeat(64)}})),
            Status(422),
        ),
        case(
            "labels: a bad prefix",
            with_meta(json!({"name": "l3", "labels": {"Bad_Prefix/k": "v"}})),
            Status(422),
        ),
        case(
            "annotations: more than 256 KiB",
            with_meta(json!({"name": "a1", "annotations": {"k": "v".repeat(257 * 1024)}})),
            Status(422),
        ),
        case(
            "finalizers: a bad name",
            with_meta(json!({"name": "f1", "finalizers": ["not a finalizer!"]})),
            Status(422),
        ),
        case(
            "names: the URL and the body differ",
            json_body(
                "PUT",
                &format!("{CONFIG_MAPS}/target"),
                &config_map("other"),
            ),
            Status(400),
        ),
    ]
}

fn size_cases() -> Vec<Case> {
    use Expect::*;
    let mut big = config_map("big");
    big["data"]["k"] = json!("x".repeat(3 * 1024 * 1024 + 1));
    let mut mib = config_map("mib");
    mib["data"]["k"] = json!("x".repeat(1024 * 1024 + 1));
    let mut store_limit = deployment("huge");
    store_limit["spec"]["template"]["spec"]["containers"][0]["args"] =
        json!(["x".repeat(2 * 1024 * 1024)]);
    vec![
        Case {
            // Refused from the headers alone: the body never comes.
            half_close: false,
            ..case(
                "size: 10 GiB announced, nothing sent",
                format!(
                    "POST {CONFIG_MAPS} HTTP/1.1\r\nHost: k\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    10u64 << 30
                )
                .into_bytes(),
                Status(413),
            )
        },
        case(
            "size: a body over 3 MiB",
            json_body("POST", CONFIG_MAPS, &big),
            Status(413),
        ),
        case(
            "size: ConfigMap data over 1 MiB",
            json_body("POST", CONFIG_MAPS, &mib),
            Status(422),
        ),
        case(
            "size: an object over what the store keeps",
            json_body("POST", DEPLOYMENTS, &store_limit),
            Status(413),
        ),
    ]
}

fn framing_cases() -> Vec<Case> {
    use Expect::*;
    let truncated = b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: k\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"metadata\":".to_vec();
    let huge_header = format!(
        "GET /readyz HTTP/1.1\r\nHost: k\r\nX-Big: {}\r\n\r\n",
        "h".repeat(1024 * 1024)
    );
    vec![
        case("framing: a request line that is not HTTP", b"HELLO THERE\r\n\r\n".to_vec(), Plain(400)),
        Case {
            half_close: true,
            ..case("framing: a body shorter than announced", truncated, Status(400))
        },
        case("framing: a bad Content-Length", b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: k\r\nContent-Length: abc\r\n\r\n{}".to_vec(), Plain(400)),
        case("framing: bad chunks", b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: k\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n".to_vec(), StatusIn(&[400])),
        case("framing: a 1 MiB header", huge_header.into_bytes(), Plain(431)),
        Case {
            half_close: true,
            ..case("framing: empty lines, then nothing", b"\r\n\r\n".to_vec(), Closed)
        },
    ]
}

/// Requests without a client certificate: anonymous, or with credentials
/// the server refuses.
fn credential_cases() -> Vec<Case> {
    use Expect::*;
    let with = |header: &str| {
        format!(
            "GET /api/v1/namespaces/default/secrets HTTP/1.1\r\nHost: k\r\nConnection: close\r\n{header}\r\n\r\n"
        )
        .into_bytes()
    };
    vec![
        case(
            "credentials: none, for secrets",
            get("/api/v1/namespaces/default/secrets"),
            Status(403),
        ),
        case(
            "credentials: an unknown token",
            with("Authorization: Bearer not-a-token"),
            Status(401),
        ),
        case(
            "credentials: a forged JWT",
            with("Authorization: Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.AAAA"),
            Status(401),
        ),
        case(
            "credentials: an empty bearer",
            with("Authorization: Bearer "),
            Status(403),
        ),
        case(
            "credentials: impersonating without the verb",
            with("Impersonate-User: kubernetes-admin"),
            Status(403),
        ),
        case(
            "credentials: basic auth, which is not taken",
            with("Authorization: Basic YWRtaW46YWRtaW4="),
            Status(403),
        ),
    ]
}

/// One exchange on a connection of its own: the code, the headers and
/// the body as sent.
async fn exchange(
    dialer: &Dialer,
    request: &[u8],
    half_close: bool,
) -> Result<(u16, String, Vec<u8>), String> {
    let talk = async {
        let mut stream = dialer
            .connect()
            .await
            .map_err(|err| format!("cannot connect: {err}"))?;
        // A server may answer and close before the whole request is read.
        let _ = stream.write_all(request).await;
        if half_close {
            let _ = stream.shutdown().await;
        }
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        Ok::<_, String>(answer)
    };
    let answer = tokio::time::timeout(ANSWER_WITHIN, talk)
        .await
        .map_err(|_| format!("no answer within {ANSWER_WITHIN:?}"))??;
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("not an HTTP answer: {:?}", String::from_utf8_lossy(&answer)))?;
    let head = String::from_utf8_lossy(&answer[..split]).to_string();
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status line in {head:?}"))?;
    let mut body = answer[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = unchunked(&body);
    }
    Ok((code, head, body))
}

fn unchunked(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 || body.len() < end + 2 + size {
            break;
        }
        out.extend_from_slice(&body[end + 2..end + 2 + size]);
        body = &body[(end + 4 + size).min(body.len())..];
    }
    out
}

/// Checks one answer against what its case expects.
fn judge(case: &Case, code: u16, head: &str, body: &[u8]) -> Result<(), String> {
    let status: Option<Value> = serde_json::from_slice(body).ok();
    let is_status = status
        .as_ref()
        .is_some_and(|s| s["kind"] == "Status" && s["apiVersion"] == "v1" && s["code"] == code);
    let fits = match case.expect {
        Expect::Status(want) => code == want && is_status,
        Expect::StatusIn(wants) => wants.contains(&code) && is_status,
        Expect::Plain(want) => code == want,
        Expect::Closed => false,
    };
    match fits {
        true => Ok(()),
        false => Err(format!(
            "{}: expected {:?}, got {code} {head:?} {}",
            case.name,
            case.expect,
            String::from_utf8_lossy(&body[..body.len().min(600)])
        )),
    }
}

/// 300 sockets that send nothing (not even a TLS hello) or, after the
/// handshake, half a request's headers: `/readyz` still answers, and the
/// server closes every one after its header timeout (2 s here).
async fn silent_sockets_are_closed(dialer: &Dialer, failures: &mut Vec<String>) {
    let mut sockets: Vec<Box<dyn Io>> = Vec::new();
    for i in 0..300 {
        let Ok(socket) = tokio::net::TcpStream::connect(dialer.address).await else {
            failures.push(format!("silent sockets: connection {i} was refused"));
            return;
        };
        if i % 2 == 1 {
            sockets.push(Box::new(socket));
            continue;
        }
        let Ok(mut socket) = dialer.secure(socket).await else {
            failures.push(format!(
                "silent sockets: connection {i} failed its handshake"
            ));
            return;
        };
        let _ = socket
            .write_all(b"GET /api/v1/namespaces HTTP/1.1\r\nHost: k\r\nX-Half: ")
            .await;
        let _ = socket.flush().await;
        sockets.push(socket);
    }
    if !matches!(
        exchange(dialer, &get("/readyz"), false).await,
        Ok((200, _, _))
    ) {
        failures.push("silent sockets: /readyz did not answer with 300 of them open".into());
    }
    let closed = futures::future::join_all(sockets.iter_mut().map(|socket| async {
        let mut byte = [0u8; 1];
        // Closed: the read ends (0 bytes, or an error for a reset).
        tokio::time::timeout(Duration::from_secs(20), socket.read(&mut byte))
            .await
            .is_ok()
    }))
    .await;
    let open = closed.iter().filter(|closed| !**closed).count();
    if open > 0 {
        failures.push(format!(
            "silent sockets: {open} of 300 still open after 20 s"
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_gets_a_sensible_answer_and_the_server_stays_up() {
    let root = tempfile::tempdir().expect("a temp dir");
    let mut server = KeelsonProcess::builder(env!("CARGO_BIN_EXE_keelson"), "up")
        .args(["--read-header-timeout", "2s", "--idle-timeout", "2s"])
        .data_dir(root.path().join("data"))
        .log_file(root.path().join("keelson.log"))
        .pid_file(root.path().join("keelson.pid"))
        .start()
        .await
        .unwrap_or_else(|err| panic!("keelson up did not start: {err}"));
    // TLS with the admin's certificate; the requests go byte for byte
    // inside it.
    let dialer = &server
        .dialer()
        .expect("the server's certificates can be read");
    let pid = server.pid().expect("a running server has a pid");

    // The objects some cases write to.
    for request in [
        json_body("POST", CONFIG_MAPS, &config_map("target")),
        json_body("POST", DEPLOYMENTS, &deployment("target")),
    ] {
        let (code, head, body) = exchange(dialer, &request, false).await.expect("an answer");
        assert_eq!(code, 201, "{head} {}", String::from_utf8_lossy(&body));
    }

    let cases: Vec<Case> = [
        decoder_cases(),
        type_cases(),
        patch_cases(),
        query_cases(),
        path_cases(),
        name_cases(),
        size_cases(),
        framing_cases(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut failures = Vec::new();
    for case in &cases {
        match exchange(dialer, &case.request, case.half_close).await {
            Err(err)
                if matches!(case.expect, Expect::Closed)
                    && err.contains("not an HTTP answer: \"\"") => {}
            Ok((code, head, body)) => {
                if let Err(failure) = judge(case, code, &head, &body) {
                    failures.push(failure);
                }
            }
            Err(err) => failures.push(format!("{}: {err}", case.name)),
        }
        if std::env::var_os("SUITE_MEMORY").is_some() {
            let usage = keelson_harness::usage::of(pid).unwrap_or_default();
            let (rss, peak) = (usage.rss_bytes, usage.peak_rss_bytes);
            eprintln!("{:>5} {:>5} MiB {}", rss >> 20, peak >> 20, case.name);
        }
        let ready = exchange(dialer, &get("/readyz"), false).await;
        if !matches!(ready, Ok((200, _, _))) {
            failures.push(format!(
                "{}: /readyz did not answer 200 afterwards: {ready:?}",
                case.name
            ));
            break;
        }
    }
    silent_sockets_are_closed(dialer, &mut failures).await;
    let anonymous = Dialer {
        address: dialer.address,
        tls: Some(
            keelson_harness::tls::client_config(
                &root.path().join("data/pki/ca.crt"),
                None,
                &[b"http/1.1"],
            )
            .expect("the cluster's CA can be read"),
        ),
    };
    for case in credential_cases() {
        match exchange(&anonymous, &case.request, false).await {
            Ok((code, head, body)) => {
                if let Err(failure) = judge(&case, code, &head, &body) {
                    failures.push(failure);
                }
            }
            Err(err) => failures.push(format!("{}: {err}", case.name)),
        }
    }

    // The objects the cases targeted are as they were created.
    let (code, _, body) = exchange(dialer, &get(&format!("{CONFIG_MAPS}/target")), false)
        .await
        .expect("an answer");
    let target: Value = serde_json::from_slice(&body).unwrap_or_default();
    assert_eq!(code, 200);
    assert_eq!(
        target["data"],
        json!({"k": "v"}),
        "no bad write went through"
    );

    let usage = keelson_harness::usage::of(pid).expect("the server is in /proc");
    let (rss, peak) = (usage.rss_bytes, usage.peak_rss_bytes);
    eprintln!(
        "{} cases; the server's RSS is {} MiB, its peak {} MiB",
        cases.len(),
        rss >> 20,
        peak >> 20
    );
    assert!(server.is_running(), "keelson up exited: {}", server.log());
    assert!(!server.log().contains("panicked"), "{}", server.log());
    assert!(
        failures.is_empty(),
        "{} of {} cases got the wrong answer:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(
        peak < MAX_PEAK_RSS_BYTES,
        "the server's peak RSS was {} MiB (now {} MiB)",
        peak >> 20,
        rss >> 20
    );
}
