//! keelson's process harness: the real programs a test, a benchmark or a
//! multi-process cluster starts as child processes, each with its own log
//! file, pid file and readiness polling, and killed when its handle is
//! dropped.
//!
//! - [`etcd`]: a single-member etcd on free loopback ports;
//! - [`keelson`]: a keelson component (`keelson up`, `keelson apiserver`, ...)
//!   from a given binary, on a free loopback address and its own data dir;
//! - [`kubectl`]: the real kubectl (and other short commands) run to the end
//!   with a timeout;
//! - [`net`]: free loopback addresses and the HTTP readiness probe;
//! - [`tls`]: TLS clients verifying a server with a CA file;
//! - [`usage`]: a process's memory and CPU time, from `/proc`.
//!
//! The harness depends on no keelson crate, so that any crate's tests can use
//! it without a dependency cycle.

pub mod etcd;
pub mod keelson;
pub mod kubectl;
mod launch;
pub mod net;
mod process;
pub mod tls;
pub mod usage;

pub use launch::Builder;
pub use process::ProcessError;
