//! `keelson api bench`: the API server under load, on each store, beside the
//! raw store doing the same work.
//!
//! For each store (embedded, then a real etcd started beside it) the
//! benchmark starts `keelson up` as a child process and drives it over HTTP
//! from this process: creates of ConfigMaps from many clients, gets, lists of
//! every object in a namespace of 10,000, and watch fan-out (many watchers
//! of one namespace while a writer creates objects at a fixed rate; latency
//! from issuing the create to each watcher reading its event). The same
//! creates, gets and lists run against the raw store, so the table shows the
//! API's overhead as a ratio.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use keelson_harness::etcd::EtcdProcess;
use keelson_harness::keelson::KeelsonProcess;
use keelson_store::{RangeRequest, Store};
use serde_json::json;

use crate::store_bench::{Phase, concurrently, ms, phase};

/// Options of `keelson api bench`.
#[derive(clap::Args, Debug)]
pub struct ApiBenchArgs {
    /// Concurrent clients for creates and gets.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Objects created (and then listed) per store.
    #[arg(long, default_value_t = 10_000)]
    objects: usize,
    /// Gets per store.
    #[arg(long, default_value_t = 20_000)]
    gets: usize,
    /// Watchers for the fan-out measurement.
    #[arg(long, default_value_t = 1000)]
    watchers: usize,
    /// Writes per second during the fan-out measurement.
    #[arg(long, default_value_t = 1000)]
    watch_rate: u64,
    /// Seconds of writes during the fan-out measurement.
    #[arg(long, default_value_t = 3)]
    watch_seconds: u64,
    /// Measure only the embedded store.
    #[arg(long)]
    embedded_only: bool,
}

pub(crate) use crate::bench_client::HttpClient;
use crate::bench_client::{Dialer, Io, http_client};

pub async fn run(args: ApiBenchArgs) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir().context("cannot make a temporary directory")?;
    let mut tables = Vec::new();

    let raw = keelson_store::open(&format!(
        "embedded:{}",
        scratch.path().join("raw").display()
    ))
    .await?;
    let store_url = "embedded".to_string();
    tables.push((
        "embedded",
        measure(&args, raw, &store_url, scratch.path()).await?,
    ));

    if !args.embedded_only {
        let etcd = EtcdProcess::builder()
            .data_dir(scratch.path().join("etcd"))
            .start()
            .await?;
        let raw = keelson_store::open(&etcd.url()).await?;
        tables.push((
            "etcd",
            measure(&args, raw, &etcd.url(), scratch.path()).await?,
        ));
    }

    println!(
        "keelson api bench: {} clients, {} objects, {} gets, {} watchers at {} writes/s; \
         through TLS but where a row says plain HTTP",
        args.clients, args.objects, args.gets, args.watchers, args.watch_rate
    );
    for (store, rows) in tables {
        print_table(store, &rows);
    }
    Ok(())
}

/// One row: the API's figures and, where there is one, the raw store's.
struct Row {
    api: Phase,
    raw: Option<Phase>,
}

