//! Conversions between two served forms of the same objects, for the
//! resources whose objects another resource's store holds (see
//! [`crate::registry::StoredAs`]): pure functions from one form's JSON to
//! the other's, so the API server can store one form and serve both.

pub mod events;
pub mod hpa;
