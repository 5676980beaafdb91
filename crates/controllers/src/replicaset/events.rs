//! The events the ReplicaSet loop records on the ReplicaSet, with
//! upstream's reasons and messages, so that `kubectl describe rs` reads the
//! same.

pub use crate::framework::{Event, EventType};

/// A pod was created (`pod` is the name the API server gave it).
pub fn created(pod: &str) -> Event {
    Event::new(
        EventType::Normal,
        "SuccessfulCreate",
        format!("Created pod: {pod}"),
    )
}

/// A pod was deleted.
pub fn deleted(pod: &str) -> Event {
    Event::new(
        EventType::Normal,
        "SuccessfulDelete",
        format!("Deleted pod: {pod}"),
    )
}

/// A create failed. Upstream records none when the failure is that the
/// namespace is terminating (a `NamespaceTerminating` status cause),
/// and counts that create as done.
pub fn failed_create(error: &str) -> Event {
    Event::new(
        EventType::Warning,
        "FailedCreate",
        format!("Error creating: {error}"),
    )
}

/// A delete failed. A pod already gone (404) is neither a failure nor
/// an event.
pub fn failed_delete(error: &str) -> Event {
    Event::new(
        EventType::Warning,
        "FailedDelete",
        format!("Error deleting: {error}"),
    )
}
