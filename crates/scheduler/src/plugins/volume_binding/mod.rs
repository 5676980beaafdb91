//! The `VolumeBinding` plugin (not written yet: it takes part in no extension
//! point).

use std::sync::Arc;

use crate::framework::{Handle, Plugin};

/// The plugin's name in configurations.
pub const NAME: &str = "VolumeBinding";

/// The plugin.
pub struct VolumeBinding;

impl Plugin for VolumeBinding {
    fn name(&self) -> &str {
        NAME
    }
}

/// Makes the plugin from its arguments.
pub fn new(_args: Option<&serde_json::Value>, _handle: &Handle) -> Result<Arc<dyn Plugin>, String> {
    Ok(Arc::new(VolumeBinding))
}

pub(crate) mod claims;
#[cfg(test)]
pub(crate) mod test_support;
