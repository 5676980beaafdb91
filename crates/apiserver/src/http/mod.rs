//! The HTTP layer, on top: paths, request bodies, responses and content
//! negotiation ([`negotiation`]), and the handlers that turn requests into calls on the
//! layers below (the registry's subresources, the object layer, the watch
//! cache and the documents).

pub mod body;
pub mod deadline;
pub mod discovery_routes;
pub mod handlers;
pub mod negotiation;
pub mod path;
pub mod response;
