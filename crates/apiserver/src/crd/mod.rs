//! CustomResourceDefinitions: what the API server needs to serve the kinds
//! they define, starting with their schemas.

pub mod schema;