async fn measure(
    args: &ApiBenchArgs,
    raw: Arc<dyn Store>,
    store_url: &str,
    scratch: &std::path::Path,
) -> anyhow::Result<Vec<Row>> {
    let value = config_map("x", 0);
    let value = Bytes::from(serde_json::to_vec(&value)?);
    let raw_creates = raw_creates(&raw, args, value).await?;
    let raw_gets = raw_gets(&raw, args).await?;
    let raw_lists = raw_lists(&raw).await?;

    let data_dir = scratch.join(format!("up-{}", store_url.replace(['/', ':'], "_")));
    let server = start_server(&data_dir, store_url).await?;
    let base = server.url();
    let client = &http_client(&server, args.clients * 2)?;
    create_namespace(client, &base, "bench").await?;
    create_namespace(client, &base, "watch").await?;

    let creates = api_creates(client, &base, args, (&CONFIG_MAPS, "bench"), args.objects).await?;
    let gets = api_gets(client, &base, args, "bench").await?;
    create_namespace(client, &base, "custom").await?;
    let (custom_creates, custom_gets) = custom_resources(client, &base, args, "custom").await?;
    let lists = api_lists(client, &base, args.objects).await?;
    let fan_out = watch_fan_out(client, &server.dialer()?, &base, args).await?;
    let kinds = args.objects / 2;
    let services = api_creates(client, &base, args, (&SERVICES, "bench"), kinds).await?;
    drop(server);
    let (pods, pods_without) = admission_cost(args, store_url, scratch, kinds).await?;
    let (plain_creates, plain_gets) = plain_http(args, store_url, scratch).await?;
    let (user_creates, user_gets) = rbac_user(args, store_url, scratch).await?;
    Ok(vec![
        Row {
            api: creates,
            raw: Some(raw_creates),
        },
        Row {
            api: user_creates,
            raw: None,
        },
        Row {
            api: plain_creates,
            raw: None,
        },
        Row {
            api: custom_creates,
            raw: None,
        },
        Row {
            api: services,
            raw: None,
        },
        Row {
            api: pods,
            raw: None,
        },
        Row {
            api: pods_without,
            raw: None,
        },
        Row {
            api: gets,
            raw: Some(raw_gets),
        },
        Row {
            api: user_gets,
            raw: None,
        },
        Row {
            api: plain_gets,
            raw: None,
        },
        Row {
            api: custom_gets,
            raw: None,
        },
        Row {
            api: lists,
            raw: Some(raw_lists),
        },
        Row {
            api: fan_out,
            raw: None,
        },
    ])
}

/// The custom resource of the benchmark: a definition whose schema has 20
/// fields (strings, integers, a boolean, a list, a map and a nested
/// object, with bounds, an enum and a pattern) and two CEL rules.
fn bench_definition() -> serde_json::Value {
    let mut fields = serde_json::Map::new();
    for i in 0..8 {
        fields.insert(
            format!("text{i}"),
            json!({"type": "string", "maxLength": 64}),
        );
    }
    for i in 0..6 {
        fields.insert(
            format!("count{i}"),
            json!({"type": "integer", "minimum": 0, "maximum": 1000}),
        );
    }
    fields.insert("enabled".into(), json!({"type": "boolean"}));
    fields.insert(
        "tier".into(),
        json!({"type": "string", "enum": ["gold", "silver", "bronze"]}),
    );
    fields.insert(
        "host".into(),
        json!({"type": "string", "pattern": "^[a-z0-9.-]+$"}),
    );
    fields.insert(
        "tags".into(),
        json!({"type": "array", "items": {"type": "string"}, "maxItems": 8}),
    );
    fields.insert(
        "labels".into(),
        json!({"type": "object", "additionalProperties": {"type": "string"}}),
    );
    fields.insert(
        "limits".into(),
        json!({"type": "object", "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}}}),
    );
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "benches.keelson.bench"},
        "spec": {
            "group": "keelson.bench",
            "scope": "Namespaced",
            "names": {"plural": "benches", "singular": "bench", "kind": "Bench"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {
                    "type": "object",
                    "properties": fields,
                    "x-kubernetes-validations": [
                        {"rule": "self.limits.min <= self.limits.max", "message": "min above max"},
                        {"rule": "self.tags.size() <= 8 && self.count0 < 1000"}
                    ]
                }}}}
            }]
        }
    })
}

fn bench_object(name: &str) -> serde_json::Value {
    let mut spec = serde_json::Map::new();
    for i in 0..8 {
        spec.insert(format!("text{i}"), json!(format!("value {i}")));
    }
    for i in 0..6 {
        spec.insert(format!("count{i}"), json!(i * 10));
    }
    spec.insert("enabled".into(), json!(true));
    spec.insert("tier".into(), json!("gold"));
    spec.insert("host".into(), json!("db.example.com"));
    spec.insert("tags".into(), json!(["a", "b", "c"]));
    spec.insert("labels".into(), json!({"team": "storage", "env": "bench"}));
    spec.insert("limits".into(), json!({"min": 1, "max": 9}));
    json!({"apiVersion": "keelson.bench/v1", "kind": "Bench", "metadata": {"name": name}, "spec": spec})
}

