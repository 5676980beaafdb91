//! The Deployment controller's pure parts.
