//! Namespaces: names that are DNS labels, the `kubernetes` finalizer in
//! `spec.finalizers` that holds a deleted namespace until its content is
//! gone (only `namespaces/NAME/finalize` changes it), and the `Terminating`
//! phase once deletion starts.

use serde_json::Value;

use super::{Message, NameRule, Strategy, protobuf::message};
use crate::field_error::FieldError;
use crate::field_selector::{NAME, SelectableFields, text};
use crate::printers::{self, Printer};

const FIELDS: SelectableFields =
    SelectableFields::core(&[NAME, text("status.phase", &["status", "phase"])]);

const PRINTER: Printer = Printer::new(printers::core::NAMESPACE, printers::core::namespace);

/// core/v1 Namespace.
pub(crate) struct NamespaceStrategy;
pub(crate) static NAMESPACE: NamespaceStrategy = NamespaceStrategy;

impl Strategy for NamespaceStrategy {
    fn protobuf(&self) -> Message {
        message!(api::core::v1::Namespace)
    }

    fn name_rule(&self) -> NameRule {
        NameRule::Label
    }

    fn defaults(&self, object: &mut Value) {
        crate::defaults::core::namespace(object);
    }

    fn validate(&self, object: &Value, _old: Option<&Value>) -> Vec<FieldError> {
        crate::validate::core::namespace(object)
    }

    fn deletion_holders(&self, object: &Value) -> Vec<String> {
        object
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|f| f.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn begin_deletion(&self, object: &mut Value) {
        object["status"]["phase"] = Value::from("Terminating");
    }

    fn printer(&self) -> Option<&'static Printer> {
        Some(&PRINTER)
    }

    fn selectable_fields(&self) -> &'static SelectableFields {
        &FIELDS
    }
}
