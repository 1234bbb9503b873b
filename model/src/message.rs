//! The messages of the modelled cluster bus.
//!
//! Every message carries the sender's header, as every Redis bus message does
//! (`clusterBuildMessageHdr`): its currentEpoch, the configEpoch and shard of
//! itself or (for a replica) of its master, and its master. Only the fields the
//! modelled rules read are kept; slots are abstracted to shards (one per initial
//! master), and a master may come to own several by a slot migration.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The most nodes a configuration may have. Every collection in the state has
/// a fixed capacity, so a state is one flat `Copy` value: cloning it is a
/// copy, hashing it touches no heap (what makes the checker fast).
pub const MAX_NODES: usize = 5;
/// The most shards (initial masters) a configuration may have.
pub const MAX_SHARDS: usize = 4;

/// A node's index in the configuration. Index order is node-id order: node 0
/// has the smallest id, which decides configEpoch collisions.
pub type NodeIx = u8;
/// A shard: the slots one master owns in the initial configuration. A
/// migration moves a shard whole.
pub type Shard = u8;
/// An epoch (currentEpoch, configEpoch, lastVoteEpoch); bounded per configuration.
pub type Epoch = u8;

/// The header every message starts with.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct Header {
    pub sender: NodeIx,
    pub current_epoch: Epoch,
    /// configEpoch of the sender, or of its master when the sender is a replica.
    pub config_epoch: Epoch,
    /// The sender's master; `None` when the sender is a master (`slaveof` all zeros).
    pub master: Option<NodeIx>,
    /// The shards the sender (or its master) claims (`myslots`); empty for no slots.
    pub shards: ShardSet,
}

/// A set of shards, as a bit set (a header's `myslots`, an UPDATE's slots,
/// a node's importing slots); in traces a JSON list of shard numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShardSet(u8);

impl ShardSet {
    pub const EMPTY: ShardSet = ShardSet(0);

    pub fn single(shard: Shard) -> ShardSet {
        ShardSet(1 << shard)
    }

    pub fn contains(&self, shard: Shard) -> bool {
        self.0 & (1 << shard) != 0
    }

    pub fn insert(&mut self, shard: Shard) {
        self.0 |= 1 << shard;
    }

    pub fn remove(&mut self, shard: Shard) {
        self.0 &= !(1 << shard);
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    /// The shards, in order.
    pub fn iter(&self) -> impl Iterator<Item = Shard> + '_ {
        (0..MAX_SHARDS as Shard).filter(|s| self.contains(*s))
    }

    /// The smallest shard, if any.
    pub fn first(&self) -> Option<Shard> {
        self.iter().next()
    }

    pub fn bits(&self) -> u8 {
        self.0
    }

    /// These shards but `other`'s.
    pub fn without(&self, other: ShardSet) -> ShardSet {
        ShardSet(self.0 & !other.0)
    }
}

impl FromIterator<Shard> for ShardSet {
    fn from_iter<I: IntoIterator<Item = Shard>>(shards: I) -> ShardSet {
        let mut set = ShardSet::EMPTY;
        for s in shards {
            set.insert(s);
        }
        set
    }
}

impl Serialize for ShardSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for ShardSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ShardSet, D::Error> {
        let shards = Vec::<Shard>::deserialize(d)?;
        if let Some(s) = shards.iter().find(|s| **s as usize >= MAX_SHARDS) {
            return Err(serde::de::Error::custom(format!(
                "shard {s}, beyond the model's {MAX_SHARDS} shards"
            )));
        }
        Ok(shards.into_iter().collect())
    }
}

/// One gossip entry: a node the sender knows and whether it flags it as failing.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct Gossip {
    pub node: NodeIx,
    /// PFAIL or FAIL in the sender's view: a failure report when the sender is a master.
    pub failing: bool,
}

/// A gossip section: at most one entry per node, in node order. Kept as two
/// bit sets (who is mentioned, who of them is flagged failing), so that a
/// message is a few bytes; in traces it is a JSON list of entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GossipList {
    nodes: u8,
    failing: u8,
}

impl GossipList {
    pub fn new() -> GossipList {
        GossipList::default()
    }

    /// Adds `g`, or replaces the entry about the same node.
    pub fn insert(&mut self, g: Gossip) {
        let bit = 1u8 << g.node;
        self.nodes |= bit;
        self.failing = if g.failing {
            self.failing | bit
        } else {
            self.failing & !bit
        };
    }

    /// Drops the entry about `node`, if any.
    pub fn remove(&mut self, node: NodeIx) {
        self.nodes &= !(1 << node);
        self.failing &= !(1 << node);
    }

