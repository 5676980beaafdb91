//! keelson's object model: the Kubernetes types every crate shares, and the
//! pure logic about them (no I/O): the resource registry and the list
//! semantics of every field, label and field selectors, resource
//! quantities, name and label validation, one strategy per kind (its
//! defaulting, validation, lifecycle rules, table printer, selectable fields
//! and protobuf message), and the API error that becomes a `Status` on the
//! wire.

pub use k8s_openapi;

pub mod conversion;
pub mod defaults;
pub mod error;
pub mod field_error;
pub mod field_path;
pub mod field_selector;
mod json;
pub mod label_selector;
mod label_selector_parse;
pub mod list_types;
pub mod printers;
pub mod quantity;
mod quote;
pub mod registry;
mod resources;
pub mod schemas;
mod selectable_fields;
pub mod strategic_merge;
pub mod strategy;
pub mod validate;
pub mod validation;
pub mod zero_values;

pub use error::{ApiError, StatusReason};
pub use field_error::{FieldError, FieldErrorKind};
pub use field_path::FieldPath;
pub use quantity::Quantity;
pub use registry::ResourceInfo;