const CUSTOM: Creates = Creates {
    prefix: "/apis/keelson.bench/v1",
    plural: "benches",
    object: bench_object,
    label: "custom resource creates",
};

/// Creates and gets of the custom resource, once its definition is served.
async fn custom_resources(
    client: &HttpClient,
    base: &str,
    args: &ApiBenchArgs,
    namespace: &str,
) -> anyhow::Result<(Phase, Phase)> {
    let url = format!("{base}/apis/apiextensions.k8s.io/v1/customresourcedefinitions");
    let body = serde_json::to_vec(&bench_definition())?;
    let (status, answer) = request(client, http::Method::POST, &url, Some(body.into())).await?;
    anyhow::ensure!(status.is_success(), "the definition: {status} {answer:?}");
    let served = format!("{base}/apis/keelson.bench/v1/namespaces/{namespace}/benches");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _) = request(client, http::Method::GET, &served, None).await?;
        if status.is_success() {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the custom resource is not served: {status}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let creates = api_creates(client, base, args, (&CUSTOM, namespace), args.objects).await?;
    let gets = gets_of(client, base, args, (&CUSTOM, namespace), args.objects).await?;
    Ok((creates, gets))
}

fn config_map(name: &str, sent: u64) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app": "bench"}},
        // `a` sorts first, so watchers find the send time near the start.
        "data": {"a": sent.to_string(), "payload": "x".repeat(256)},
    })
}

/// `keelson up` (this binary) as a child process on `store`, its log beside
/// its data dir.
async fn start_server(data_dir: &std::path::Path, store: &str) -> anyhow::Result<KeelsonProcess> {
    start_server_with(data_dir, store, &[]).await
}

async fn start_server_with(
    data_dir: &std::path::Path,
    store: &str,
    args: &[&str],
) -> anyhow::Result<KeelsonProcess> {
    let server = KeelsonProcess::builder(std::env::current_exe()?, "up")
        .data_dir(data_dir)
        .args(["--store", store])
        .args(args.iter().copied())
        .start()
        .await
        .context("cannot start keelson up")?;
    Ok(server)
}

/// The creates and gets again, on a fresh server that serves plain HTTP
/// (`--insecure-serve-plain-http`): what TLS costs, beside the figures
/// through it. On etcd, in a namespace of their own.
async fn plain_http(
    args: &ApiBenchArgs,
    store_url: &str,
    scratch: &std::path::Path,
) -> anyhow::Result<(Phase, Phase)> {
    let data_dir = scratch.join(format!("plain-{}", store_url.replace(['/', ':'], "_")));
    let flags = ["--insecure-serve-plain-http"];
    let server = start_server_with(&data_dir, store_url, &flags).await?;
    let base = server.url();
    let client = &http_client(&server, args.clients * 2)?;
    create_namespace(client, &base, "plain").await?;
    let what = (&CONFIG_MAPS, "plain");
    let mut creates = api_creates(client, &base, args, what, args.objects).await?;
    let mut gets = api_gets(client, &base, args, "plain").await?;
    creates.name.push_str(", plain HTTP");
    gets.name.push_str(", plain HTTP");
    Ok((creates, gets))
}

