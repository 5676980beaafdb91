//! The set of open connections: admission under the cap, and which idle
//! connection to close when room is needed (the one idle longest, so a
//! client that just connected and is about to send its request keeps its
//! connection).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use super::ConnectionLimits;
use super::activity::{Activity, Timeouts};

/// The open connections of one server.
#[derive(Debug)]
pub(super) struct Open {
    max: usize,
    timeouts: Timeouts,
    connections: Mutex<HashMap<u64, Arc<Activity>>>,
    next_id: AtomicU64,
    /// Told when the last connection closes.
    emptied: Notify,
}

/// An admitted connection's place in [`Open`]; dropping it frees the place.
#[derive(Debug)]
pub(super) struct Slot {
    open: Arc<Open>,
    id: u64,
    pub activity: Arc<Activity>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut connections = self.open.connections();
        connections.remove(&self.id);
        if connections.is_empty() {
            self.open.emptied.notify_waiters();
        }
    }
}

impl Open {
    pub(super) fn new(limits: &ConnectionLimits) -> Self {
        Self {
            max: limits.max_connections.max(1),
            timeouts: Timeouts {
                read_header: limits.read_header_timeout,
                idle: limits.idle_timeout,
            },
            connections: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            emptied: Notify::new(),
        }
    }

    fn connections(&self) -> MutexGuard<'_, HashMap<u64, Arc<Activity>>> {
        // A map of handles stays consistent even if a holder panicked.
        self.connections
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The headers' and idle deadlines of every connection.
    pub(super) fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// A place for a new connection: under the cap, or in place of the
    /// connection idle longest; `None` when every connection is busy.
    pub(super) fn admit(self: &Arc<Self>) -> Option<Slot> {
        let mut connections = self.connections();
        if connections.len() >= self.max && !make_room(&connections, self.max) {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let activity = Arc::new(Activity::new(self.timeouts));
        connections.insert(id, Arc::clone(&activity));
        Some(Slot {
            open: Arc::clone(self),
            id,
            activity,
        })
    }

    /// Closes the connection idle longest, if one is idle.
    pub(super) fn close_idlest(&self) -> bool {
        close_idlest(&self.connections())
    }

    /// Asks every connection to close (idle ones at once).
    pub(super) fn close_all(&self) {
        for activity in self.connections().values() {
            activity.close();
        }
    }

    /// Completes once no connection is open.
    pub(super) async fn emptied(&self) {
        loop {
            // Made before the check, so a notification after it counts.
            let emptied = self.emptied.notified();
            if self.connections().is_empty() {
                return;
            }
            emptied.await;
        }
    }
}

/// Closes the connection idle longest if `max` or more are open and not
/// already closing; false if there is no room and none is idle.
fn make_room(connections: &HashMap<u64, Arc<Activity>>, max: usize) -> bool {
    let staying = connections.values().filter(|a| !a.is_closing()).count();
    staying < max || close_idlest(connections)
}

fn close_idlest(connections: &HashMap<u64, Arc<Activity>>) -> bool {
    let idlest = connections
        .values()
        .filter_map(|activity| activity.idle_since().map(|since| (since, activity)))
        .min_by_key(|(since, _)| *since);
    match idlest {
        Some((_, activity)) => {
            activity.close();
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn open(max: usize) -> Arc<Open> {
        Arc::new(Open::new(&ConnectionLimits {
            max_connections: max,
            ..ConnectionLimits::default()
        }))
    }

    #[tokio::test(start_paused = true)]
    async fn at_the_cap_the_connection_idle_longest_makes_room() {
        let open = open(2);
        let oldest = open.admit().expect("under the cap");
        tokio::time::advance(Duration::from_secs(1)).await;
        let newer = open.admit().expect("under the cap");
        let third = open.admit().expect("room made by closing an idle one");
        assert!(oldest.activity.idle_since().is_none(), "asked to close");
        assert!(newer.activity.idle_since().is_some());
        assert!(third.activity.idle_since().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn when_every_connection_is_busy_there_is_no_room() {
        let open = open(1);
        let slot = open.admit().expect("under the cap");
        let busy = slot.activity.begin(false);
        assert!(open.admit().is_none());
        drop(busy);
        assert!(open.admit().is_some(), "idle again: it makes room");
    }

    #[tokio::test(start_paused = true)]
    async fn emptied_waits_for_the_last_connection() {
        let open = open(4);
        let slot = open.admit().expect("under the cap");
        let waiting = tokio::spawn({
            let open = Arc::clone(&open);
            async move { open.emptied().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(slot);
        waiting.await.expect("emptied completes");
    }
}
