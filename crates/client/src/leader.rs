//! Leader election on a `coordination.k8s.io/v1` Lease, as upstream's
//! client-go `leaderelection` package elects one kube-controller-manager:
//! a candidate tries every retry period (jittered) to acquire the Lease,
//! which it may when nobody holds it or its holder has not renewed it for
//! a lease duration, measured on the candidate's own clock from when it
//! last saw the Lease's record change; the leader renews it every retry
//! period and, when it has not renewed it for the renew deadline, stops.
//! Writes go by `resourceVersion` (get, then create or replace), so two
//! candidates never both win one round; the record keeps upstream's
//! fields (`holderIdentity`, `leaseDurationSeconds`, `acquireTime`,
//! `renewTime`, `leaseTransitions`).
//!
//! Written here rather than on the `kube-lease-manager` crate (0.13, which
//! is on kube 5): it counts durations in whole seconds, has a grace period
//! before expiry instead of a renew deadline, takes over an expired lease
//! by a forced release and a second write, and a leader learns that its
//! Lease was taken only at its next renewal, near expiry; upstream's
//! semantics (renew every retry period, give up at the renew deadline)
//! are what the controller manager's flags promise.
//!
//! Two choices stricter than upstream's, both so that two leaders overlap
//! less: the renew deadline counts from the last successful renewal (not
//! from the start of the failing round), and a leader that sees another
//! holder in a valid Lease stops at once instead of retrying until its
//! deadline.

use std::future::Future;
use std::time::Duration;

use keelson_api::k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use keelson_api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Client;
use kube::api::{Api, PostParams};
use tokio::time::Instant;

/// Where and how to elect: the Lease, who we are, and upstream's three
/// durations.
#[derive(Clone, Debug)]
pub struct LeaderConfig {
    pub namespace: String,
    pub name: String,
    /// This candidate's `holderIdentity`, unique among candidates.
    pub identity: String,
    /// How long a Lease not renewed stays its holder's.
    pub lease_duration: Duration,
    /// How long the leader keeps leading without a successful renewal.
    pub renew_deadline: Duration,
    /// How often candidates try to acquire and the leader renews.
    pub retry_period: Duration,
}

impl LeaderConfig {
    /// kube-controller-manager's defaults: the Lease
    /// `kube-system/kube-controller-manager`, 15 s, 10 s, 2 s.
    pub fn new(identity: impl Into<String>) -> LeaderConfig {
        LeaderConfig {
            namespace: "kube-system".to_string(),
            name: "kube-controller-manager".to_string(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }

    /// Refuses durations that would let two leaders act at once, as
    /// upstream's `NewLeaderElector` does.
    pub fn validate(&self) -> Result<(), LeaderError> {
        let invalid = |why: &str| Err(LeaderError::Invalid(why.to_string()));
        if self.identity.is_empty() {
            return invalid("the identity must not be empty");
        }
        if self.lease_duration < Duration::from_secs(1) {
            return invalid("the lease duration must be at least 1s");
        }
        if self.lease_duration <= self.renew_deadline {
            return invalid("the lease duration must be longer than the renew deadline");
        }
        if self.retry_period.is_zero() {
            return invalid("the retry period must be longer than zero");
        }
        if self.renew_deadline <= self.retry_period.mul_f64(JITTER) {
            return invalid("the renew deadline must be longer than 1.2 retry periods");
        }
        Ok(())
    }
}

/// Upstream's jitter factor of the candidates' retries.
const JITTER: f64 = 1.2;

/// A candidate's identity as upstream makes it: `HOSTNAME_UUID`.
pub fn default_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_string());
    format!("{host}_{}", uuid::Uuid::new_v4())
}

/// Why an election ended without the work ending on its own.
#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    /// Leadership was lost: the work was stopped.
    #[error("leaderelection lost: {0}")]
    Lost(String),
    /// The configuration was refused.
    #[error("invalid leader election configuration: {0}")]
    Invalid(String),
}

/// How an election that did not lose ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended<T> {
    /// The work ended on its own while leading, with this.
    Worked(T),
    /// `shutdown` completed (before or while leading).
    ShutDown,
}

