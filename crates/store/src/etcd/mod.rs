//! The etcd backend: each [`Store`] call is one etcd v3 request, but for
//! reads of many keys, which take as many as their size needs.
//!
//! No amount of data under one prefix is too much to read: ranges are read
//! in pages at one revision (see `range`), and watches ask etcd to split
//! large responses into fragments, so every gRPC message stays under the
//! client's limit.
//!
//! Conditional writes are etcd transactions comparing `create_revision` or
//! `mod_revision`; their `else` branch reads the key, so a lost race answers
//! with the current value in the same round trip. Compaction is physical.
//!
//! Watches are etcd watches that outlive an etcd restart: when the stream
//! breaks, the watch is opened again from the revision after the last one
//! received (for up to [`WATCH_RESUME_TIMEOUT`]), so no event is lost or
//! repeated. Opening a watch takes one request more than the watch itself (to
//! learn the current revision, or to check `from` against compaction).
//!
//! Error paths may take a second request to fill in details that etcd's
//! error does not carry (the compacted or the current revision). Calls fail
//! with [`StoreError::Unavailable`] while etcd cannot be reached (at once
//! when it refuses connections, after about 15 s when it hangs); the same
//! [`EtcdStore`] works again once etcd is back.

mod range;
mod watch;

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use etcd_client::{
    Client, CompactionOptions, Compare, CompareOp, ConnectOptions, DeleteOptions, GetOptions,
    KvClient, ResponseHeader, Txn, TxnOp, TxnOpResponse, TxnResponse, WatchClient, WatchOptions,
    WatchResponse,
};
use futures::{StreamExt, stream};
use tokio::sync::mpsc;
use watch::Watcher;

use crate::key::validate_value;
use crate::{
    Event, EventKind, KeyValue, RangeRequest, RangeResponse, Revision, Store, StoreError,
    WatchStream, prefix_end, validate_key, validate_prefix,
};

/// How long a broken watch keeps trying to resume before it reports
/// [`StoreError::Unavailable`] and ends.
pub const WATCH_RESUME_TIMEOUT: Duration = Duration::from_secs(60);

/// Largest gRPC message either way. Reads of many keys are paged to stay
/// under it, and watch responses come in fragments of about etcd's
/// `--max-request-bytes`, so no amount of data under a prefix needs more.
const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// HTTP/2 pings while a request or watch is open, so a hung (or paused) etcd
/// is noticed. etcd refuses pings more often than every 5 s, and idle pings
/// altogether, hence no pings while idle.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(5);
/// How many etcd watch responses a watch buffers for a slow caller before
/// it pauses (see `Watcher`).
const WATCH_BUFFER: usize = 1024;
/// How long opening a watch may take before it counts as a failed attempt.
const WATCH_OPEN_TIMEOUT: Duration = Duration::from_secs(10);
const RESUME_BACKOFF_FIRST: Duration = Duration::from_millis(100);
const RESUME_BACKOFF_MAX: Duration = Duration::from_secs(2);
/// A key no keelson key can equal (keys start with '/' and hold no NUL):
/// cheap single-key requests use it to learn revisions.
const PROBE_KEY: &[u8] = b"\0keelson/probe";

// gRPC status codes (tonic's `Code`, by number, to avoid depending on tonic).
const CODE_CANCELLED: i32 = 1;
const CODE_DEADLINE_EXCEEDED: i32 = 4;
const CODE_OUT_OF_RANGE: i32 = 11;
const CODE_UNAVAILABLE: i32 = 14;

const COMPACTED_MESSAGE: &str = "required revision has been compacted";
const FUTURE_MESSAGE: &str = "required revision is a future revision";
/// How the client's decoder reports a message over its limit.
const TOO_LARGE_MESSAGE: &str = "decoded message length too large";

