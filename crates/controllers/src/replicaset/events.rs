//! The events the ReplicaSet loop records on the ReplicaSet, with
//! upstream's reasons and messages, so that `kubectl describe rs` reads the
//! same.

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

/// One event to record on the ReplicaSet.
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
    /// A pod was created (`pod` is the name the API server gave it).
    pub fn created(pod: &str) -> Self {
        Self::new(
            EventType::Normal,
            "SuccessfulCreate",
            format!("Created pod: {pod}"),
        )
    }

    /// A pod was deleted.
    pub fn deleted(pod: &str) -> Self {
        Self::new(
            EventType::Normal,
            "SuccessfulDelete",
            format!("Deleted pod: {pod}"),
        )
    }

    /// A create failed. Upstream records none when the failure is that the
    /// namespace is terminating (a `NamespaceTerminating` status cause),
    /// and counts that create as done.
    pub fn failed_create(error: &str) -> Self {
        Self::new(
            EventType::Warning,
            "FailedCreate",
            format!("Error creating: {error}"),
        )
    }

    /// A delete failed. A pod already gone (404) is neither a failure nor
    /// an event.
    pub fn failed_delete(error: &str) -> Self {
        Self::new(
            EventType::Warning,
            "FailedDelete",
            format!("Error deleting: {error}"),
        )
    }

    fn new(type_: EventType, reason: &'static str, message: String) -> Self {
        Self {
            type_,
            reason,
            message,
        }
    }
}
