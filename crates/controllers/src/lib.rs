//! keelson's controllers, as a library: the built-in controllers of
//! upstream's kube-controller-manager, the framework they are written
//! with, and the manager that runs them (and a user's own) in a program.
//!
//! Each controller's decision is a pure function, `reconcile(desired,
//! observed, now) -> Plan`: no I/O, no clock, no randomness, so that it is
//! table-tested on its own; its loop, written with [`framework`] (shared
//! caches, a queue of keys, backoff, events), reads the caches, runs the
//! decision and carries out the plan as an API client.
//!
//! - [`replicaset`]: ReplicaSets and ReplicationControllers (claiming,
//!   slow-start creates, deletion order, status, expectations);
//! - [`deployment`]: rollouts (maxSurge and maxUnavailable as upstream
//!   rounds them, the pod-template hash, revisions, proportional scaling,
//!   the conditions);
//! - [`garbagecollector`]: objects whose owners are gone deleted, as
//!   upstream's garbage collector does (background, foreground, orphan);
//! - [`namespace`]: a deleted namespace's content deleted, its conditions
//!   kept, and its `kubernetes` finalizer taken out once nothing is left;
//! - [`namespaced`]: what every namespace holds (its `default`
//!   ServiceAccount and the `kube-root-ca.crt` ConfigMap);
//! - [`certificates`]: the signers of approved CertificateSigningRequests
//!   and the cleaner of old ones;
//! - [`pods`]: what the controllers read of pods;
//! - [`manager`]: the [`manager::ControllerManager`], running the
//!   built-ins [`selection`] chooses (upstream's `--controllers`) and a
//!   user's own; [`leader`] elects one of several managers on a Lease.

pub mod certificates;
pub mod deployment;
pub mod framework;
pub mod garbagecollector;
pub mod manager;
pub mod namespace;
pub mod namespaced;
pub mod pods;
pub mod replicaset;
pub mod selection;

/// Leader election on a Lease, shared with keelson's other components.
pub use keelson_client::leader;
