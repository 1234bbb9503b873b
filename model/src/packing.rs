//! Hashing a state as a few machine words. The checker fingerprints every
//! state it generates, and a derived `Hash` feeds the hasher one small field
//! at a time; packing each peer, node and message into a `u64` first makes
//! fingerprinting several times cheaper. Packing is injective on the values a
//! configuration can reach (indices and epochs below 15, bit sets of at most
//! `MAX_NODES` bits), so equal states hash alike and distinct ones rarely
//! collide, as `Hash` requires.

use crate::message::{Body, Msg};
use crate::network::Network;
use crate::state::{Ghost, Node, Peer, State};
use crate::symmetry;
use std::hash::{Hash, Hasher};

/// An optional index or epoch as 4 bits, `None` as 15.
fn opt(x: Option<u8>) -> u64 {
    x.map_or(0xF, |v| u64::from(v & 0xF))
}

fn bit(b: bool) -> u64 {
    u64::from(b)
}

impl Peer {
    /// 23 bits.
    fn packed(&self) -> u64 {
        let handshake = match self.handshake {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        };
        bit(self.known)
            | handshake << 1
            | opt(self.master) << 3
            | u64::from(self.config_epoch & 0xF) << 7
            | bit(self.pfail) << 11
            | bit(self.fail) << 12
            | u64::from(self.reports) << 13
            | bit(self.ping_pending) << 21
            | bit(self.fail_aged) << 22
    }
}

impl Node {
    /// Everything but the peers, in 62 bits.
    fn packed_scalars(&self) -> u64 {
        let election = self.election.map_or(0, |e| {
            1 | u64::from(e.epoch & 0xF) << 1 | u64::from(e.votes) << 5
        });
        let owners = self
            .owners
            .iter()
            .enumerate()
            .fold(0, |acc, (s, o)| acc | opt(*o) << (4 * s));
        bit(self.up)
            | u64::from(self.current_epoch & 0xF) << 1
            | u64::from(self.last_vote_epoch & 0xF) << 5
            | u64::from(self.durable_last_vote_epoch & 0xF) << 9
            | u64::from(self.config_epoch & 0xF) << 13
            | opt(self.master) << 17
            | election << 21
            | u64::from(self.recently_voted) << 34
            | owners << 42
            | u64::from(self.importing.bits() & 0xF) << 58
    }
}

impl Hash for Node {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.packed_scalars());
        // Two peers (23 bits each) to a word; the first word also carries
        // the unclaimed shards.
        let mut extra = u64::from(self.unclaimed.bits()) << 56;
        for pair in self.peers.chunks(2) {
            let second = pair.get(1).map_or(0, Peer::packed);
            state.write_u64(pair[0].packed() | second << 32 | extra);
            extra = 0;
        }
    }
}

impl Msg {
    /// 39 bits.
    fn packed(&self) -> u64 {
        let h = &self.header;
        let header = u64::from(h.sender & 0xF)
            | u64::from(h.current_epoch & 0xF) << 4
            | u64::from(h.config_epoch & 0xF) << 8
            | opt(h.master) << 12
            | u64::from(h.shards.bits() & 0xF) << 16;
        let gossip = |g: &crate::message::GossipList| {
            let (nodes, failing) = g.bits();
            u64::from(nodes) | u64::from(failing) << 8
        };
        let (kind, payload) = match &self.body {
            Body::Meet { gossip: g } => (0, gossip(g)),
            Body::Ping { gossip: g } => (1, gossip(g)),
            Body::Pong { gossip: g, reply } => (if *reply { 2 } else { 7 }, gossip(g)),
            Body::Fail { about } => (3, u64::from(*about)),
            Body::AuthRequest => (4, 0),
            Body::AuthAck => (5, 0),
            Body::Update {
                owner,
                config_epoch,
                shards,
            } => (
                6,
                u64::from(*owner & 0xF)
                    | u64::from(*config_epoch & 0xF) << 4
                    | u64::from(shards.bits() & 0xF) << 8,
            ),
        };
        header | kind << 20 | payload << 23
    }
}

impl Hash for Network {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u8(self.len() as u8 | u8::from(self.overflowed()) << 7);
        for (from, to, msg) in self.iter() {
            let link = u64::from(from) << 4 | u64::from(to);
            state.write_u64(msg.packed() | link << 56);
        }
    }
}

impl Hash for Ghost {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for per_epoch in &self.votes {
            state.write_u64(u64::from_le_bytes(*per_epoch));
        }
        state.write_u64(u64::from_le_bytes(self.wins));
        let flags = bit(self.fail_without_majority)
            | bit(self.election_without_fail) << 1
            | bit(self.rejoined_as_replica) << 2
            | bit(self.untimely) << 3
            | bit(self.won_without_fail) << 4
            | u64::from(self.taken_alone) << 32;
        let high = self
            .epoch_high
            .iter()
            .enumerate()
            .fold(0, |acc, (i, e)| acc | u64::from(*e & 0xF) << (8 + 4 * i));
        state.write_u64(flags | high);
    }
}

impl Hash for State {
    fn hash<H: Hasher>(&self, state: &mut H) {
        if self.symmetry.is_none() {
            self.hash_packed(state);
        } else {
            symmetry::representative(self).hash_packed(state);
        }
    }
}

impl State {
    fn hash_packed<H: Hasher>(&self, state: &mut H) {
        for node in &self.nodes {
            node.hash(state);
        }
        self.net.hash(state);
        state.write_u64(
            u64::from(self.meets_pending)
                | u64::from(self.crashes) << 8
                | u64::from(self.link_breaks) << 16
                | u64::from(self.operator) << 24,
        );
        self.ghost.hash(state);
    }
}

#[cfg(test)]
mod tests {
    use crate::config::ModelCfg;
    use crate::state::State;
    use crate::{step, Action};
    use std::collections::HashMap;
    use std::hash::{BuildHasher, BuildHasherDefault};

    fn hash(s: &State) -> u64 {
        BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(s)
    }

    /// Over every state within a few steps of a configuration's start,
    /// distinct states have distinct packed hashes: the packing loses nothing
    /// the states differ in. (Without symmetry: with it, a state and its
    /// mirror image hash alike on purpose.)
    #[test]
    fn distinct_states_hash_apart() {
        let mut total = 0;
        for name in ["handshake-3", "failover-3m2r"] {
            let cfg = ModelCfg::named(name)
                .expect("named configuration")
                .without_symmetry();
            let mut seen: HashMap<u64, State> = HashMap::new();
            let mut frontier = vec![State::initial(&cfg)];
            for _ in 0..7 {
                let mut next = Vec::new();
                for s in &frontier {
                    let mut actions: Vec<Action> = Vec::new();
                    step::enabled(&cfg, s, &mut actions);
                    for a in actions {
                        let mut t = *s;
                        step::apply(&cfg, &mut t, &a);
                        match seen.get(&hash(&t)) {
                            Some(old) => assert_eq!(*old, t, "{name}: two states, one hash"),
                            None => {
                                seen.insert(hash(&t), t);
                                next.push(t);
                            }
                        }
                    }
                }
                frontier = next;
            }
            total += seen.len();
        }
        assert!(total > 1000, "only {total} states");
    }
}
