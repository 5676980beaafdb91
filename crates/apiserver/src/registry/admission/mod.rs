//! Admission: the steps every write passes before it is stored, behind
//! the object layer's [`Admission`] seam, listed in one place in
//! upstream's order ([`chain`]).

mod namespace_lifecycle;

use std::sync::Arc;

use crate::objects::admission::Admission;

pub use namespace_lifecycle::NamespaceLifecycle;

/// The admission steps of a keelson API server, in order.
pub fn chain() -> Vec<Arc<dyn Admission>> {
    vec![Arc::new(NamespaceLifecycle)]
}