/// The creates and gets again as a user RBAC authorizes (a bearer token
/// of `--token-auth-file`, bound to the `edit` ClusterRole in its
/// namespace), on a fresh server: what authentication and authorization
/// cost beside the admin (in system:masters, decided before RBAC).
async fn rbac_user(
    args: &ApiBenchArgs,
    store_url: &str,
    scratch: &std::path::Path,
) -> anyhow::Result<(Phase, Phase)> {
    let data_dir = scratch.join(format!("rbac-{}", store_url.replace(['/', ':'], "_")));
    std::fs::create_dir_all(&data_dir)?;
    let tokens = data_dir.join("tokens.csv");
    std::fs::write(&tokens, "bench-user-token,bench-user,1000\n")?;
    let flags = ["--token-auth-file", tokens.to_str().unwrap_or_default()];
    let server = start_server_with(&data_dir.join("data"), store_url, &flags).await?;
    let base = server.url();
    let admin = &http_client(&server, 2)?;
    create_namespace(admin, &base, "rbac").await?;
    let binding = json!({
        "metadata": {"name": "bench-user-edit"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bench-user"}],
    });
    let url = format!("{base}/apis/rbac.authorization.k8s.io/v1/namespaces/rbac/rolebindings");
    let (status, body) = request(
        admin,
        http::Method::POST,
        &url,
        Some(serde_json::to_vec(&binding)?.into()),
    )
    .await?;
    anyhow::ensure!(
        status.is_success(),
        "binding the bench user: {status} {body:?}"
    );
    let client = &crate::bench_client::token_client(&server, args.clients * 2, "bench-user-token")?;
    let what = (&CONFIG_MAPS, "rbac");
    let mut creates = api_creates(client, &base, args, what, args.objects).await?;
    let mut gets = api_gets(client, &base, args, "rbac").await?;
    creates.name.push_str(", RBAC user");
    gets.name.push_str(", RBAC user");
    Ok((creates, gets))
}

/// Pod creates with the admission chain and without, each on fresh
/// servers, in turns (with, without, with, without): the best round of
/// each, so that the machine's noise weighs on both alike.
async fn admission_cost(
    args: &ApiBenchArgs,
    store_url: &str,
    scratch: &std::path::Path,
    count: usize,
) -> anyhow::Result<(Phase, Phase)> {
    let mut best: [Option<Phase>; 2] = [None, None];
    for round in 0..ADMISSION_ROUNDS {
        for (slot, admission) in [(0, true), (1, false)] {
            let phase =
                fresh_pod_creates(args, store_url, scratch, count, (admission, round)).await?;
            if best[slot]
                .as_ref()
                .is_none_or(|b| phase.ops_per_sec > b.ops_per_sec)
            {
                best[slot] = Some(phase);
            }
        }
    }
    let [Some(with), Some(without)] = best else {
        anyhow::bail!("no admission rounds ran");
    };
    Ok((with, without))
}

/// A pod as the admission chain leaves it: its service account, priority
/// and the default tolerations.
fn admitted_pod(name: &str) -> serde_json::Value {
    let mut pod = (PODS.object)(name);
    let spec = &mut pod["spec"];
    spec["serviceAccountName"] = json!("default");
    spec["serviceAccount"] = json!("default");
    spec["priority"] = json!(0);
    spec["preemptionPolicy"] = json!("PreemptLowerPriority");
    spec["tolerations"] = json!([
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    ]);
    pod
}

/// Rounds of [`admission_cost`].
const ADMISSION_ROUNDS: usize = 2;

/// Pod creates on a fresh server (a new data dir; on etcd, a new
/// namespace), with the default admission chain or with none.
async fn fresh_pod_creates(
    args: &ApiBenchArgs,
    store_url: &str,
    scratch: &std::path::Path,
    count: usize,
    (admission, round): (bool, usize),
) -> anyhow::Result<Phase> {
    let (namespace, label) = match admission {
        true => (format!("pods-{round}"), "pod creates"),
        false => (format!("bare-{round}"), "pod creates, no admission"),
    };
    let namespace = namespace.as_str();
    let data_dir = scratch.join(format!(
        "{namespace}-{}",
        store_url.replace(['/', ':'], "_")
    ));
    let plugins = keelson_apiserver::admission_plugins().join(",");
    let flags: &[&str] = match admission {
        true => &[],
        false => &["--disable-admission-plugins", &plugins],
    };
    let server = start_server_with(&data_dir, store_url, flags).await?;
    let base = server.url();
    let client = &http_client(&server, args.clients * 2)?;
    create_namespace(client, &base, namespace).await?;
    // Without the chain, the pods come with what it would add, so that
    // both runs store the same objects and only the chain's work differs.
    let object = match admission {
        true => PODS.object,
        false => admitted_pod,
    };
    let pods = Creates {
        label,
        object,
        ..PODS
    };
    api_creates(client, &base, args, (&pods, namespace), count).await
}

pub(crate) async fn request(
    client: &HttpClient,
    method: http::Method,
    url: &str,
    body: Option<Bytes>,
) -> anyhow::Result<(http::StatusCode, Bytes)> {
    let request = http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(Full::new(body.unwrap_or_default()))?;
    let response = client.request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

pub(crate) async fn create_namespace(
    client: &HttpClient,
    base: &str,
    name: &str,
) -> anyhow::Result<()> {
    let body = serde_json::to_vec(&json!({"metadata": {"name": name}}))?;
    let (status, _) = request(
        client,
        http::Method::POST,
        &format!("{base}/api/v1/namespaces"),
        Some(body.into()),
    )
    .await?;
    anyhow::ensure!(status.is_success(), "creating namespace {name}: {status}");
    Ok(())
}

fn object_name(i: usize) -> String {
    format!("cm-{i:06}")
}

/// What a create phase writes.
struct Creates {
    /// The path of its group-version (`/api/v1`).
    prefix: &'static str,
    /// The resource's plural.
    plural: &'static str,
    /// The object with a name.
    object: fn(&str) -> serde_json::Value,
    /// The row's label.
    label: &'static str,
}

const CONFIG_MAPS: Creates = Creates {
    prefix: "/api/v1",
    plural: "configmaps",
    object: |name| config_map(name, 0),
    label: "creates",
};

const SERVICES: Creates = Creates {
    prefix: "/api/v1",
    plural: "services",
    object: |name| {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
               "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}})
    },
    label: "Service creates",
};

const PODS: Creates = Creates {
    prefix: "/api/v1",
    plural: "pods",
    object: |name| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "bench"}},
               "spec": {"containers": [{"name": "app", "image": "registry.example/app:1",
                                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}})
    },
    label: "pod creates",
};

