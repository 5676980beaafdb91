//! The plugins that weigh a pod's requests against a node's allocatable
//! resources: `NodeResourcesFit` (does it fit, and how full the node
//! gets) and `NodeResourcesBalancedAllocation` (how evenly). Their
//! arguments and the scorers they share live beside them.

pub mod args;
pub mod balanced_allocation;
pub mod fit;
pub mod scoring;

#[cfg(test)]
mod test_support;