/// Parses `etcd://HOST:PORT[,HOST:PORT...]` into `HOST:PORT` endpoints.
pub fn parse_endpoints(url: &str) -> Result<Vec<String>, StoreError> {
    let invalid = |reason: String| StoreError::InvalidUrl {
        url: url.to_string(),
        reason,
    };
    let list = url
        .strip_prefix("etcd://")
        .ok_or_else(|| invalid("expected etcd://HOST:PORT[,HOST:PORT]".into()))?;
    let list = list.strip_suffix('/').unwrap_or(list);
    if list.trim().is_empty() {
        return Err(invalid(
            "no endpoint given, expected etcd://HOST:PORT[,HOST:PORT]".into(),
        ));
    }
    list.split(',')
        .map(|e| parse_endpoint(e.trim()))
        .collect::<Result<_, _>>()
        .map_err(invalid)
}

fn parse_endpoint(endpoint: &str) -> Result<String, String> {
    if endpoint.is_empty() {
        return Err("empty endpoint in the list".into());
    }
    let Some((host, port)) = endpoint.rsplit_once(':') else {
        return Err(format!(
            "endpoint {endpoint:?} has no port, expected HOST:PORT"
        ));
    };
    if host.is_empty() || host.contains(['/', '@', '?', '#', ' ']) {
        return Err(format!(
            "endpoint {endpoint:?} has an invalid host {host:?}"
        ));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(endpoint.to_string()),
        _ => Err(format!(
            "endpoint {endpoint:?} has an invalid port {port:?}"
        )),
    }
}

/// A [`Store`] on an etcd v3 cluster.
#[derive(Clone)]
pub struct EtcdStore {
    kv: KvClient,
    watch: WatchClient,
    /// The endpoints, for error messages.
    endpoints: String,
}

impl std::fmt::Debug for EtcdStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdStore")
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

impl EtcdStore {
    /// Connects to etcd at `endpoints` (`HOST:PORT` each, see
    /// [`parse_endpoints`]) and checks that it answers; an unreachable etcd
    /// is [`StoreError::Unavailable`]. The connection is re-established on
    /// its own after etcd restarts.
    pub async fn connect(endpoints: &[String]) -> Result<Self, StoreError> {
        let joined = endpoints.join(",");
        if endpoints.is_empty() {
            return Err(StoreError::InvalidUrl {
                url: String::new(),
                reason: "no etcd endpoint given".into(),
            });
        }
        let options = ConnectOptions::new()
            .with_connect_timeout(CONNECT_TIMEOUT)
            .with_keep_alive(KEEP_ALIVE_INTERVAL, KEEP_ALIVE_TIMEOUT)
            .with_keep_alive_while_idle(false);
        let client = Client::connect(endpoints, Some(options))
            .await
            .map_err(|err| classify(err, &joined).into_error())?;
        let store = EtcdStore {
            kv: client
                .kv_client()
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
            watch: client
                .watch_client()
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
            endpoints: joined,
        };
        store.current_revision().await?;
        Ok(store)
    }

    async fn txn(&self, txn: Txn) -> Result<TxnResponse, StoreError> {
        self.kv
            .clone()
            .txn(txn)
            .await
            .map_err(|err| classify(err, &self.endpoints).into_error())
    }

    /// The revision etcd has compacted up to, learned by opening a watch
    /// before it: etcd cancels such a watch and names the revision. `None`
    /// if etcd does not answer that way within a few seconds.
    async fn compacted_revision(&self) -> Option<Revision> {
        let options = WatchOptions::new().with_start_revision(1);
        let probe = async {
            let mut watch = self
                .watch
                .clone()
                .watch(PROBE_KEY, Some(options))
                .await
                .ok()?;
            while let Ok(Some(response)) = watch.message().await {
                if response.canceled() {
                    return Some(response.compact_revision()).filter(|r| *r > 0);
                }
            }
            None
        };
        tokio::time::timeout(Duration::from_secs(3), probe)
            .await
            .ok()
            .flatten()
    }

    async fn compacted_error(&self, requested: Revision) -> StoreError {
        // Without an answer, `requested + 1` is all we know for certain.
        let compacted = self.compacted_revision().await.unwrap_or(requested + 1);
        StoreError::Compacted {
            requested,
            compacted,
        }
    }

