//! The actions of the model: message deliveries, timer events, operator
//! commands and faults. Each is one event of the node's core, so a model trace
//! can be replayed against the node one step at a time.

use crate::message::{GossipList, NodeIx, Shard};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// The operator's `CLUSTER MEET` (the `index`th of the configuration's list).
    Meet {
        index: u8,
        node: NodeIx,
        peer: NodeIx,
    },
    /// Cron sends a PING (or a MEET to a new handshake node) with the chosen gossip
    /// entries. `clusterCron` → `clusterSendPing`.
    SendPing {
        node: NodeIx,
        peer: NodeIx,
        gossip: GossipList,
    },
    /// The head of the link `from → to` arrives at `to`. `clusterProcessPacket`.
    Deliver { from: NodeIx, to: NodeIx },
    /// A PING to `peer` went unanswered for NT: `peer` becomes PFAIL. `clusterCron`.
    NodeTimeout { node: NodeIx, peer: NodeIx },
    /// `reporter`'s failure report about `about` is older than 2·NT.
    /// `clusterNodeCleanupFailureReports`.
    ReportExpired {
        node: NodeIx,
        about: NodeIx,
        reporter: NodeIx,
    },
    /// 2·NT passed since `about` (a master with slots) was marked FAIL and it is
    /// reachable again. `clearNodeFailureIfNeeded`.
    FailUndo { node: NodeIx, about: NodeIx },
    /// A replica's election delay elapsed. `clusterHandleSlaveFailover`.
    ElectionDue { node: NodeIx },
    /// The election timed out without a quorum. `clusterHandleSlaveFailover`.
    AuthTimeout { node: NodeIx },
    /// 2·NT passed since `node` voted for a replica of `master` (`voted_time`).
    VoteCooldown { node: NodeIx, master: NodeIx },
    /// A handshake node older than max(NT, 1 s) is dropped. `clusterCron`.
    HandshakeTimeout { node: NodeIx, peer: NodeIx },
    /// The process dies; what is in nodes.conf survives.
    Crash { node: NodeIx },
    /// The process starts again from nodes.conf. `clusterLoadConfig`.
    Restart { node: NodeIx },
    /// The TCP link `from → to` breaks; what was in flight is lost.
    LinkBreak { from: NodeIx, to: NodeIx },
    /// The operator's `CLUSTER SETSLOT <shard> IMPORTING <from>` on `node`.
    SetSlotImporting {
        node: NodeIx,
        shard: Shard,
        from: NodeIx,
    },
    /// The operator's `CLUSTER SETSLOT <shard> NODE <owner>` on `node`.
    SetSlotNode {
        node: NodeIx,
        shard: Shard,
        owner: NodeIx,
    },
}

impl Action {
    /// The snake_case name of the action kind, as in traces.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Meet { .. } => "meet",
            Action::SendPing { .. } => "send_ping",
            Action::Deliver { .. } => "deliver",
            Action::NodeTimeout { .. } => "node_timeout",
            Action::ReportExpired { .. } => "report_expired",
            Action::FailUndo { .. } => "fail_undo",
            Action::ElectionDue { .. } => "election_due",
            Action::AuthTimeout { .. } => "auth_timeout",
            Action::VoteCooldown { .. } => "vote_cooldown",
            Action::HandshakeTimeout { .. } => "handshake_timeout",
            Action::Crash { .. } => "crash",
            Action::Restart { .. } => "restart",
            Action::LinkBreak { .. } => "link_break",
            Action::SetSlotImporting { .. } => "setslot_importing",
            Action::SetSlotNode { .. } => "setslot_node",
        }
    }

    /// Every action kind, for coverage tables.
    pub const KINDS: [&'static str; 15] = [
        "meet",
        "send_ping",
        "deliver",
        "node_timeout",
        "report_expired",
        "fail_undo",
        "election_due",
        "auth_timeout",
        "vote_cooldown",
        "handshake_timeout",
        "crash",
        "restart",
        "link_break",
        "setslot_importing",
        "setslot_node",
    ];

    /// The node the action happens on (the receiver, for a delivery).
    pub fn lane(&self) -> NodeIx {
        match *self {
            Action::Meet { node, .. }
            | Action::SendPing { node, .. }
            | Action::NodeTimeout { node, .. }
            | Action::ReportExpired { node, .. }
            | Action::FailUndo { node, .. }
            | Action::ElectionDue { node }
            | Action::AuthTimeout { node }
            | Action::VoteCooldown { node, .. }
            | Action::HandshakeTimeout { node, .. }
            | Action::Crash { node }
            | Action::Restart { node }
            | Action::SetSlotImporting { node, .. }
            | Action::SetSlotNode { node, .. } => node,
            Action::Deliver { to, .. } => to,
            Action::LinkBreak { from, .. } => from,
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Meet { node, peer, .. } => write!(f, "n{node}: CLUSTER MEET n{peer}"),
            Action::SendPing { node, peer, gossip } => {
                write!(f, "n{node}: ping n{peer} [")?;
                for (k, g) in gossip.iter().enumerate() {
                    let sep = if k == 0 { "" } else { " " };
                    write!(f, "{sep}n{}{}", g.node, if g.failing { "?" } else { "" })?;
                }
                write!(f, "]")
            }
            Action::Deliver { from, to } => write!(f, "n{to}: receive from n{from}"),
            Action::NodeTimeout { node, peer } => write!(f, "n{node}: timeout, n{peer} PFAIL"),
            Action::ReportExpired {
                node,
                about,
                reporter,
            } => {
                write!(f, "n{node}: report by n{reporter} about n{about} expires")
            }
            Action::FailUndo { node, about } => write!(f, "n{node}: clear FAIL of n{about}"),
            Action::ElectionDue { node } => write!(f, "n{node}: start election"),
            Action::AuthTimeout { node } => write!(f, "n{node}: election timed out"),
            Action::VoteCooldown { node, master } => {
                write!(f, "n{node}: may vote again for replicas of n{master}")
            }
            Action::HandshakeTimeout { node, peer } => {
                write!(f, "n{node}: handshake with n{peer} times out")
            }
            Action::Crash { node } => write!(f, "n{node}: crash"),
            Action::Restart { node } => write!(f, "n{node}: restart from nodes.conf"),
            Action::LinkBreak { from, to } => write!(f, "link n{from}->n{to} breaks"),
            Action::SetSlotImporting { node, shard, from } => {
                write!(f, "n{node}: CLUSTER SETSLOT {shard} IMPORTING n{from}")
            }
            Action::SetSlotNode { node, shard, owner } => {
                write!(f, "n{node}: CLUSTER SETSLOT {shard} NODE n{owner}")
            }
        }
    }
}
