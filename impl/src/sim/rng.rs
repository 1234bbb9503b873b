//! The simulator's own deterministic PRNG (splitmix64): every random choice
//! of a simulated run comes from one seed.

pub use crate::splitmix::SplitMix64 as SimRng;
