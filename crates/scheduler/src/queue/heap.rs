//! A binary heap of queued pods keyed by uid, ordered by a comparison
//! given at run time (the profile's QueueSort, or backoff expiry), so a
//! pod can be found, updated or removed in it by uid, as upstream's
//! `heap.Heap`. `std`'s `BinaryHeap` orders by `Ord` only and cannot
//! remove an element in the middle; hence this one.

use std::collections::HashMap;

use crate::framework::QueuedPodInfo;

/// Whether the first comes out before the second.
pub type Less = Box<dyn Fn(&QueuedPodInfo, &QueuedPodInfo) -> bool + Send + Sync>;

pub struct Heap {
    items: Vec<QueuedPodInfo>,
    index: HashMap<String, usize>,
    less: Less,
}

impl Heap {
    pub fn new(less: Less) -> Heap {
        Heap {
            items: Vec::new(),
            index: HashMap::new(),
            less,
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn get(&self, uid: &str) -> Option<&QueuedPodInfo> {
        self.index.get(uid).map(|&i| &self.items[i])
    }

    /// Adds `pod`, or replaces the pod of its uid and moves it into place.
    pub fn push(&mut self, pod: QueuedPodInfo) {
        let uid = pod.pod_info.uid().to_string();
        if let Some(&i) = self.index.get(&uid) {
            self.items[i] = pod;
            self.fix(i);
            return;
        }
        self.items.push(pod);
        let last = self.items.len() - 1;
        self.index.insert(uid, last);
        self.up(last);
    }

    /// The first pod, if any, without taking it.
    pub fn peek(&self) -> Option<&QueuedPodInfo> {
        self.items.first()
    }

    /// Takes the first pod out.
    pub fn pop(&mut self) -> Option<QueuedPodInfo> {
        if self.items.is_empty() {
            return None;
        }
        self.remove_at(0)
    }

    /// Takes the pod of `uid` out.
    pub fn remove(&mut self, uid: &str) -> Option<QueuedPodInfo> {
        let i = *self.index.get(uid)?;
        self.remove_at(i)
    }

    fn remove_at(&mut self, i: usize) -> Option<QueuedPodInfo> {
        let last = self.items.len() - 1;
        self.swap(i, last);
        let pod = self.items.pop()?;
        self.index.remove(pod.pod_info.uid());
        if i < self.items.len() {
            self.fix(i);
        }
        Some(pod)
    }

    fn fix(&mut self, i: usize) {
        if !self.down(i) {
            self.up(i);
        }
    }

    fn up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if !(self.less)(&self.items[i], &self.items[parent]) {
                break;
            }
            self.swap(i, parent);
            i = parent;
        }
    }

    /// Whether the element moved.
    fn down(&mut self, start: usize) -> bool {
        let mut i = start;
        loop {
            let left = 2 * i + 1;
            if left >= self.items.len() {
                break;
            }
            let right = left + 1;
            let mut child = left;
            if right < self.items.len() && (self.less)(&self.items[right], &self.items[left]) {
                child = right;
            }
            if !(self.less)(&self.items[child], &self.items[i]) {
                break;
            }
            self.swap(i, child);
            i = child;
        }
        i > start
    }

    fn swap(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        self.items.swap(a, b);
        for i in [a, b] {
            let uid = self.items[i].pod_info.uid().to_string();
            self.index.insert(uid, i);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Instant;

    use super::*;
    use crate::framework::PodInfo;

    fn pod(uid: &str, priority: i32) -> QueuedPodInfo {
        let pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": uid, "uid": uid},
            "spec": {"containers": [], "priority": priority},
        }))
        .expect("a pod");
        QueuedPodInfo::new(Arc::new(PodInfo::new(Arc::new(pod))), Instant::now())
    }

    #[test]
    fn pods_come_out_in_order_after_updates_and_removals() {
        let mut heap = Heap::new(Box::new(|a, b| {
            a.pod_info.priority() > b.pod_info.priority()
        }));
        for (i, priority) in [5, 1, 9, 3, 7, 2].into_iter().enumerate() {
            heap.push(pod(&format!("p{i}"), priority));
        }
        heap.push(pod("p1", 8)); // 1 -> 8
        assert!(heap.remove("p2").is_some()); // the 9
        assert!(heap.remove("p2").is_none());
        let order: Vec<i32> = std::iter::from_fn(|| heap.pop())
            .map(|p| p.pod_info.priority())
            .collect();
        assert_eq!(order, vec![8, 7, 5, 3, 2]);
    }
}