    async fn future_error(&self, requested: Revision) -> StoreError {
        let current = self.current_revision().await.unwrap_or(requested - 1);
        StoreError::FutureRevision { requested, current }
    }

    /// Fails with [`StoreError::Compacted`] if history at `revision` is gone.
    async fn check_not_compacted(&self, revision: Revision) -> Result<(), StoreError> {
        let options = GetOptions::new().with_revision(revision).with_count_only();
        match self.kv.clone().get(PROBE_KEY, Some(options)).await {
            Ok(_) => Ok(()),
            Err(err) => match classify(err, &self.endpoints) {
                Failure::Compacted => Err(self.compacted_error(revision).await),
                // Watching a revision yet to come is fine.
                Failure::FutureRevision => Ok(()),
                other => Err(other.into_error()),
            },
        }
    }
}

#[async_trait]
impl Store for EtcdStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        validate_key(key)?;
        let mut response = self
            .kv
            .clone()
            .get(key, None)
            .await
            .map_err(|err| classify(err, &self.endpoints).into_error())?;
        response
            .take_kvs()
            .into_iter()
            .next()
            .map(to_kv)
            .transpose()
    }

    async fn range(&self, request: RangeRequest) -> Result<RangeResponse, StoreError> {
        self.range_in_pages(request).await
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue, StoreError> {
        validate_key(key)?;
        validate_value(key, &value)?;
        let txn = Txn::new()
            .when([Compare::create_revision(key, CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key, value.clone(), None)]);
        let response = self.txn(txn).await?;
        if !response.succeeded() {
            return Err(StoreError::AlreadyExists {
                key: key.to_string(),
            });
        }
        let revision = revision_of(response.header())?;
        Ok(KeyValue {
            key: key.to_string(),
            value,
            create_revision: revision,
            mod_revision: revision,
            version: 1,
        })
    }

    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected: Revision,
    ) -> Result<KeyValue, StoreError> {
        validate_key(key)?;
        validate_value(key, &value)?;
        // The keys-only read after the put sees the new version and create
        // revision without sending the old value back.
        let txn = Txn::new()
            .when(if_current(key, expected))
            .and_then([
                TxnOp::put(key, value.clone(), None),
                TxnOp::get(key, Some(GetOptions::new().with_keys_only())),
            ])
            .or_else([TxnOp::get(key, None)]);
        let response = self.txn(txn).await?;
        if !response.succeeded() {
            return Err(lost_race(key, expected, &response)?);
        }
        let written = read_in_txn(&response)?.ok_or_else(|| {
            StoreError::Internal(format!("etcd did not return {key:?} after updating it"))
        })?;
        Ok(KeyValue { value, ..written })
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue, StoreError> {
        validate_key(key)?;
        let delete = || TxnOp::delete(key, Some(DeleteOptions::new().with_prev_key()));
        let txn = match expected {
            Some(expected) => Txn::new()
                .when(if_current(key, expected))
                .and_then([delete()])
                .or_else([TxnOp::get(key, None)]),
            None => Txn::new().and_then([delete()]),
        };
        let response = self.txn(txn).await?;
        if !response.succeeded() {
            return Err(lost_race(key, expected.unwrap_or(0), &response)?);
        }
        let deleted = response.op_responses().into_iter().find_map(|op| match op {
            TxnOpResponse::Delete(mut delete) => delete.take_prev_kvs().into_iter().next(),
            _ => None,
        });
        match deleted {
            Some(kv) => to_kv(kv),
            None => Err(StoreError::NotFound {
                key: key.to_string(),
            }),
        }
    }

    async fn watch(&self, prefix: &str, from: Revision) -> Result<WatchStream, StoreError> {
        validate_prefix(prefix)?;
        let start = if from > 0 {
            self.check_not_compacted(from).await?;
            from
        } else {
            self.current_revision().await? + 1
        };
        let mut watcher = Watcher {
            client: self.watch.clone(),
            endpoints: self.endpoints.clone(),
            prefix: prefix.to_string(),
            next: start,
            stream: None,
            pending: Vec::new(),
        };
        // Opened before returning, so every write after this call is seen.
        let (stream, first) = watcher.open().await?;
        watcher.stream = Some(stream);
        let (tx, rx) = mpsc::channel(WATCH_BUFFER);
        if !first.is_empty() {
            // Cannot fail: the channel is new and empty.
            let _ = tx.try_send(Ok(first));
        }
        tokio::spawn(watcher.run(tx));
        let batches = stream::unfold(rx, |mut rx| async move {
            let batch = rx.recv().await?;
            Some((batch, rx))
        });
        Ok(Box::pin(batches.flat_map(|batch| {
            let items: Vec<_> = match batch {
                Ok(events) => events.into_iter().map(Ok).collect(),
                Err(err) => vec![Err(err)],
            };
            stream::iter(items)
        })))
    }

    /// A physical compaction: it returns once etcd has removed the history
    /// from its database. Compacting at or below an earlier compaction is a
    /// no-op, as in the embedded store.
    async fn compact(&self, revision: Revision) -> Result<(), StoreError> {
        let options = CompactionOptions::new().with_physical();
        match self.kv.clone().compact(revision, Some(options)).await {
            Ok(_) => Ok(()),
            Err(err) => match classify(err, &self.endpoints) {
                Failure::Compacted => Ok(()),
                Failure::FutureRevision => Err(self.future_error(revision).await),
                other => Err(other.into_error()),
            },
        }
    }

    async fn current_revision(&self) -> Result<Revision, StoreError> {
        let options = GetOptions::new().with_count_only();
        let response = self
            .kv
            .clone()
            .get(PROBE_KEY, Some(options))
            .await
            .map_err(|err| classify(err, &self.endpoints).into_error())?;
        revision_of(response.header())
    }
}

