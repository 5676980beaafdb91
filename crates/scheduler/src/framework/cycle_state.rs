//! What plugins keep for one pod's scheduling cycle (computed once in
//! PreFilter or PreScore, read by Filter and Score on every node), keyed
//! by a name of the plugin's choosing. It is cloned when preemption tries
//! nodes with victims removed, so each value can be cloned as well.

use std::any::Any;

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
///
/// Values are kept in a short list rather than a hash map: a cycle holds a
/// dozen at most, and each Filter and Score call on every node reads one,
/// so a lookup is a comparison of the key's address before its bytes.
#[derive(Default)]
pub struct CycleState {
    data: Vec<(&'static str, Box<dyn StateData>)>,
    /// Per Filter plugin of the profile, in order: whether its PreFilter
    /// said Skip (computed once per cycle from the set above).
    pub(crate) filter_skip: Vec<bool>,
    /// The PreFilter plugins that narrowed the nodes, for the message of
    /// the nodes they left out.
    pub(crate) narrowing_plugins: Vec<String>,

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
        match self.position(key) {
            Some(i) => self.data[i].1 = Box::new(value),
            None => self.data.push((key, Box::new(value))),
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.data
            .iter()
            .position(|(k, _)| std::ptr::eq(*k, key) || *k == key)
    }

    /// The value under `key`, if it is a `T`.
    pub fn read<T: 'static>(&self, key: &'static str) -> Option<&T> {
        let i = self.position(key)?;
        self.data[i].1.as_ref().as_any().downcast_ref()
    }

    /// The value under `key` to change, if it is a `T`.
    pub fn read_mut<T: 'static>(&mut self, key: &'static str) -> Option<&mut T> {
        let i = self.position(key)?;
        self.data[i].1.as_mut().as_any_mut().downcast_mut()
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
            filter_skip: self.filter_skip.clone(),
            narrowing_plugins: self.narrowing_plugins.clone(),

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
