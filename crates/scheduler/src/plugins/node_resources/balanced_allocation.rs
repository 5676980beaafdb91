//! The `NodeResourcesBalancedAllocation` plugin (not written yet: it takes part in no extension
//! point).

use std::sync::Arc;

use crate::framework::{Handle, Plugin};

/// The plugin's name in configurations.
pub const NAME: &str = "NodeResourcesBalancedAllocation";

/// The plugin.
pub struct NodeResourcesBalancedAllocation;

impl Plugin for NodeResourcesBalancedAllocation {
    fn name(&self) -> &str {
        NAME
    }
}

/// Makes the plugin from its arguments.
pub fn new(_args: Option<&serde_json::Value>, _handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    Ok(Arc::new(NodeResourcesBalancedAllocation))
}
