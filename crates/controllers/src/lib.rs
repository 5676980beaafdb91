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
//! [`namespace`] is the Namespace controller: a deleted namespace's
//! content deleted, its conditions kept, and its `kubernetes` finalizer
//! taken out once nothing is left.
//! [`manager`] runs the controllers that are complete as API clients.

pub mod certificates;
pub mod deployment;
pub mod manager;
pub mod namespace;
pub mod namespaced;
pub mod pods;
pub mod replicaset;
