//! The scheduling queue, as upstream's `PriorityQueue`: an active queue
//! ordered by the profile's QueueSort (priority, then arrival), a backoff
//! queue of pods that failed and wait out their backoff (1 s doubling to
//! 10 s by default), and the unschedulable pods, which go back only on a
//! cluster event that one of the plugins that rejected them registered
//! (or after five minutes). A pod that failed while such an event came in
//! goes to the backoff queue rather than waiting for another event.
//!
//! Time is tokio's, so tests run with paused time.

mod heap;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use keelson_api::k8s_openapi::api::core::v1::Pod;

use crate::framework::runtime::Framework;
use crate::framework::{ClusterChange, ClusterEventWithHint, PodInfo, QueuedPodInfo, QueueingHint};
use heap::Heap;

/// How long a pod stays among the unschedulable ones with no event that
/// moves it (upstream's `podMaxInUnschedulablePodsDuration`).
pub const MAX_IN_UNSCHEDULABLE: Duration = Duration::from_secs(5 * 60);

/// The queue's clock: tokio's, so that paused time moves it.
pub fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Where a pod is, for tests and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Active,
    Backoff,
    Unschedulable,
    InFlight,
}

/// The scheduling queue.
pub struct SchedulingQueue {
    state: Mutex<State>,
    wake: tokio::sync::Notify,
    profiles: Vec<Arc<Framework>>,
    /// Per profile, per plugin: its registered events.
    events: HashMap<String, HashMap<String, Vec<ClusterEventWithHint>>>,
    initial_backoff: Duration,
    max_backoff: Duration,
}

struct State {
    active: Heap,
    backoff: Heap,
    unschedulable: HashMap<String, QueuedPodInfo>,
    /// Pods popped and not yet done, with the cycle they were popped in.
    in_flight: HashMap<String, u64>,
    cycle: u64,
    /// The cycle of the last event that moved pods.
    move_request_cycle: Option<u64>,
    closed: bool,
}

impl SchedulingQueue {
    /// A queue for pods of `profiles` (ordered by the first profile's
    /// QueueSort, which every profile shares), with pods' backoff from
    /// `initial_backoff` doubling to `max_backoff`.
    pub fn new(
        profiles: Vec<Arc<Framework>>,
        initial_backoff: Duration,
        max_backoff: Duration,
    ) -> SchedulingQueue {
        let sorter = profiles.first().cloned();
        let less: heap::Less = Box::new(move |a, b| match &sorter {
            Some(framework) => framework.less(a, b),
            None => a.timestamp < b.timestamp,
        });
        let events = profiles
            .iter()
            .map(|f| {
                let mut by_plugin: HashMap<String, Vec<ClusterEventWithHint>> = HashMap::new();
                for (plugin, event) in f.events_to_register() {
                    by_plugin.entry(plugin).or_default().push(event);
                }
                (f.name().to_string(), by_plugin)
            })
            .collect();
        let (initial, max) = (initial_backoff, max_backoff);
        let expiry =
            move |p: &QueuedPodInfo| p.timestamp + backoff_duration(p.attempts, initial, max);
        let by_expiry: heap::Less = Box::new(move |a, b| expiry(a) < expiry(b));
        SchedulingQueue {
            state: Mutex::new(State {
                active: Heap::new(less),
                backoff: Heap::new(by_expiry),
                unschedulable: HashMap::new(),
                in_flight: HashMap::new(),
                cycle: 0,
                move_request_cycle: None,
                closed: false,
            }),
            wake: tokio::sync::Notify::new(),
            profiles,
            events,
            initial_backoff,
            max_backoff,
        }
    }

    fn framework(&self, pod: &Pod) -> Option<&Arc<Framework>> {
        let name = scheduler_name(pod);
        self.profiles.iter().find(|f| f.name() == name)
    }

    /// A new pending pod: into the active queue, or among the
    /// unschedulable ones when a PreEnqueue plugin holds it back.
    pub fn add(&self, pod: Arc<Pod>) {
        let info = QueuedPodInfo::new(Arc::new(PodInfo::new(pod)), now());
        let mut state = self.lock();
        if state.in_flight.contains_key(info.pod_info.uid()) {
            return;
        }
        self.enqueue(&mut state, info);
    }