    /// The entries, in node order.
    pub fn iter(&self) -> impl Iterator<Item = Gossip> + '_ {
        (0..MAX_NODES as NodeIx)
            .filter(|n| self.nodes & (1 << n) != 0)
            .map(|node| Gossip {
                node,
                failing: self.failing & (1 << node) != 0,
            })
    }

    pub fn len(&self) -> usize {
        self.nodes.count_ones() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.nodes == 0
    }

    /// The mentioned nodes and the failing ones, as bit sets.
    pub fn bits(&self) -> (u8, u8) {
        (self.nodes, self.failing)
    }
}

impl FromIterator<Gossip> for GossipList {
    fn from_iter<I: IntoIterator<Item = Gossip>>(entries: I) -> GossipList {
        let mut list = GossipList::new();
        list.extend(entries);
        list
    }
}

impl Extend<Gossip> for GossipList {
    fn extend<I: IntoIterator<Item = Gossip>>(&mut self, entries: I) {
        for g in entries {
            self.insert(g);
        }
    }
}

impl Serialize for GossipList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for GossipList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<GossipList, D::Error> {
        let entries = Vec::<Gossip>::deserialize(d)?;
        if let Some(g) = entries.iter().find(|g| g.node as usize >= MAX_NODES) {
            return Err(serde::de::Error::custom(format!(
                "gossip about node {}, beyond the model's {MAX_NODES} nodes",
                g.node
            )));
        }
        Ok(entries.into_iter().collect())
    }
}

/// What follows the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Body {
    /// `CLUSTER MEET`'s first packet: like PING, but the receiver adds an unknown sender.
    Meet {
        gossip: GossipList,
    },
    Ping {
        gossip: GossipList,
    },
    /// `reply`: an answer to the receiver's PING or MEET, which comes back
    /// on the receiver's own link to the sender and so shows the sender
    /// reachable (it ends the ping's wait and clears PFAIL). A PONG the
    /// sender broadcasts (`clusterBroadcastPong`: after a failover, a slot
    /// import, to sibling replicas) leaves on the sender's link and reaches
    /// the receiver on an inbound one, where Redis does neither
    /// (`!link->inbound` in `clusterProcessPacket`).
    Pong {
        gossip: GossipList,
        reply: bool,
    },
    /// "`about` is failing": a FAIL a node reached with a majority of reports.
    Fail {
        about: NodeIx,
    },
    /// A replica asks for a vote in the epoch of its header (`FAILOVER_AUTH_REQUEST`).
    AuthRequest,
    /// A master grants its vote (`FAILOVER_AUTH_ACK`).
    AuthAck,
    /// "`owner` serves `shards` with `config_epoch`": sent to a node with a
    /// stale claim, with every shard the owner serves in the sender's view.
    Update {
        owner: NodeIx,
        config_epoch: Epoch,
        shards: ShardSet,
    },
}

/// Needed only to give fixed-capacity queues an element to fill unused slots with.
impl Default for Body {
    fn default() -> Self {
        Body::AuthRequest
    }
}

/// A message in flight on a directed link.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct Msg {
    pub header: Header,
    pub body: Body,
}

impl Msg {
    /// The message type's name as Redis logs it.
    pub fn kind(&self) -> &'static str {
        match self.body {
            Body::Meet { .. } => "MEET",
            Body::Ping { .. } => "PING",
            Body::Pong { .. } => "PONG",
            Body::Fail { .. } => "FAIL",
            Body::AuthRequest => "AUTH_REQUEST",
            Body::AuthAck => "AUTH_ACK",
            Body::Update { .. } => "UPDATE",
        }
    }
}

impl std::fmt::Display for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let h = &self.header;
        write!(
            f,
            "{}(n{} e{} c{}",
            self.kind(),
            h.sender,
            h.current_epoch,
            h.config_epoch
        )?;
        match &self.body {
            Body::Meet { gossip } | Body::Ping { gossip } | Body::Pong { gossip, .. } => {
                for g in gossip.iter() {
                    write!(f, " n{}{}", g.node, if g.failing { "?" } else { "" })?;
                }
            }
            Body::Fail { about } => write!(f, " about n{about}")?,
            Body::Update {
                owner,
                config_epoch,
                shards,
            } => {
                write!(f, " shards")?;
                for s in shards.iter() {
                    write!(f, " {s}")?;
                }
                write!(f, " -> n{owner} c{config_epoch}")?
            }
            Body::AuthRequest | Body::AuthAck => {}
        }
        write!(f, ")")
    }
}
