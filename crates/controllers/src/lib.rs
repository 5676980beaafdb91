//! keelson's controllers. Each controller's decision is a pure function,
//! `reconcile(desired, observed, now) -> Plan`: no I/O, no clock, no
//! randomness, so that it is table-tested on its own; the loop that reads
//! the cluster, runs the decisions and carries out their plans is apart
//! from them.
//!
//! What is here so far: the pure parts of the ReplicaSet controller
//! ([`replicaset`]: how many pods to create or delete, which pods go first,
//! the status) and the Deployment controller's rollout arithmetic
//! ([`deployment`]: maxSurge and maxUnavailable resolved as upstream rounds
//! them, the pod-template hash, revisions), and the signer of approved
//! CertificateSigningRequests ([`certificates`]), and what every namespace
//! holds ([`namespaced`]: its `default` ServiceAccount and the
//! `kube-root-ca.crt` ConfigMap); [`pods`] holds what they read of pods.
//! [`garbagecollector`] deletes objects whose owners are gone, as
//! upstream's garbage collector does (background, foreground, orphan).
//! [`manager`] runs the controllers that are complete as API clients,
//! those [`selection`] chooses (upstream's `--controllers`); [`leader`]
//! elects one of several managers on a Lease.

pub mod certificates;
pub mod deployment;
pub mod framework;
pub mod garbagecollector;
pub mod leader;
pub mod manager;
pub mod namespaced;
pub mod pods;
pub mod replicaset;
pub mod selection;
