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

static PRINTER: Printer = Printer::new(printers::core::NAMESPACE, printers::core::namespace);

/// core/v1 Namespace.
pub(crate) struct NamespaceStrategy;
pub(crate) static NAMESPACE: NamespaceStrategy = NamespaceStrategy;

impl Strategy for NamespaceStrategy {
    fn protobuf(&self) -> Option<Message> {
        Some(message!(api::core::v1::Namespace))
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
        let spec = object.get("spec").unwrap_or(&Value::Null);
        let names = crate::json::list_of(spec, "finalizers").iter();
        names.filter_map(Value::as_str).map(String::from).collect()
    }

    fn begin_deletion(&self, object: &mut Value) {
        object["status"]["phase"] = Value::from("Terminating");
    }

    fn returns_deleted_object(&self) -> bool {
        true
    }

    fn printer(&self) -> Option<&'static Printer> {
        Some(&PRINTER)
    }

    fn selectable_fields(&self) -> &'static SelectableFields {
        &FIELDS
    }
}
