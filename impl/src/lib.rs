//! The clusterbus reference node: the Redis 7.0 cluster bus codec, a sans-IO
//! protocol core, its scheduler and nodes.conf persistence.
pub mod codec;
pub mod commands;
pub mod config;
pub mod core;
pub mod db;
pub mod durable;
pub mod rdb;
pub mod resp;
pub mod runtime;
pub mod scheduler;
pub mod sim;
pub mod slots;
pub mod splitmix;
