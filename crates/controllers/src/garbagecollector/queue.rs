//! The collector's work queue, as client-go's rate-limited work queue
//! behaves: an item is queued once however often it is added, is never
//! worked on by two workers at once (added while in work, it is queued
//! again when that work is done), and a failed item comes back after a
//! backoff that doubles with each failure until it succeeds.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

/// One piece of work: a uid to attempt to delete, or an owner whose
/// dependents are to be orphaned.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Work {
    /// Upstream's `attemptToDelete`.
    Delete(String),
    /// Upstream's `attemptToOrphan`.
    Orphan(String),
}

/// The first backoff, and the longest.
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

#[derive(Default)]
struct State {
    ready: VecDeque<Work>,
    queued: HashSet<Work>,
    working: HashSet<Work>,
    dirty: HashSet<Work>,
    failures: HashMap<Work, u32>,
}

/// The queue; cheap to share behind an `Arc`.
#[derive(Default)]
pub struct Queue {
    state: Mutex<State>,
    wake: Notify,
}

impl Queue {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the sets half
        // changed in a way that matters: take the state as it is.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `work` unless it is queued already.
    pub fn add(&self, work: Work) {
        let mut state = self.state();
        if state.working.contains(&work) {
            state.dirty.insert(work);
            return;
        }
        if state.queued.insert(work.clone()) {
            state.ready.push_back(work);
            self.wake.notify_one();
        }
    }

    /// The next piece of work, waiting for one.
    pub async fn next(&self) -> Work {
        loop {
            {
                let mut state = self.state();
                if let Some(work) = state.ready.pop_front() {
                    state.queued.remove(&work);
                    state.working.insert(work.clone());
                    return work;
                }
            }
            self.wake.notified().await;
        }
    }

    /// Work finished; `failed` brings it back after a backoff.
    pub fn done(self: &Arc<Self>, work: Work, failed: bool) {
        let delay = {
            let mut state = self.state();
            state.working.remove(&work);
            let again = state.dirty.remove(&work);
            if !failed {
                state.failures.remove(&work);
            }
            if again {
                drop(state);
                self.add(work.clone());
                return;
            }
            if !failed {
                return;
            }
            let failures = state.failures.entry(work.clone()).or_insert(0);
            *failures = failures.saturating_add(1);
            backoff(*failures)
        };
        let queue = Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Some(queue) = queue.upgrade() {
                queue.add(work);
            }
        });
    }
}

/// The wait after `failures` failures in a row.
pub fn backoff(failures: u32) -> Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1));
    FIRST_BACKOFF.saturating_mul(factor).min(MAX_BACKOFF)
}