/// Waits to acquire the Lease, then runs `work()` while leading. When
/// leadership is lost the work is dropped at once and [`LeaderError::Lost`]
/// returned; when `shutdown` completes or the work ends, the work is
/// dropped and the Lease released (upstream's `ReleaseOnCancel`) so that
/// a standby takes over without waiting for it to expire.
pub async fn run_elected<F, Fut, S>(
    client: Client,
    config: LeaderConfig,
    shutdown: S,
    work: F,
) -> Result<Ended<Fut::Output>, LeaderError>
where
    F: FnOnce() -> Fut,
    Fut: Future,
    S: Future<Output = ()>,
{
    config.validate()?;
    let mut elector = Elector::new(client, config);
    let mut shutdown = std::pin::pin!(shutdown);
    tokio::select! {
        () = elector.acquire() => {}
        () = &mut shutdown => return Ok(Ended::ShutDown),
    }
    tracing::info!(identity = %elector.config.identity, "became the leader");
    let mut working = Box::pin(work());
    let ended = tokio::select! {
        lost = elector.keep_renewing() => return Err(lost),
        output = &mut working => Ended::Worked(output),
        () = &mut shutdown => Ended::ShutDown,
    };
    drop(working);
    elector.release().await;
    Ok(ended)
}

/// What one round of acquiring or renewing found.
enum Round {
    /// The Lease is ours, renewed.
    Held,
    /// Another holder's Lease is valid.
    HeldBy(String),
    /// The round failed (a conflict, an error): try again.
    Failed(String),
}

/// One candidate's view of the Lease.
struct Elector {
    api: Api<Lease>,
    config: LeaderConfig,
    /// The Lease as last read or written.
    observed: Option<Lease>,
    /// When its record last changed, on our clock.
    observed_at: Instant,
}

impl Elector {
    fn new(client: Client, config: LeaderConfig) -> Elector {
        Elector {
            api: Api::namespaced(client, &config.namespace),
            config,
            observed: None,
            observed_at: Instant::now(),
        }
    }

    /// Tries every retry period, jittered, until the Lease is ours.
    async fn acquire(&mut self) {
        loop {
            match self.round().await {
                Round::Held => return,
                Round::HeldBy(holder) => tracing::debug!(%holder, "the lease is held"),
                Round::Failed(why) => tracing::info!(why, "failed to acquire the lease"),
            }
            let jitter = f64::from(uuid::Uuid::new_v4().as_u128() as u16) / f64::from(u16::MAX);
            let period = self.config.retry_period;
            tokio::time::sleep(period + period.mul_f64(JITTER * jitter)).await;
        }
    }

    /// Renews every retry period; returns why leadership was lost.
    async fn keep_renewing(&mut self) -> LeaderError {
        let mut renewed = Instant::now();
        loop {
            tokio::time::sleep(self.config.retry_period).await;
            let deadline = renewed + self.config.renew_deadline;
            let round = tokio::time::timeout_at(deadline, self.round()).await;
            match round {
                Ok(Round::Held) => renewed = Instant::now(),
                Ok(Round::HeldBy(holder)) => {
                    return LeaderError::Lost(format!("the lease is held by {holder}"));
                }
                Ok(Round::Failed(why)) if Instant::now() < deadline => {
                    tracing::warn!(why, "failed to renew the lease");
                }
                Ok(Round::Failed(why)) => {
                    return LeaderError::Lost(format!("not renewed within the deadline: {why}"));
                }
                Err(_) => return LeaderError::Lost("not renewed within the deadline".into()),
            }
        }
    }

    /// One try at acquiring or renewing (upstream's `tryAcquireOrRenew`).
    async fn round(&mut self) -> Round {
        let now = MicroTime(jiff::Timestamp::now());
        let current = match self.api.get_opt(&self.config.name).await {
            Ok(current) => current,
            Err(err) => return Round::Failed(err.to_string()),
        };
        let Some(current) = current else {
            return self.create(now).await;
        };
        self.observe(&current);
        let spec = current.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let ours = holder == self.config.identity;
        if !holder.is_empty() && !ours && self.valid(&spec) {
            return Round::HeldBy(holder);
        }
        let mut next = current.clone();
        next.spec = Some(self.record(spec, ours, now));
        match self
            .api
            .replace(&self.config.name, &PostParams::default(), &next)
            .await
        {
            Ok(written) => {
                self.observe(&written);
                Round::Held
            }
            Err(err) => Round::Failed(err.to_string()),
        }
    }

