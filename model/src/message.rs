//! The messages of the modelled cluster bus.
//!
//! Every message carries the sender's header, as every Redis bus message does
//! (`clusterBuildMessageHdr`): its currentEpoch, the configEpoch and shard of
//! itself or (for a replica) of its master, and its master. Only the fields the
//! modelled rules read are kept; slots are abstracted to one shard per master.

use serde::{Deserialize, Serialize};

/// A node's index in the configuration. Index order is node-id order: node 0
/// has the smallest id, which decides configEpoch collisions.
pub type NodeIx = u8;
/// A shard: the slots one master owns in the initial configuration.
pub type Shard = u8;
/// An epoch (currentEpoch, configEpoch, lastVoteEpoch); bounded per configuration.
pub type Epoch = u8;

/// The header every message starts with.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Header {
    pub sender: NodeIx,
    pub current_epoch: Epoch,
    /// configEpoch of the sender, or of its master when the sender is a replica.
    pub config_epoch: Epoch,
    /// The sender's master; `None` when the sender is a master (`slaveof` all zeros).
    pub master: Option<NodeIx>,
    /// The shard the sender (or its master) claims (`myslots`); `None` for no slots.
    pub shard: Option<Shard>,
}

/// One gossip entry: a node the sender knows and whether it flags it as failing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Gossip {
    pub node: NodeIx,
    /// PFAIL or FAIL in the sender's view: a failure report when the sender is a master.
    pub failing: bool,
}

/// What follows the header.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Body {
    /// `CLUSTER MEET`'s first packet: like PING, but the receiver adds an unknown sender.
    Meet {
        gossip: Vec<Gossip>,
    },
    Ping {
        gossip: Vec<Gossip>,
    },
    Pong {
        gossip: Vec<Gossip>,
    },
    /// "`about` is failing": a FAIL a node reached with a majority of reports.
    Fail {
        about: NodeIx,
    },
    /// A replica asks for a vote in the epoch of its header (`FAILOVER_AUTH_REQUEST`).
    AuthRequest,
    /// A master grants its vote (`FAILOVER_AUTH_ACK`).
    AuthAck,
    /// "`owner` serves `shard` with `config_epoch`": sent to a node with a stale claim.
    Update {
        owner: NodeIx,
        config_epoch: Epoch,
        shard: Shard,
    },
}

/// A message in flight on a directed link.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
            Body::Meet { gossip } | Body::Ping { gossip } | Body::Pong { gossip } => {
                for g in gossip {
                    write!(f, " n{}{}", g.node, if g.failing { "?" } else { "" })?;
                }
            }
            Body::Fail { about } => write!(f, " about n{about}")?,
            Body::Update {
                owner,
                config_epoch,
                shard,
            } => write!(f, " shard {shard} -> n{owner} c{config_epoch}")?,
            Body::AuthRequest | Body::AuthAck => {}
        }
        write!(f, ")")
    }
}
