//! One client watch as the cache sees it: a bounded queue of published
//! batches that the cache fills without ever waiting, and that the watch
//! drains as fast as its client reads.
//!
//! A watcher whose queue is full has fallen behind: the cache closes it,
//! as upstream's cacher terminates a watcher that does not keep up. Its
//! queue is dropped at once and its watch ends; the client watches again
//! from the last resourceVersion it saw (or lists again), as kube-rs and
//! client-go do. The queue holds shared batches, so it costs pointers,
//! and every watcher's queue holds the same recent events: however many
//! watchers lag, the events they keep alive are at most one buffer's
//! worth.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

use super::event::Batch;

/// The most events a watcher may have waiting.
pub const MAX_EVENTS: usize = 4096;
/// The most bytes of events (by their stored size) a watcher may have
/// waiting, so that large objects fill the buffer sooner.
pub const MAX_BYTES: usize = 16 << 20;

/// What became of an offered batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Offer {
    /// Queued for the watcher.
    Queued,
    /// The watcher's buffer was full: it is closed now.
    Overflowed,
    /// The watch had already ended.
    Gone,
}

#[derive(Default)]
struct Queue {
    batches: VecDeque<Batch>,
    events: usize,
    bytes: usize,
    closed: bool,
}

impl Queue {
    /// Whether `batch` fits. A batch alone always fits, so that one
    /// larger than the bounds still reaches a watcher that keeps up.
    fn fits(&self, batch: &Batch) -> bool {
        self.batches.is_empty()
            || (self.events + batch.len() <= MAX_EVENTS && self.bytes + batch.size() <= MAX_BYTES)
    }

    fn close(&mut self) {
        self.closed = true;
        self.batches = VecDeque::new();
        self.events = 0;
        self.bytes = 0;
    }
}

/// The queue both sides share.
#[derive(Default)]
pub(super) struct Shared {
    queue: Mutex<Queue>,
    changed: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `batch` without waiting; a watcher with no room is closed.
    pub(super) fn offer(&self, batch: &Batch) -> Offer {
        let mut queue = self.lock();
        if queue.closed {
            return Offer::Gone;
        }
        if !queue.fits(batch) {
            queue.close();
            drop(queue);
            self.changed.notify_one();
            return Offer::Overflowed;
        }
        queue.events += batch.len();
        queue.bytes += batch.size();
        queue.batches.push_back(Arc::clone(batch));
        drop(queue);
        self.changed.notify_one();
        Offer::Queued
    }

    /// Closes the watcher, whose watch then ends.
    pub(super) fn end(&self) {
        self.lock().close();
        self.changed.notify_one();
    }
}

/// The watch's end of a watcher; dropping it ends the watcher, which the
/// cache then forgets.
pub struct Receiver {
    shared: Arc<Shared>,
}

impl Receiver {
    /// A watcher and its receiving end.
    pub(super) fn new() -> (Arc<Shared>, Receiver) {
        let shared = Arc::new(Shared::default());
        let receiver = Receiver {
            shared: Arc::clone(&shared),
        };
        (shared, receiver)
    }

    /// The next batch waiting, if any.
    pub fn try_recv(&self) -> Option<Batch> {
        let mut queue = self.shared.lock();
        let batch = queue.batches.pop_front()?;
        queue.events -= batch.len();
        queue.bytes -= batch.size();
        Some(batch)
    }

    /// The next batch; `None` once the cache has closed the watcher.
    pub async fn recv(&self) -> Option<Batch> {
        loop {
            // Registered before looking, so that no wake-up is missed.
            let changed = self.shared.changed.notified();
            if let Some(batch) = self.try_recv() {
                return Some(batch);
            }
            if self.is_closed() {
                return None;
            }
            changed.await;
        }
    }

    /// Whether the cache has closed the watcher.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }

    /// Completes once the cache has closed the watcher.
    pub async fn closed(&self) {
        loop {
            let changed = self.shared.changed.notified();
            if self.is_closed() {
                return;
            }
            changed.await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shared.lock().close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::event::{CachedEvent, EventBatch};

    fn batch(events: usize, bytes_each: usize) -> Batch {
        let events = (0..events)
            .map(|i| {
                let event = keelson_store::Event {
                    kind: keelson_store::EventKind::Put,
                    kv: keelson_store::KeyValue {
                        key: format!("/k/{i}"),
                        value: bytes::Bytes::from(vec![b' '; bytes_each]),
                        create_revision: 1,
                        mod_revision: 1,
                        version: 1,
                    },
                    prev: None,
                };
                Arc::new(CachedEvent::new(&event, None, None))
            })
            .collect();
        Arc::new(EventBatch::new(events))
    }

    #[tokio::test]
    async fn batches_arrive_in_order() {
        let (shared, receiver) = Receiver::new();
        let (first, second) = (batch(1, 10), batch(2, 10));
        assert_eq!(shared.offer(&first), Offer::Queued);
        assert_eq!(shared.offer(&second), Offer::Queued);
        assert!(Arc::ptr_eq(
            &receiver.recv().await.expect("a batch"),
            &first
        ));
        assert!(Arc::ptr_eq(
            &receiver.recv().await.expect("a batch"),
            &second
        ));
        assert!(receiver.try_recv().is_none());
    }

    #[tokio::test]
    async fn a_full_buffer_closes_the_watcher_and_drops_its_events() {
        let (shared, receiver) = Receiver::new();
        let mut offered = 0;
        let step = batch(256, 10);
        while shared.offer(&step) == Offer::Queued {
            offered += step.len();
        }
        assert_eq!(offered, MAX_EVENTS);
        assert!(receiver.is_closed());
        assert!(
            receiver.recv().await.is_none(),
            "nothing is delivered after"
        );
        assert_eq!(Arc::strong_count(&step), 1, "the queued batches are let go");
        assert_eq!(shared.offer(&step), Offer::Gone);
    }

    #[tokio::test]
    async fn large_events_fill_the_buffer_by_size() {
        let (shared, receiver) = Receiver::new();
        let big = batch(1, 4 << 20);
        let offers: Vec<Offer> = (0..5).map(|_| shared.offer(&big)).collect();
        assert_eq!(offers[..3], [Offer::Queued; 3]);
        assert_eq!(offers[4], Offer::Gone);
        assert!(receiver.is_closed());
        // One batch larger than the whole buffer still goes to a watcher
        // that keeps up.
        let (shared, receiver) = Receiver::new();
        assert_eq!(shared.offer(&batch(1, 32 << 20)), Offer::Queued);
        assert!(receiver.try_recv().is_some());
    }

    #[tokio::test]
    async fn a_dropped_receiver_is_gone_and_a_waiting_one_hears_the_close() {
        let (shared, receiver) = Receiver::new();
        drop(receiver);
        assert_eq!(shared.offer(&batch(1, 1)), Offer::Gone);

        let (shared, receiver) = Receiver::new();
        let waiting = tokio::spawn(async move {
            receiver.closed().await;
            receiver.recv().await.is_none()
        });
        tokio::task::yield_now().await;
        let full = batch(MAX_EVENTS, 1);
        assert_eq!(shared.offer(&full), Offer::Queued);
        assert_eq!(shared.offer(&batch(1, 1)), Offer::Overflowed);
        assert!(waiting.await.expect("the waiter ends"));
    }
}