    async fn create(&mut self, now: MicroTime) -> Round {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(self.config.name.clone()),
                namespace: Some(self.config.namespace.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(self.record(LeaseSpec::default(), false, now)),
        };
        match self.api.create(&PostParams::default(), &lease).await {
            Ok(written) => {
                self.observe(&written);
                Round::Held
            }
            Err(err) => Round::Failed(err.to_string()),
        }
    }

    /// The record we write: renewed now, acquired now unless already ours.
    fn record(&self, old: LeaseSpec, ours: bool, now: MicroTime) -> LeaseSpec {
        let transitions = old.lease_transitions.unwrap_or(0);
        let (acquired, transitions) = match ours {
            true => (old.acquire_time.clone().or(Some(now.clone())), transitions),
            false => (
                Some(now.clone()),
                transitions + i32::from(old.holder_identity.is_some()),
            ),
        };
        let seconds = self.config.lease_duration.as_secs_f64().round() as i32;
        LeaseSpec {
            holder_identity: Some(self.config.identity.clone()),
            lease_duration_seconds: Some(seconds.max(1)),
            acquire_time: acquired,
            renew_time: Some(now),
            lease_transitions: Some(transitions),
            ..old
        }
    }

    /// Keeps the Lease read, and restarts the clock when its record changed.
    fn observe(&mut self, lease: &Lease) {
        let changed = self.observed.as_ref().map(|seen| &seen.spec) != Some(&lease.spec);
        if changed {
            self.observed_at = Instant::now();
        }
        self.observed = Some(lease.clone());
    }

    /// Whether the observed record's holder still owns it, on our clock.
    fn valid(&self, spec: &LeaseSpec) -> bool {
        let seconds = spec.lease_duration_seconds.unwrap_or(0).max(0) as u64;
        self.observed_at + Duration::from_secs(seconds) > Instant::now()
    }

    /// Gives the Lease up if it is still ours: no holder, a one-second
    /// duration, the transitions kept (upstream's `release`).
    async fn release(&mut self) {
        let Some(mut lease) = self.observed.clone() else {
            return;
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.config.identity.as_str()) {
            return;
        }
        let now = MicroTime(jiff::Timestamp::now());
        spec.holder_identity = Some(String::new());
        spec.lease_duration_seconds = Some(1);
        spec.acquire_time = Some(now.clone());
        spec.renew_time = Some(now);
        let params = PostParams::default();
        let mut written = self.api.replace(&self.config.name, &params, &lease).await;
        // A renewal cut short by the shutdown may have been stored without
        // its answer read: the Lease moved on. Still ours, it is released
        // on its newest version.
        if let Err(kube::Error::Api(status)) = &written
            && status.code == 409
            && let Ok(current) = self.api.get(&self.config.name).await
        {
            let holder = current
                .spec
                .as_ref()
                .and_then(|s| s.holder_identity.as_deref());
            if holder == Some(self.config.identity.as_str()) {
                lease.metadata.resource_version = current.metadata.resource_version;
                written = self.api.replace(&self.config.name, &params, &lease).await;
            }
        }
        match written {
            Ok(_) => tracing::info!(identity = %self.config.identity, "released the lease"),
            Err(err) => tracing::warn!(error = %err, "failed to release the lease"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_that_could_overlap_two_leaders_are_refused() {
        let secs = Duration::from_secs;
        let ms = Duration::from_millis;
        let cases = [
            (secs(15), secs(10), secs(2), true),
            (secs(2), ms(1500), ms(200), true),
            (secs(10), secs(10), secs(2), false),
            (secs(15), secs(2), secs(2), false),
            (secs(15), secs(10), secs(0), false),
            (ms(500), ms(400), ms(100), false),
        ];
        for (lease, renew, retry, ok) in cases {
            let config = LeaderConfig {
                lease_duration: lease,
                renew_deadline: renew,
                retry_period: retry,
                ..LeaderConfig::new("me")
            };
            assert_eq!(
                config.validate().is_ok(),
                ok,
                "{lease:?} {renew:?} {retry:?}"
            );
        }
        assert!(LeaderConfig::new("").validate().is_err());
    }

    #[test]
    fn identities_are_the_host_and_a_random_part() {
        let (one, two) = (default_identity(), default_identity());
        assert_ne!(one, two);
        let (host, random) = one.rsplit_once('_').expect("HOST_UUID");
        assert!(!host.is_empty());
        assert!(uuid::Uuid::parse_str(random).is_ok(), "{one}");
    }
}