    /// Into the active queue if PreEnqueue lets it, else gated.
    fn enqueue(&self, state: &mut State, mut info: QueuedPodInfo) {
        let uid = info.pod_info.uid().to_string();
        let status = match self.framework(&info.pod_info.pod) {
            Some(framework) => framework.run_pre_enqueue(&info.pod_info.pod),
            None => crate::framework::Status::success(),
        };
        state.backoff.remove(&uid);
        if status.is_success() {
            info.gated = false;
            state.unschedulable.remove(&uid);
            state.active.push(info);
            self.wake.notify_one();
        } else {
            info.gated = true;
            info.unschedulable_plugins = status.plugin().map(str::to_string).into_iter().collect();
            state.active.remove(&uid);
            state.unschedulable.insert(uid, info);
        }
    }

    /// A pending pod changed: its queued version is replaced; a gated or
    /// unschedulable one whose spec or labels changed is tried again.
    pub fn update(&self, old: &Pod, new: Arc<Pod>) {
        let mut state = self.lock();
        let uid = uid(&new).to_string();
        let replace = |queued: &QueuedPodInfo| QueuedPodInfo {
            pod_info: Arc::new(PodInfo::new(new.clone())),
            ..queued.clone()
        };
        if let Some(queued) = state.active.get(&uid).map(replace) {
            state.active.push(queued);
        } else if let Some(queued) = state.backoff.get(&uid).map(replace) {
            state.backoff.push(queued);
        } else if let Some(queued) = state.unschedulable.get(&uid).map(replace) {
            if queued.gated {
                self.enqueue(&mut state, queued);
            } else if pod_changed(old, &new) {
                state.unschedulable.remove(&uid);
                self.requeue(&mut state, queued);
            } else {
                state.unschedulable.insert(uid, queued);
            }
        } else if !state.in_flight.contains_key(&uid) {
            drop(state);
            self.add(new);
        }
    }

    /// A pod deleted, or bound by someone else: out of the queue.
    pub fn delete(&self, uid: &str) {
        let mut state = self.lock();
        state.active.remove(uid);
        state.backoff.remove(uid);
        state.unschedulable.remove(uid);
    }

    /// The next pod to schedule, waiting for one; `None` once closed.
    pub async fn pop(&self) -> Option<(QueuedPodInfo, u64)> {
        loop {
            let notified = self.wake.notified();
            {
                let mut state = self.lock();
                if state.closed {
                    return None;
                }
                if let Some(mut info) = state.active.pop() {
                    state.cycle += 1;
                    info.attempts += 1;
                    let cycle = state.cycle;
                    state
                        .in_flight
                        .insert(info.pod_info.uid().to_string(), cycle);
                    if !state.active.is_empty() {
                        self.wake.notify_one();
                    }
                    return Some((info, cycle));
                }
            }
            notified.await;
        }
    }

