//! The plugins that weigh a pod's requests against a node's allocatable
//! resources: `NodeResourcesFit` (does it fit, and how full the node
//! gets) and `NodeResourcesBalancedAllocation` (how evenly).

pub mod balanced_allocation;
pub mod fit;
