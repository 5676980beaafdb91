//! The `PodTopologySpread` plugin (not written yet: it takes part in no extension
//! point).

use std::sync::Arc;

use crate::framework::{Handle, Plugin};

/// The plugin's name in configurations.
pub const NAME: &str = "PodTopologySpread";

/// The plugin.
pub struct PodTopologySpread;

impl Plugin for PodTopologySpread {
    fn name(&self) -> &str {
        NAME
    }
}

/// Makes the plugin from its arguments.
pub fn new(_args: Option<&serde_json::Value>, _handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    Ok(Arc::new(PodTopologySpread))
}