async fn api_creates(
    client: &HttpClient,
    base: &str,
    args: &ApiBenchArgs,
    (what, namespace): (&Creates, &str),
    count: usize,
) -> anyhow::Result<Phase> {
    let per_client = count / args.clients;
    let url = format!(
        "{base}{}/namespaces/{namespace}/{}",
        what.prefix, what.plural
    );
    let client = client.clone();
    let (clients, make) = (args.clients, what.object);
    let timed = concurrently(clients, per_client, move |c, i| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let body = serde_json::to_vec(&make(&object_name(c + i * clients)))?;
            let (status, body) =
                request(&client, http::Method::POST, &url, Some(body.into())).await?;
            anyhow::ensure!(
                status == http::StatusCode::CREATED,
                "create: {status} {body:?}"
            );
            Ok(())
        }
    })
    .await?;
    Ok(phase(
        format!("{} ({} clients)", what.label, args.clients),
        timed,
    ))
}

async fn api_gets(
    client: &HttpClient,
    base: &str,
    args: &ApiBenchArgs,
    namespace: &str,
) -> anyhow::Result<Phase> {
    gets_of(client, base, args, (&CONFIG_MAPS, namespace), args.objects).await
}

/// Gets of the `created` objects `what` made in `namespace`.
async fn gets_of(
    client: &HttpClient,
    base: &str,
    args: &ApiBenchArgs,
    (what, namespace): (&Creates, &str),
    created: usize,
) -> anyhow::Result<Phase> {
    let created = (created / args.clients) * args.clients;
    let (client, base) = (client.clone(), base.to_string());
    let namespace = namespace.to_string();
    let (prefix, plural) = (what.prefix, what.plural);
    let timed = concurrently(args.clients, args.gets / args.clients, move |c, i| {
        let url = format!(
            "{base}{prefix}/namespaces/{namespace}/{plural}/{}",
            object_name((c * 7919 + i * 104_729) % created)
        );
        let client = client.clone();
        async move {
            let (status, _) = request(&client, http::Method::GET, &url, None).await?;
            anyhow::ensure!(status.is_success(), "get: {status}");
            Ok(())
        }
    })
    .await?;
    let label = match what.plural {
        "configmaps" => "gets".to_string(),
        _ => format!("{} gets", what.label.trim_end_matches(" creates")),
    };
    Ok(phase(format!("{label} ({} clients)", args.clients), timed))
}

