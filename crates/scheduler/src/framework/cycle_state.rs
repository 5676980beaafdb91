//! What plugins keep for one pod's scheduling cycle (computed once in
//! PreFilter or PreScore, read by Filter and Score on every node), keyed
//! by a name of the plugin's choosing. It is cloned when preemption tries
//! nodes with victims removed, so each value can be cloned as well.

use std::any::Any;
use std::collections::HashMap;

/// A value a plugin keeps in the cycle state: any `Clone` type is one.
pub trait StateData: Any + Send + Sync {
    fn clone_data(&self) -> Box<dyn StateData>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Any + Clone + Send + Sync> StateData for T {
    fn clone_data(&self) -> Box<dyn StateData> {
        Box::new(self.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// One scheduling cycle's plugin state.
#[derive(Default)]
pub struct CycleState {
    data: HashMap<&'static str, Box<dyn StateData>>,
    /// The plugins whose PreFilter said Skip: their Filter is not run.
    pub skip_filter_plugins: std::collections::BTreeSet<String>,
    /// The plugins whose PreScore said Skip: their Score is not run.
    pub skip_score_plugins: std::collections::BTreeSet<String>,
}

impl CycleState {
    pub fn new() -> CycleState {
        CycleState::default()
    }

    /// Keeps `value` under `key`, replacing what was there.
    pub fn write<T: StateData>(&mut self, key: &'static str, value: T) {
        self.data.insert(key, Box::new(value));
    }

    /// The value under `key`, if it is a `T`.
    pub fn read<T: 'static>(&self, key: &'static str) -> Option<&T> {
        self.data
            .get(key)
            .and_then(|value| value.as_ref().as_any().downcast_ref())
    }

    /// The value under `key` to change, if it is a `T`.
    pub fn read_mut<T: 'static>(&mut self, key: &'static str) -> Option<&mut T> {
        self.data
            .get_mut(key)
            .and_then(|value| value.as_mut().as_any_mut().downcast_mut())
    }
}

impl Clone for CycleState {
    fn clone(&self) -> CycleState {
        CycleState {
            data: self
                .data
                .iter()
                .map(|(key, value)| (*key, value.as_ref().clone_data()))
                .collect(),
            skip_filter_plugins: self.skip_filter_plugins.clone(),
            skip_score_plugins: self.skip_score_plugins.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_changes_apart_from_its_original() {
        let mut state = CycleState::new();
        state.write("count", 1_u32);
        let mut copy = state.clone();
        *copy.read_mut::<u32>("count").expect("written") += 1;
        assert_eq!(state.read::<u32>("count"), Some(&1));
        assert_eq!(copy.read::<u32>("count"), Some(&2));
        assert_eq!(copy.read::<String>("count"), None);
    }
}
