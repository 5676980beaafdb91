//! `PrioritySort`: the active queue's order, higher priority first and,
//! among equals, the pod that entered the queue first.

use std::sync::Arc;

use crate::framework::{Handle, Plugin, QueueSort, QueuedPodInfo};

/// The plugin's name in configurations.
pub const NAME: &str = "PrioritySort";

/// The plugin.
pub struct PrioritySort;

impl Plugin for PrioritySort {
    fn name(&self) -> &str {
        NAME
    }

    fn as_queue_sort(&self) -> Option<&dyn QueueSort> {
        Some(self)
    }
}

impl QueueSort for PrioritySort {
    fn less(&self, a: &QueuedPodInfo, b: &QueuedPodInfo) -> bool {
        let (pa, pb) = (a.pod_info.priority(), b.pod_info.priority());
        pa > pb || (pa == pb && a.timestamp < b.timestamp)
    }
}

/// Makes the plugin (it takes no arguments).
pub fn new(_args: Option<&serde_json::Value>, _handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    Ok(Arc::new(PrioritySort))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::framework::PodInfo;

    fn queued(priority: i32, at: Instant) -> QueuedPodInfo {
        let pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p"}, "spec": {"containers": [], "priority": priority},
        }))
        .expect("a pod");
        QueuedPodInfo::new(Arc::new(PodInfo::new(Arc::new(pod))), at)
    }

    #[test]
    fn higher_priority_first_then_earlier_arrival() {
        let now = Instant::now();
        let later = now + Duration::from_secs(1);
        let cases = [
            (queued(10, later), queued(1, now), true),
            (queued(1, now), queued(10, later), false),
            (queued(5, now), queued(5, later), true),
            (queued(5, later), queued(5, now), false),
        ];
        for (a, b, expected) in cases {
            assert_eq!(PrioritySort.less(&a, &b), expected);
        }
    }
}
