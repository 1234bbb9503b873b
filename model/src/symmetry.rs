//! Symmetry reduction: nodes that play the same part (two masters without
//! replicas, two replicas of one master) are interchangeable, so a state and
//! the state with the two swapped behave alike and satisfy the same
//! properties. The checker need visit only one state of each such set (an
//! *orbit*).
//!
//! The reduction lives in the state's `Hash`: a state hashes as the smallest
//! (by `Ord`) member of its orbit, so every checker that fingerprints states
//! (stateright's BFS, DFS and the Explorer alike) keeps one state per orbit,
//! while each path it records stays a real path of the unreduced model:
//! stateright stores the concrete states and only dedups by fingerprint.
//! `specs/model.md` argues why the properties are symmetric.

use crate::message::{Body, GossipList, Msg, NodeIx, Shard, ShardSet, MAX_NODES, MAX_SHARDS};
use crate::state::{Node, Peer, State, EPOCH_SLOTS};
use serde::Serialize;

/// Up to two pairs of interchangeable nodes. A pair of masters swaps their
/// shards too (shard `s` is the initial master `s`'s).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Swaps {
    pairs: [(NodeIx, NodeIx); 2],
    len: u8,
    /// Nodes below this index are masters (their index is their shard's).
    masters: u8,
}

impl Swaps {
    /// No symmetry: every state is its own orbit.
    pub const NONE: Swaps = Swaps {
        pairs: [(0, 0); 2],
        len: 0,
        masters: 0,
    };

    /// `pairs` (at most two) of interchangeable nodes, in a cluster whose
    /// first `masters` nodes are the masters.
    pub fn new(pairs: &[(NodeIx, NodeIx)], masters: u8) -> Swaps {
        assert!(pairs.len() <= 2, "at most two interchangeable pairs");
        let mut s = Swaps {
            masters,
            ..Swaps::NONE
        };
        for (k, &p) in pairs.iter().enumerate() {
            s.pairs[k] = p;
        }
        s.len = pairs.len() as u8;
        s
    }

    pub fn is_none(&self) -> bool {
        self.len == 0
    }

    /// The node and shard permutations of each non-empty choice of pairs.
    fn permutations(&self) -> impl Iterator<Item = Permutation> + '_ {
        (1u8..1 << self.len).map(move |choice| {
            let mut p = Permutation::identity();
            for (k, &(a, b)) in self.pairs[..self.len as usize].iter().enumerate() {
                if choice & (1 << k) != 0 {
                    p.swap(a, b, b < self.masters);
                }
            }
            p
        })
    }
}

/// Where each node index and each shard goes.
#[derive(Clone, Copy)]
struct Permutation {
    node: [NodeIx; MAX_NODES],
    shard: [Shard; MAX_SHARDS],
}

impl Permutation {
    fn identity() -> Permutation {
        let mut p = Permutation {
            node: [0; MAX_NODES],
            shard: [0; MAX_SHARDS],
        };
        for (i, n) in p.node.iter_mut().enumerate() {
            *n = i as NodeIx;
        }
        for (s, x) in p.shard.iter_mut().enumerate() {
            *x = s as Shard;
        }
        p
    }

    fn swap(&mut self, a: NodeIx, b: NodeIx, with_shards: bool) {
        self.node.swap(a as usize, b as usize);
        if with_shards {
            self.shard.swap(a as usize, b as usize);
        }
    }

    fn n(&self, i: NodeIx) -> NodeIx {
        self.node[i as usize]
    }

    fn opt(&self, i: Option<NodeIx>) -> Option<NodeIx> {
        i.map(|i| self.n(i))
    }

    /// A bit set of nodes, mapped.
    fn bits(&self, set: u8) -> u8 {
        (0..MAX_NODES)
            .filter(|i| set & (1 << i) != 0)
            .fold(0, |acc, i| acc | 1 << self.node[i])
    }

    fn shards(&self, set: ShardSet) -> ShardSet {
        set.iter().map(|s| self.shard[s as usize]).collect()
    }

    fn peer(&self, p: &Peer) -> Peer {
        Peer {
            master: self.opt(p.master),
            reports: self.bits(p.reports),
            ..*p
        }
    }

    fn node(&self, x: &Node) -> Node {
        let mut y = *x;
        y.master = self.opt(x.master);
        for (s, owner) in x.owners.iter().enumerate() {
            y.owners[self.shard[s] as usize] = self.opt(*owner);
        }
        for (j, peer) in x.peers.iter().enumerate() {
            y.peers[self.node[j] as usize] = self.peer(peer);
        }
        if let (Some(e), Some(f)) = (x.election, y.election.as_mut()) {
            f.votes = self.bits(e.votes);
        }
        y.recently_voted = self.bits(x.recently_voted);
        y.importing = self.shards(x.importing);
        y.unclaimed = self.shards(x.unclaimed);
        y
    }

