//! The events controllers record on the objects they act for, with
//! upstream's reasons and messages, so that `kubectl describe` reads the
//! same; recorded as `events.k8s.io/v1` Events by kube-runtime's
//! [`Recorder`], under the controller's own name.

use kube::Resource;
use kube::runtime::events::{Event as Published, EventType as PublishedType, Recorder, Reporter};

/// Whether an event reports routine work or a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// `Normal`.
    Normal,
    /// `Warning`.
    Warning,
}

impl EventType {
    /// The event's `type` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "Normal",
            Self::Warning => "Warning",
        }
    }
}

/// One event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Normal or Warning.
    pub type_: EventType,
    /// The machine-readable reason.
    pub reason: &'static str,
    /// The human-readable message.
    pub message: String,
}

impl Event {
    /// An event of `type_` with `reason` and `message`.
    pub fn new(type_: EventType, reason: &'static str, message: String) -> Self {
        Self {
            type_,
            reason,
            message,
        }
    }
}

/// Records a controller's events.
#[derive(Clone)]
pub struct Events {
    recorder: Recorder,
}

impl Events {
    /// Events reported by `controller` (e.g. `replicaset-controller`),
    /// written with `client`.
    pub fn new(client: kube::Client, controller: &str) -> Self {
        let reporter = Reporter {
            controller: controller.to_string(),
            instance: None,
        };
        Self {
            recorder: Recorder::new(client, reporter),
        }
    }

    /// Records `event` about `object`; a failure to record is only logged,
    /// as upstream's recorder drops what it cannot write.
    pub async fn publish<K: Resource<DynamicType = ()>>(&self, object: &K, event: Event) {
        let published = Published {
            type_: match event.type_ {
                EventType::Normal => PublishedType::Normal,
                EventType::Warning => PublishedType::Warning,
            },
            reason: event.reason.to_string(),
            note: Some(event.message),
            action: event.reason.to_string(),
            secondary: None,
        };
        if let Err(err) = self
            .recorder
            .publish(&published, &object.object_ref(&()))
            .await
        {
            tracing::debug!(error = %err, "an event was not recorded");
        }
    }
}
