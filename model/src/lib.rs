//! The clusterbus model.
