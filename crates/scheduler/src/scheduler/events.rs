//! The scheduler's events go through a bounded queue, written by a task of
//! their own, as client-go's event broadcaster sends them: an event never
//! holds up scheduling or binding, and when more come than the API server
//! takes (a burst of thousands of bindings), those beyond the queue's
//! 1,000 are dropped, as upstream's broadcaster drops them, rather than
//! slowing the bindings they report.

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use keelson_api::k8s_openapi::api::core::v1::Pod;
use keelson_client::events::{Event, Events};
use tokio::sync::mpsc;

/// How many events wait at most (upstream's `maxQueuedEvents`).
const QUEUED: usize = 1000;
/// How many are written at once.
const WRITERS: usize = 8;

type Queued = (Arc<Pod>, Event);

pub(super) struct EventQueue {
    events: Events,
    sender: mpsc::Sender<Queued>,
    receiver: Mutex<Option<mpsc::Receiver<Queued>>>,
}

impl EventQueue {
    pub(super) fn new(events: Events) -> EventQueue {
        let (sender, receiver) = mpsc::channel(QUEUED);
        EventQueue {
            events,
            sender,
            receiver: Mutex::new(Some(receiver)),
        }
    }

    /// Queues `event` about `pod`; dropped if the queue is full.
    pub(super) fn record(&self, pod: Arc<Pod>, event: Event) {
        if self.sender.try_send((pod, event)).is_err() {
            tracing::debug!("the event queue is full: an event was dropped");
        }
    }

    /// Starts writing the queued events (once).
    pub(super) fn start(&self) -> tokio::task::JoinHandle<()> {
        let receiver = self
            .receiver
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let events = self.events.clone();
        tokio::spawn(async move {
            let Some(receiver) = receiver else { return };
            let queued = futures::stream::unfold(receiver, |mut r| async move {
                r.recv().await.map(|item| (item, r))
            });
            queued
                .for_each_concurrent(WRITERS, |(pod, event)| {
                    let events = events.clone();
                    async move { events.publish(pod.as_ref(), event).await }
                })
                .await;
        })
    }
}
