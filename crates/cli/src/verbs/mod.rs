//! The kubectl-like verbs of `keelson` (`apply`, `get`, `delete`, `patch`): API
//! clients built on kube-rs that print what kubectl prints.
//!
//! Each verb is one module with a clap `*Args` and an async `run`; the
//! pieces they share are the connection ([`session`]), resource discovery
//! ([`catalog`]), raw REST calls ([`rest`]), manifest files ([`manifest`])
//! and the printers ([`table`], [`output`]).

pub mod apply;
mod catalog;
pub mod delete;
mod error;
pub mod get;
mod manifest;
mod merge;
mod output;
pub mod patch;
mod rest;
mod session;
mod strategic;
mod table;

pub use error::{Error, exit};
pub use session::ClientArgs;