async fn api_lists(client: &HttpClient, base: &str, objects: usize) -> anyhow::Result<Phase> {
    let (client, url) = (
        client.clone(),
        format!("{base}/api/v1/namespaces/bench/configmaps"),
    );
    let timed = concurrently(2, 5, move |_, _| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let (status, body) = request(&client, http::Method::GET, &url, None).await?;
            anyhow::ensure!(status.is_success(), "list: {status}");
            // Counted without parsing, so the client's own work stays small.
            let items = memchr::memmem::find_iter(&body, b"\"kind\":\"ConfigMap\"").count();
            anyhow::ensure!(items >= objects / 2, "the list had only {items} items");
            Ok(())
        }
    })
    .await?;
    Ok(phase(format!("lists of {objects} objects"), timed))
}

async fn raw_creates(
    raw: &Arc<dyn Store>,
    args: &ApiBenchArgs,
    value: Bytes,
) -> anyhow::Result<Phase> {
    let raw = Arc::clone(raw);
    let clients = args.clients;
    let timed = concurrently(clients, args.objects / clients, move |c, i| {
        let (raw, value) = (Arc::clone(&raw), value.clone());
        async move {
            let key = format!("/bench/raw/{}", object_name(c + i * clients));
            raw.create(&key, value).await?;
            Ok(())
        }
    })
    .await?;
    Ok(phase("raw".into(), timed))
}

async fn raw_gets(raw: &Arc<dyn Store>, args: &ApiBenchArgs) -> anyhow::Result<Phase> {
    let created = (args.objects / args.clients) * args.clients;
    let raw = Arc::clone(raw);
    let timed = concurrently(args.clients, args.gets / args.clients, move |c, i| {
        let raw = Arc::clone(&raw);
        let key = format!(
            "/bench/raw/{}",
            object_name((c * 7919 + i * 104_729) % created)
        );
        async move {
            anyhow::ensure!(raw.get(&key).await?.is_some(), "{key} missing");
            Ok(())
        }
    })
    .await?;
    Ok(phase("raw".into(), timed))
}

async fn raw_lists(raw: &Arc<dyn Store>) -> anyhow::Result<Phase> {
    let raw = Arc::clone(raw);
    let timed = concurrently(2, 5, move |_, _| {
        let raw = Arc::clone(&raw);
        async move {
            let request = RangeRequest {
                prefix: "/bench/raw/".into(),
                ..Default::default()
            };
            raw.range(request).await?;
            Ok(())
        }
    })
    .await?;
    Ok(phase("raw".into(), timed))
}

/// Watchers on the `watch` namespace while a writer creates objects at a
/// fixed rate; each object carries the instant its create was issued.
async fn watch_fan_out(
    client: &HttpClient,
    dialer: &Dialer,
    base: &str,
    args: &ApiBenchArgs,
) -> anyhow::Result<Phase> {
    let list_url = format!("{base}/api/v1/namespaces/watch/configmaps");
    let (_, body) = request(client, http::Method::GET, &list_url, None).await?;
    let list: serde_json::Value = serde_json::from_slice(&body)?;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("0")
        .to_string();
    let events = (args.watch_rate * args.watch_seconds) as usize;
    let epoch = Instant::now();
    let watch_url = format!("{list_url}?watch=true&resourceVersion={rv}");
    let mut watchers = Vec::new();
    let path = watch_url.trim_start_matches(base).to_string();
    for _ in 0..args.watchers {
        // One connection per watcher, as separate clients would have; read
        // as plain bytes so the measuring client stays small beside the server.
        let stream = open_watch(dialer, &path).await?;
        watchers.push(tokio::spawn(read_watch(stream, events, epoch)));
    }
    // Creates are issued on a fixed schedule, each in its own task, so a
    // slow create does not lower the write rate.
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / args.watch_rate as f64));
    let mut writes = Vec::with_capacity(events);
    for i in 0..events {
        tick.tick().await;
        let (client, url) = (client.clone(), list_url.clone());
        writes.push(tokio::spawn(async move {
            let sent = epoch.elapsed().as_nanos() as u64;
            let body = serde_json::to_vec(&config_map(&format!("w-{i:06}"), sent))?;
            let (status, _) = request(&client, http::Method::POST, &url, Some(body.into())).await?;
            anyhow::ensure!(status.is_success(), "watch write: {status}");
            anyhow::Ok(())
        }));
    }
    let issued = start.elapsed();
    for write in writes {
        write.await??;
    }
    let mut latencies = Vec::with_capacity(events * args.watchers);
    for watcher in watchers {
        latencies.extend(watcher.await??);
    }
    let rate = events as f64 / issued.as_secs_f64();
    let mut result = phase(
        format!(
            "watch fan-out ({} watchers, {rate:.0} writes/s)",
            args.watchers
        ),
        (start.elapsed(), latencies),
    );
    result.ops_per_sec = (events * args.watchers) as f64 / start.elapsed().as_secs_f64();
    Ok(result)
}

