//! The runtime's randomness: what Redis draws with `random()` (gossip
//! picks, ping samples, election jitter) and with `getRandomHexChars` (node
//! ids). The core draws nothing; the runtime draws here and passes the
//! result in with each event.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::splitmix::SplitMix64;

/// The crate's splitmix64, seeded from the OS when possible. Nothing it
/// draws needs to be secret: Redis uses `random()` for the same choices.
#[derive(Clone, Debug)]
pub struct Entropy {
    rng: SplitMix64,
}

impl Entropy {
    /// Seeded from /dev/urandom, or from the clock and pid when that fails.
    pub fn from_os() -> Entropy {
        let mut seed = [0u8; 8];
        let from_urandom = std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut seed))
            .is_ok();
        let state = if from_urandom {
            u64::from_le_bytes(seed)
        } else {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            nanos ^ ((std::process::id() as u64) << 32)
        };
        Entropy::seeded(state)
    }

    /// A generator with a fixed seed, for tests.
    pub fn seeded(seed: u64) -> Entropy {
        Entropy {
            rng: SplitMix64::new(seed),
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// A number in `0..n` (`n > 0`), as `random() % n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.rng.below(n)
    }

    /// 40 random hex characters: a new node id or run id.
    pub fn hex_id(&mut self) -> String {
        let seed: Vec<u8> = (0..4).flat_map(|_| self.next_u64().to_le_bytes()).collect();
        crate::slots::new_node_id(&seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_valid_and_differ() {
        let mut e = Entropy::seeded(7);
        let (a, b) = (e.hex_id(), e.hex_id());
        assert!(crate::slots::is_valid_node_id(&a));
        assert_ne!(a, b);
        assert!((0..1000).all(|_| e.below(500) < 500));
    }
}
