//! events.k8s.io/v1 Events: the core Events under the new API's field
//! names (see [`crate::conversion::events`]). They are stored as core
//! Events, print the core Event table, and select by the fields upstream
//! maps onto the core ones.

use serde_json::Value;

use super::kind_strategy;
use crate::conversion::events::to_core;
use crate::field_selector::{NAME, NAMESPACE, SelectableFields, text};
use crate::printers::{self, Row};

/// The core Event table's row, of the event's core form.
fn row(event: &Value, now: jiff::Timestamp) -> Option<Row> {
    printers::core::event(&to_core(event), now)
}

kind_strategy! {
    /// events.k8s.io/v1 Event.
    EventsEventStrategy, EVENTS_EVENT, api::events::v1::Event {
        validate: crate::validate::events::event,
        printer: (printers::core::EVENT, row),
        fields: SelectableFields::core(&[
            NAME,
            NAMESPACE,
            text("regarding.kind", &["regarding", "kind"]),
            text("regarding.namespace", &["regarding", "namespace"]),
            text("regarding.name", &["regarding", "name"]),
            text("regarding.uid", &["regarding", "uid"]),
            text("regarding.apiVersion", &["regarding", "apiVersion"]),
            text("regarding.resourceVersion", &["regarding", "resourceVersion"]),
            text("regarding.fieldPath", &["regarding", "fieldPath"]),
            text("reason", &["reason"]),
            text("reportingController", &["reportingController"]),
            text("type", &["type"]),
        ]),
    }
}