/// Sends a watch request on its own connection and checks the answer's
/// status; the stream is left at the start of the body.
pub(crate) async fn open_watch(
    dialer: &Dialer,
    path: &str,
) -> anyhow::Result<(Box<dyn Io>, Vec<u8>)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = dialer.connect().await?;
    let address = dialer.address;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: application/json\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await?;
        anyhow::ensure!(n > 0, "the server closed the watch before answering");
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = memchr::memmem::find(&head, b"\r\n\r\n") {
            anyhow::ensure!(
                head.starts_with(b"HTTP/1.1 200"),
                "watch: {}",
                String::from_utf8_lossy(&head[..end])
            );
            let body = head.split_off(end + 4);
            return Ok((stream, body));
        }
    }
}

/// Reads `events` watch events; each latency runs from the create being
/// issued (the `a` field) to the event being read. The body is chunked, and
/// the server ends every chunk at a line end, so chunk-size lines simply
/// show up as lines without an event.
async fn read_watch(
    (mut stream, mut carry): (Box<dyn Io>, Vec<u8>),
    events: usize,
    epoch: Instant,
) -> anyhow::Result<Vec<Duration>> {
    use tokio::io::AsyncReadExt;
    let mark = memchr::memmem::Finder::new(b"\"a\":\"");
    let mut latencies = Vec::with_capacity(events);
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = Duration::from_secs(120);
    loop {
        let now = epoch.elapsed().as_nanos() as u64;
        let mut start = 0;
        while let Some(end) = memchr::memchr(b'\n', &carry[start..]) {
            let line = &carry[start..start + end];
            if let Some(at) = mark.find(line) {
                let sent = line[at + 5..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
                latencies.push(Duration::from_nanos(now.saturating_sub(sent)));
            }
            start += end + 1;
        }
        carry.drain(..start);
        if latencies.len() >= events {
            return Ok(latencies);
        }
        let n = tokio::time::timeout(deadline, stream.read(&mut buf))
            .await
            .context("no watch event for 120s")??;
        anyhow::ensure!(n > 0, "the watch ended early");
        carry.extend_from_slice(&buf[..n]);
    }
}

fn print_table(store: &str, rows: &[Row]) {
    println!();
    println!("store: {store}");
    println!();
    println!(
        "| {:<44} | {:>10} | {:>8} | {:>8} | {:>10} | {:>8} | {:>9} |",
        "workload", "api ops/s", "p50 ms", "p99 ms", "raw ops/s", "raw p99", "api/raw"
    );
    println!(
        "|{}|{}:|{}:|{}:|{}:|{}:|{}:|",
        "-".repeat(46),
        "-".repeat(11),
        "-".repeat(9),
        "-".repeat(9),
        "-".repeat(11),
        "-".repeat(9),
        "-".repeat(10)
    );
    for row in rows {
        let (raw_ops, raw_p99, ratio) = match &row.raw {
            Some(raw) => (
                format!("{:.0}", raw.ops_per_sec),
                ms(raw.p99),
                format!("{:.2}x", row.api.ops_per_sec / raw.ops_per_sec),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        println!(
            "| {:<44} | {:>10.0} | {:>8} | {:>8} | {:>10} | {:>8} | {:>9} |",
            row.api.name,
            row.api.ops_per_sec,
            ms(row.api.p50),
            ms(row.api.p99),
            raw_ops,
            raw_p99,
            ratio
        );
    }
}
