//! The built-in plugins, one module each, and the default profile that
//! lists them with upstream's weights (kube-scheduler v1.33's
//! `multiPoint` defaults). ImageLocality is left out: keelson's node
//! agents run no images, so there is nothing for it to score.

pub mod default_binder;
pub mod default_preemption;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_name;
pub mod node_ports;
pub mod node_resources;
pub mod node_unschedulable;
pub mod node_volume_limits;
pub mod pod_topology_spread;
pub mod priority_sort;
pub mod scheduling_gates;
pub mod taint_toleration;
pub mod volume_binding;
pub mod volume_restrictions;
pub mod volume_zone;

use std::sync::Arc;

use crate::framework::{Handle, Plugin, Registry};

/// A built-in plugin's constructor (its `new`).
type New = fn(Option<&serde_json::Value>, &Handle) -> Result<Arc<dyn Plugin>, String>;

/// The built-in plugins, in the default profile's order (upstream's),
/// with the weights of those that score (0: the plugin does not score, or
/// weighs 1), and how each is made.
const BUILT_INS: [(&str, i64, New); 17] = [
    (scheduling_gates::NAME, 0, scheduling_gates::new),
    (priority_sort::NAME, 0, priority_sort::new),
    (node_unschedulable::NAME, 0, node_unschedulable::new),
    (node_name::NAME, 0, node_name::new),
    (taint_toleration::NAME, 3, taint_toleration::new),
    (node_affinity::NAME, 2, node_affinity::new),
    (node_ports::NAME, 0, node_ports::new),
    (node_resources::fit::NAME, 1, node_resources::fit::new),
    (volume_restrictions::NAME, 0, volume_restrictions::new),
    (node_volume_limits::NAME, 0, node_volume_limits::new),
    (volume_binding::NAME, 0, volume_binding::new),
    (volume_zone::NAME, 0, volume_zone::new),
    (pod_topology_spread::NAME, 2, pod_topology_spread::new),
    (inter_pod_affinity::NAME, 2, inter_pod_affinity::new),
    (default_preemption::NAME, 0, default_preemption::new),
    (
        node_resources::balanced_allocation::NAME,
        1,
        node_resources::balanced_allocation::new,
    ),
    (default_binder::NAME, 0, default_binder::new),
];

/// The default profile's plugins, in upstream's order, with their weights.
pub fn default_plugins() -> impl Iterator<Item = (&'static str, i64)> {
    BUILT_INS.iter().map(|(name, weight, _)| (*name, *weight))
}

/// Every built-in plugin, by name.
pub fn in_tree() -> Registry {
    BUILT_INS
        .iter()
        .map(|(name, _, new)| {
            (
                name.to_string(),
                Arc::new(*new) as crate::framework::Factory,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_plugin_is_registered_under_its_own_name() {
        let registry = in_tree();
        let handle = crate::framework::Handle::offline(Default::default());
        for (name, _) in default_plugins() {
            let plugin = registry[name](None, &handle).expect("made with no arguments");
            assert_eq!(plugin.name(), name);
        }
        assert_eq!(registry.len(), default_plugins().count());
    }
}