/// The compares of a conditional write: the key exists (a missing key's
/// `mod_revision` compares as 0) and was last changed at `expected`.
fn if_current(key: &str, expected: Revision) -> [Compare; 2] {
    [
        Compare::create_revision(key, CompareOp::Greater, 0),
        Compare::mod_revision(key, CompareOp::Equal, expected),
    ]
}

/// The error for a conditional write whose compare failed, from the read in
/// its `else` branch.
fn lost_race(
    key: &str,
    expected: Revision,
    response: &TxnResponse,
) -> Result<StoreError, StoreError> {
    Ok(match read_in_txn(response)? {
        Some(current) => StoreError::Conflict {
            key: key.to_string(),
            expected,
            current: Some(Box::new(current)),
        },
        None => StoreError::NotFound {
            key: key.to_string(),
        },
    })
}

/// The first key a read inside a transaction returned.
fn read_in_txn(response: &TxnResponse) -> Result<Option<KeyValue>, StoreError> {
    let read = response.op_responses().into_iter().find_map(|op| match op {
        TxnOpResponse::Get(mut get) => Some(get.take_kvs()),
        _ => None,
    });
    read.and_then(|kvs| kvs.into_iter().next())
        .map(to_kv)
        .transpose()
}

fn revision_of(header: Option<&ResponseHeader>) -> Result<Revision, StoreError> {
    header
        .map(ResponseHeader::revision)
        .ok_or_else(|| StoreError::Internal("etcd sent a response without a header".into()))
}

fn to_kv(kv: etcd_client::KeyValue) -> Result<KeyValue, StoreError> {
    let (create_revision, mod_revision, version) =
        (kv.create_revision(), kv.mod_revision(), kv.version());
    let (key, value) = kv.into_key_value();
    let key = String::from_utf8(key).map_err(|err| {
        StoreError::Internal(format!(
            "etcd holds a key that is not UTF-8: {:?}",
            String::from_utf8_lossy(err.as_bytes())
        ))
    })?;
    Ok(KeyValue {
        key,
        value: Bytes::from(value),
        create_revision,
        mod_revision,
        version,
    })
}

/// What an etcd error means to us; the first three need context to report.
enum Failure {
    Compacted,
    FutureRevision,
    /// A response over [`MAX_MESSAGE_BYTES`] (the client's message, for
    /// the details).
    TooLarge(String),
    Other(StoreError),
}

