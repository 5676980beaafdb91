//! The ReplicaSet controller's pure parts.
