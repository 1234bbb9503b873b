//! The Redis 7.0 cluster bus wire codec.
pub mod message;
pub use message::*;
