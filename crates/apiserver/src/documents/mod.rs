//! The documents the server describes itself with, built from the
//! registry alone: discovery, OpenAPI, and the tables of `kubectl get`.

pub mod discovery;
pub mod openapi;
pub mod table;
