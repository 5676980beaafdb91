//! Fields of objects, below the object layer: managedFields and the
//! server-side apply engine that merges configurations along a kind's
//! schema ([`managed`], [`apply`]), and the other patch types ([`patch`]).
//! Nothing here reads or writes the store.

pub mod apply;
pub mod managed;
pub mod patch;