impl Failure {
    /// The error for callers with no revision to report.
    fn into_error(self) -> StoreError {
        match self {
            Failure::Compacted => StoreError::Internal(format!("etcd: {COMPACTED_MESSAGE}")),
            Failure::FutureRevision => StoreError::Internal(format!("etcd: {FUTURE_MESSAGE}")),
            Failure::TooLarge(detail) => StoreError::Internal(format!("etcd: {detail}")),
            Failure::Other(err) => err,
        }
    }
}

fn classify(err: etcd_client::Error, endpoints: &str) -> Failure {
    use etcd_client::Error as E;
    let unavailable = |detail: String| {
        Failure::Other(StoreError::Unavailable(format!(
            "etcd at {endpoints} cannot be reached: {detail}"
        )))
    };
    match err {
        E::GRpcStatus(status) => {
            let message = status.message();
            if message.contains(COMPACTED_MESSAGE) {
                return Failure::Compacted;
            }
            if message.contains(FUTURE_MESSAGE) {
                return Failure::FutureRevision;
            }
            let code = i32::from(status.code());
            // The client's own message limit; etcd answers OutOfRange for
            // future revisions too, hence the message.
            if code == CODE_OUT_OF_RANGE && message.contains(TOO_LARGE_MESSAGE) {
                return Failure::TooLarge(message.to_string());
            }
            // Statuses made on our side from a transport failure (connection
            // refused or reset, HTTP/2 GOAWAY) carry the failure as their
            // source; etcd's own errors carry none.
            let local = std::error::Error::source(&status).is_some();
            if local
                || matches!(
                    code,
                    CODE_UNAVAILABLE | CODE_DEADLINE_EXCEEDED | CODE_CANCELLED
                )
            {
                return unavailable(message.to_string());
            }
            Failure::Other(StoreError::Internal(format!(
                "etcd at {endpoints} failed the request: {message} ({:?})",
                status.code()
            )))
        }
        E::TransportError(err) => unavailable(err.to_string()),
        E::IoError(err) => unavailable(err.to_string()),
        E::InvalidUri(err) => Failure::Other(StoreError::InvalidUrl {
            url: endpoints.to_string(),
            reason: err.to_string(),
        }),
        E::InvalidArgs(reason) => Failure::Other(StoreError::InvalidUrl {
            url: endpoints.to_string(),
            reason,
        }),
        other => Failure::Other(StoreError::Internal(format!(
            "etcd at {endpoints}: {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_parsed() {
        let cases: &[(&str, &[&str])] = &[
            ("etcd://127.0.0.1:2379", &["127.0.0.1:2379"]),
            ("etcd://a:1,b:2", &["a:1", "b:2"]),
            ("etcd://a:1, b:2/", &["a:1", "b:2"]),
            ("etcd://[::1]:2379", &["[::1]:2379"]),
        ];
        for (url, want) in cases {
            let got = parse_endpoints(url).unwrap_or_else(|err| panic!("{url}: {err}"));
            assert_eq!(&got, want, "{url}");
        }
    }

    #[test]
    fn bad_endpoints_are_refused_with_a_reason() {
        let cases = [
            ("etcd://", "no endpoint given"),
            ("etcd:// ", "no endpoint given"),
            ("http://a:1", "expected etcd://"),
            ("etcd://a", "has no port"),
            ("etcd://a:1,", "empty endpoint"),
            ("etcd://a:x", "invalid port \"x\""),
            ("etcd://a:", "invalid port \"\""),
            ("etcd://a:70000", "invalid port"),
            ("etcd://a:0", "invalid port"),
            ("etcd://:1", "invalid host"),
            ("etcd://u@a:1", "invalid host"),
        ];
        for (url, reason) in cases {
            match parse_endpoints(url) {
                Err(err @ StoreError::InvalidUrl { .. }) => {
                    assert!(err.to_string().contains(reason), "{url}: {err}");
                }
                other => panic!("{url}: expected InvalidUrl, got {other:?}"),
            }
        }
    }
}
