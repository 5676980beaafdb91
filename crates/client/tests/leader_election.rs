//! Leader election against the API server in-process, with short
//! durations (2 s lease, 1.5 s renew deadline, 200 ms retry): one of two
//! candidates leads; a standby takes over a Lease its leader stopped
//! renewing within the lease duration and a few retries, and at once one
//! released; a leader whose Lease another holder took stops its work.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use keelson_api::k8s_openapi::api::coordination::v1::Lease;
use keelson_apiserver::testing;
use keelson_client::leader::{Ended, LeaderConfig, LeaderError, run_elected};
use kube::Client;
use kube::api::{Api, PostParams};
use tokio::time::Instant;

const LEASE: Duration = Duration::from_secs(2);
const RETRY: Duration = Duration::from_millis(200);

fn config(identity: &str) -> LeaderConfig {
    LeaderConfig {
        lease_duration: LEASE,
        renew_deadline: Duration::from_millis(1500),
        retry_period: RETRY,
        ..LeaderConfig::new(identity)
    }
}

/// True while a candidate's work runs: set when it starts, cleared when
/// the work is dropped.
#[derive(Clone, Default)]
struct Working(Arc<AtomicBool>);

impl Working {
    fn is_on(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Work that runs until dropped.
    fn work(&self) -> impl FnOnce() -> futures::future::BoxFuture<'static, ()> + use<> {
        let flag = self.clone();
        move || {
            Box::pin(async move {
                flag.0.store(true, Ordering::SeqCst);
                let _guard = Guard(flag);
                std::future::pending::<()>().await
            })
        }
    }
}

struct Guard(Working);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.0.store(false, Ordering::SeqCst);
    }
}

type Candidate = tokio::task::JoinHandle<Result<Ended<()>, LeaderError>>;

/// Starts a candidate; `shutdown` ends it cleanly when sent.
fn candidate(
    client: &Client,
    identity: &str,
    working: &Working,
) -> (Candidate, tokio::sync::oneshot::Sender<()>) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(run_elected(
        client.clone(),
        config(identity),
        shutdown,
        working.work(),
    ));
    (task, stop)
}

async fn holder(client: &Client) -> Option<String> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-system");
    let lease = leases.get_opt("kube-controller-manager").await.ok()??;
    lease.spec?.holder_identity.filter(|h| !h.is_empty())
}

/// Waits (at most `within`) until `working` runs; how long it took.
async fn until_on(working: &Working, within: Duration) -> Duration {
    let start = Instant::now();
    while !working.is_on() {
        assert!(start.elapsed() < within, "not leading within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

#[tokio::test]
async fn a_standby_takes_over_a_lease_no_longer_renewed() {
    let server = testing::embedded().await;
    let (a, b) = (Working::default(), Working::default());
    let (first, _stop_first) = candidate(&server.client, "a", &a);
    until_on(&a, Duration::from_secs(5)).await;
    assert_eq!(holder(&server.client).await.as_deref(), Some("a"));
    let (second, _stop_second) = candidate(&server.client, "b", &b);
    tokio::time::sleep(LEASE + RETRY * 2).await;
    assert!(!b.is_on(), "the standby leads while the leader renews");
    assert_eq!(holder(&server.client).await.as_deref(), Some("a"));
    // The leader dies without releasing: the standby waits for the lease
    // to expire on its own clock, then takes over.
    first.abort();
    let took = until_on(&b, LEASE + RETRY * 3 + Duration::from_secs(1)).await;
    assert!(took >= LEASE / 2, "took over after {took:?}, before expiry");
    assert_eq!(holder(&server.client).await.as_deref(), Some("b"));
    let leases: Api<Lease> = Api::namespaced(server.client.clone(), "kube-system");
    let spec = leases
        .get("kube-controller-manager")
        .await
        .expect("the lease")
        .spec;
    let spec = spec.expect("a spec");
    assert_eq!(spec.lease_transitions, Some(1));
    assert_eq!(spec.lease_duration_seconds, Some(2));
    assert!(spec.acquire_time.is_some() && spec.renew_time.is_some());
    second.abort();
}

#[tokio::test]
async fn a_released_lease_is_taken_over_at_once() {
    let server = testing::embedded().await;
    let (a, b) = (Working::default(), Working::default());
    let (first, stop_first) = candidate(&server.client, "a", &a);
    until_on(&a, Duration::from_secs(5)).await;
    let (second, _stop_second) = candidate(&server.client, "b", &b);
    tokio::time::sleep(RETRY * 3).await;
    stop_first.send(()).expect("the first candidate runs");
    let ended = first.await.expect("the first candidate's task");
    assert_eq!(ended.expect("a clean end"), Ended::ShutDown);
    assert!(!a.is_on(), "the work was dropped");
    // Sooner than the lease would have run out; the bound leaves room
    // for a loaded machine (CI runs this beside other servers).
    let took = until_on(&b, LEASE + RETRY * 5).await;
    assert!(took < LEASE, "took over after {took:?}");
    second.abort();
}

#[tokio::test]
async fn a_leader_whose_lease_is_taken_stops_its_work() {
    let server = testing::embedded().await;
    let a = Working::default();
    let (first, _stop) = candidate(&server.client, "a", &a);
    until_on(&a, Duration::from_secs(5)).await;
    let leases: Api<Lease> = Api::namespaced(server.client.clone(), "kube-system");
    // A renewal between the read and the write is a conflict: again.
    for attempt in 0.. {
        let mut lease = leases
            .get("kube-controller-manager")
            .await
            .expect("the lease");
        let spec = lease.spec.as_mut().expect("a spec");
        spec.holder_identity = Some("thief".to_string());
        let params = PostParams::default();
        match leases
            .replace("kube-controller-manager", &params, &lease)
            .await
        {
            Ok(_) => break,
            Err(err) => assert!(attempt < 10, "the lease is not taken: {err}"),
        }
    }
    let ended = tokio::time::timeout(Duration::from_secs(1), first)
        .await
        .expect("the leader stops within a second")
        .expect("the candidate's task");
    let err = ended.expect_err("leadership is lost");
    assert!(err.to_string().starts_with("leaderelection lost"), "{err}");
    assert!(!a.is_on(), "the work was dropped");
    assert_eq!(holder(&server.client).await.as_deref(), Some("thief"));
}