    /// Ends `pop`s waiting now and later.
    pub fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_waiters();
        self.wake.notify_one();
    }

    /// The pod of `uid` left its scheduling cycle (bound, or requeued).
    pub fn done(&self, uid: &str) {
        self.lock().in_flight.remove(uid);
    }

    /// A pod that failed its cycle `cycle` because it fits nowhere (with
    /// `unschedulable_plugins` set, the plugins whose events may help it;
    /// none: any event may): among the unschedulable pods, or in the
    /// backoff queue when an event came in meanwhile.
    pub fn add_unschedulable(&self, mut info: QueuedPodInfo, cycle: u64) {
        let mut state = self.lock();
        let uid = info.pod_info.uid().to_string();
        state.in_flight.remove(&uid);
        info.timestamp = now();
        let moved_meanwhile = state.move_request_cycle.is_some_and(|c| c >= cycle);
        if moved_meanwhile {
            state.backoff.push(info);
        } else {
            state.unschedulable.insert(uid, info);
        }
    }

    /// A pod whose cycle failed with an error: it backs off and is tried
    /// again.
    pub fn add_backoff(&self, mut info: QueuedPodInfo) {
        let mut state = self.lock();
        state.in_flight.remove(info.pod_info.uid());
        info.timestamp = now();
        info.unschedulable_plugins.clear();
        state.backoff.push(info);
    }

    /// A cluster change: the unschedulable pods it may help move to the
    /// backoff queue (or straight to the active one when their backoff
    /// is over).
    pub fn move_on(&self, change: &ClusterChange) {
        let mut state = self.lock();
        let moving: Vec<String> = state
            .unschedulable
            .iter()
            .filter(|(_, info)| !info.gated && self.helps(info, change))
            .map(|(uid, _)| uid.clone())
            .collect();
        state.move_request_cycle = Some(state.cycle);
        for uid in moving {
            if let Some(info) = state.unschedulable.remove(&uid) {
                self.requeue(&mut state, info);
            }
        }
    }

    /// Whether `change` may let the pod `info` fit: one of the plugins
    /// that rejected it registered the event and its hint agrees.
    fn helps(&self, info: &QueuedPodInfo, change: &ClusterChange) -> bool {
        let Some(by_plugin) = self.events.get(scheduler_name(&info.pod_info.pod)) else {
            return false;
        };
        if info.unschedulable_plugins.is_empty() && info.pending_plugins.is_empty() {
            // Rejected by no plugin in particular: any event may help.
            return true;
        }
        let rejectors = info
            .unschedulable_plugins
            .iter()
            .chain(&info.pending_plugins);
        rejectors.into_iter().any(|plugin| {
            by_plugin
                .get(plugin)
                .into_iter()
                .flatten()
                .any(|registered| {
                    registered.event.covers(&change.event)
                        && registered.hint.as_ref().is_none_or(|hint| {
                            hint(&info.pod_info.pod, change) == QueueingHint::Queue
                        })
                })
        })
    }

    fn requeue(&self, state: &mut State, info: QueuedPodInfo) {
        if self.backing_off(&info) {
            state.backoff.push(info);
        } else {
            state.active.push(info);
            self.wake.notify_one();
        }
    }

    fn backing_off(&self, info: &QueuedPodInfo) -> bool {
        let wait = backoff_duration(info.attempts, self.initial_backoff, self.max_backoff);
        info.timestamp + wait > now()
    }

    /// Moves pods whose backoff is over to the active queue, and those
    /// unschedulable for too long back too; run every second.
    pub fn flush(&self) {
        let mut state = self.lock();
        while let Some(first) = state.backoff.peek() {
            if self.backing_off(first) {
                break;
            }
            if let Some(info) = state.backoff.pop() {
                state.active.push(info);
                self.wake.notify_one();
            }
        }
        let now = now();
        let stale: Vec<String> = state
            .unschedulable
            .iter()
            .filter(|(_, info)| {
                !info.gated && now.duration_since(info.timestamp) > MAX_IN_UNSCHEDULABLE
            })
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in stale {
            if let Some(info) = state.unschedulable.remove(&uid) {
                self.requeue(&mut state, info);
            }
        }
    }

    /// Where the pod of `uid` is, if queued.
    pub fn place(&self, uid: &str) -> Option<Place> {
        let state = self.lock();
        if state.active.get(uid).is_some() {
            Some(Place::Active)
        } else if state.backoff.get(uid).is_some() {
            Some(Place::Backoff)
        } else if state.unschedulable.contains_key(uid) {
            Some(Place::Unschedulable)
        } else if state.in_flight.contains_key(uid) {
            Some(Place::InFlight)
        } else {
            None
        }
    }

    /// How many pods are active, backing off and unschedulable.
    pub fn lengths(&self) -> (usize, usize, usize) {
        let state = self.lock();
        (
            state.active.len(),
            state.backoff.len(),
            state.unschedulable.len(),
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A pod's backoff after `attempts` tries: the initial one doubled per
/// further try, at most `max`.
pub fn backoff_duration(attempts: u32, initial: Duration, max: Duration) -> Duration {
    let mut duration = initial;
    for _ in 1..attempts {
        duration = duration.saturating_mul(2);
        if duration >= max {
            return max;
        }
    }
    duration.min(max)
}

/// The profile a pod asks for (`default-scheduler` when unset).
pub fn scheduler_name(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.scheduler_name.as_deref())
        .unwrap_or(crate::config::DEFAULT_SCHEDULER_NAME)
}

fn uid(pod: &Pod) -> &str {
    pod.metadata.uid.as_deref().unwrap_or_default()
}

/// Whether an update changed what scheduling reads (not only status or
/// bookkeeping).
fn pod_changed(old: &Pod, new: &Pod) -> bool {
    old.spec != new.spec
        || old.metadata.labels != new.metadata.labels
        || old.metadata.annotations != new.metadata.annotations
}

#[cfg(test)]
mod tests;
