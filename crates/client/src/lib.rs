//! What keelson's API clients (the controller manager, the scheduler, the
//! node agent) share, each part written once:
//!
//! - [`leader`]: one of several candidates elected on a Lease, as
//!   client-go's `leaderelection` does;
//! - [`events`]: `v1` Events recorded on the objects a component acts
//!   for, counted per distinct message.

pub mod events;
pub mod leader;
