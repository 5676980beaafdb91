//! The garbage collector, as upstream's `pkg/controller/garbagecollector`
//! behaves: an object whose owners are all gone is deleted, and an owner
//! deleted in the foreground or with orphaning has its dependents dealt
//! with before its finalizer goes.
//!
//! - [`graph`]: the ownerReference graph built from metadata-only watches
//!   of every deletable kind, with virtual nodes for owners not yet seen;
//! - [`decide`]: the pure decisions of one item: its owner references
//!   classified as solid, dangling (absent, or another uid under the name)
//!   or waiting for their dependents' deletion, and what follows: keep it,
//!   remove only the dangling and waiting references when some owner
//!   lives, or delete it (in the foreground when a waiting owner waits on
//!   it and it has dependents of its own); an owner deleting in the
//!   foreground loses `foregroundDeletion` when no dependent with
//!   `blockOwnerDeletion: true` is left; an owner with `orphan` has its
//!   references stripped from its dependents before the finalizer goes;
//! - [`queue`]: the work queue with backoff;
//! - the loop (discovery, watches, workers) behind [`run`].
//!
//! Owner references carry no namespace: an owner is looked for in its
//! dependent's namespace (cluster-scoped kinds: nowhere in particular), so
//! an owner in another namespace is absent. A dependent that names an
//! owner observed in another namespace gets upstream's
//! `OwnerRefInvalidNamespace` warning event; a cluster-scoped dependent
//! naming a namespaced kind is left alone, as upstream leaves it.

pub mod decide;
pub mod graph;
pub mod queue;
mod run;
mod work;

pub use run::{DISCOVERY_EVERY, observed};

#[cfg(test)]
mod tests;

/// Runs the garbage collector until the future is dropped: watches with
/// `reader`, looks up, patches and deletes with `writer`.
pub async fn run(reader: kube::Client, writer: kube::Client) {
    run::run(reader, writer).await;
}