    fn gossip(&self, g: &GossipList) -> GossipList {
        g.iter()
            .map(|mut e| {
                e.node = self.n(e.node);
                e
            })
            .collect()
    }

    fn msg(&self, m: &Msg) -> Msg {
        let mut out = *m;
        out.header.sender = self.n(m.header.sender);
        out.header.master = self.opt(m.header.master);
        out.header.shards = self.shards(m.header.shards);
        out.body = match m.body {
            Body::Meet { gossip } => Body::Meet {
                gossip: self.gossip(&gossip),
            },
            Body::Ping { gossip } => Body::Ping {
                gossip: self.gossip(&gossip),
            },
            Body::Pong { gossip, reply } => Body::Pong {
                gossip: self.gossip(&gossip),
                reply,
            },
            Body::Fail { about } => Body::Fail {
                about: self.n(about),
            },
            Body::Update {
                owner,
                config_epoch,
                shards,
            } => Body::Update {
                owner: self.n(owner),
                config_epoch,
                shards: self.shards(shards),
            },
            other @ (Body::AuthRequest | Body::AuthAck) => other,
        };
        out
    }

    fn state(&self, s: &State) -> State {
        let mut t = *s;
        for (i, node) in s.nodes.iter().enumerate() {
            t.nodes[self.node[i] as usize] = self.node(node);
        }
        t.net = s.net.permuted(&self.node, |m| self.msg(m));
        for (c, per_epoch) in s.ghost.votes.iter().enumerate() {
            let mut mapped = [0u8; EPOCH_SLOTS];
            for (e, voters) in per_epoch.iter().enumerate() {
                mapped[e] = self.bits(*voters);
            }
            t.ghost.votes[self.node[c] as usize] = mapped;
        }
        for (e, winners) in s.ghost.wins.iter().enumerate() {
            t.ghost.wins[e] = self.bits(*winners);
        }
        for (i, high) in s.ghost.epoch_high.iter().enumerate() {
            t.ghost.epoch_high[self.node[i] as usize] = *high;
        }
        t
    }
}

/// The smallest state (by `Ord`) among `s` and its images under the swaps.
pub fn representative(s: &State) -> State {
    let mut best = *s;
    for p in s.symmetry.permutations() {
        let t = p.state(s);
        if t < best {
            best = t;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelCfg;
    use crate::{step, Action};

    /// Swapping twice gives the state back, and a state and its image have
    /// one representative, over the states a few steps from the start.
    #[test]
    fn swaps_are_involutions_with_one_representative() {
        let cfg = ModelCfg::named("failover-3m2r").expect("named configuration");
        let mut frontier = vec![State::initial(&cfg)];
        let mut checked = 0;
        for _ in 0..6 {
            let mut next = Vec::new();
            for s in &frontier {
                for p in s.symmetry.permutations() {
                    let t = p.state(s);
                    assert_eq!(p.state(&t), *s, "a swap undone");
                    assert_eq!(representative(&t), representative(s));
                    checked += 1;
                }
                let mut actions: Vec<Action> = Vec::new();
                step::enabled(&cfg, s, &mut actions);
                for a in actions {
                    let mut t = *s;
                    step::apply(&cfg, &mut t, &a);
                    next.push(t);
                }
            }
            next.truncate(2000);
            frontier = next;
        }
        assert!(checked > 1000, "only {checked} states checked");
    }

    /// The image of a transition is a transition: applying the swapped
    /// action to the swapped state gives the swapped successor.
    #[test]
    fn swaps_commute_with_steps() {
        let cfg = ModelCfg::named("failover-3m2r").expect("named configuration");
        let p = cfg.symmetry().permutations().next().expect("one swap");
        let mut s = State::initial(&cfg);
        for k in 0..40 {
            let mut actions: Vec<Action> = Vec::new();
            step::enabled(&cfg, &s, &mut actions);
            let Some(a) = actions.get(k % actions.len().max(1)).copied() else {
                break;
            };
            let mut next = s;
            step::apply(&cfg, &mut next, &a);
            let mut image: Vec<Action> = Vec::new();
            step::enabled(&cfg, &p.state(&s), &mut image);
            let found = image.iter().any(|b| {
                let mut t = p.state(&s);
                step::apply(&cfg, &mut t, b);
                t == p.state(&next)
            });
            assert!(found, "step {k}: {a} has no image");
            s = next;
        }
    }
}
