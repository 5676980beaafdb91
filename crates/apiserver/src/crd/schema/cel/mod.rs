//! `x-kubernetes-validations`: CEL rules on a schema's levels.

mod field_path;

pub(crate) use field_path::field_path;
