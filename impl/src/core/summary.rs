//! A plain, comparable projection of a core's state (for conformance and
//! tests), and the cluster state (`cluster_state:ok|fail`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::codec::flags;

use super::{name_str, Core, CLUSTER_SLOTS};

/// `cluster_state` as CLUSTER INFO shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ClusterState {
    /// `cluster_state:ok`: the cluster serves queries.
    Ok,
    /// `cluster_state:fail`.
    Fail,
}

/// Master or replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    /// A master.
    Master,
    /// A replica of some master.
    Replica,
}

/// What I believe about one node (myself included).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerSummary {
    /// MASTER flag.
    pub master: bool,
    /// SLAVE flag.
    pub replica: bool,
    /// PFAIL flag (`fail?`).
    pub pfail: bool,
    /// FAIL flag.
    pub fail: bool,
    /// HANDSHAKE flag.
    pub handshake: bool,
    /// Its master, for a replica.
    pub master_of: Option<String>,
    /// Its configEpoch in my view (mine, at the top level).
    pub config_epoch: u64,
}

/// A run of consecutive slots with one owner in my view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotOwnerRange {
    /// First slot.
    pub start: u16,
    /// Last slot (inclusive).
    pub end: u16,
    /// Owner id.
    pub owner: String,
}

/// One node's protocol state, projected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSummary {
    /// My id.
    pub id: String,
    /// currentEpoch.
    pub current_epoch: u64,
    /// lastVoteEpoch.
    pub last_vote_epoch: u64,
    /// Its configEpoch in my view (mine, at the top level).
    pub config_epoch: u64,
    /// My role.
    pub role: Role,
    /// My master, when I am a replica.
    pub master: Option<String>,
    /// cluster_state.
    pub state: ClusterState,
    /// Every node in my table, by id.
    pub nodes: BTreeMap<String, PeerSummary>,
    /// Slot owners, as ascending ranges (unassigned slots omitted).
    pub slots: Vec<SlotOwnerRange>,
}

impl NodeSummary {
    /// The owner of `slot` in this view.
    pub fn owner_of(&self, slot: u16) -> Option<&str> {
        self.slots
            .iter()
            .find(|r| r.start <= slot && slot <= r.end)
            .map(|r| r.owner.as_str())
    }
}

impl Core {
    /// The comparable projection of this node's state.
    pub fn summary(&self) -> NodeSummary {
        let me = self.me();
        let nodes = self
            .table
            .nodes
            .values()
            .map(|n| {
                let p = PeerSummary {
                    master: n.has(flags::MASTER),
                    replica: n.has(flags::SLAVE),
                    pfail: n.has(flags::PFAIL),
                    fail: n.has(flags::FAIL),
                    handshake: n.has(flags::HANDSHAKE),
                    master_of: n.master.map(|m| name_str(&m)),
                    config_epoch: n.config_epoch,
                };
                (name_str(&n.name), p)
            })
            .collect();
        NodeSummary {
            id: name_str(&self.myself),
            current_epoch: self.current_epoch,
            last_vote_epoch: self.last_vote_epoch,
            config_epoch: me.config_epoch,
            role: if me.is_master() {
                Role::Master
            } else {
                Role::Replica
            },
            master: me.master.map(|m| name_str(&m)),
            state: self.cluster_state(),
            nodes,
            slots: self.slot_ranges(),
        }
    }

    fn slot_ranges(&self) -> Vec<SlotOwnerRange> {
        let mut out: Vec<SlotOwnerRange> = Vec::new();
        for slot in 0..CLUSTER_SLOTS as u16 {
            let Some(owner) = self.table.slot_owner[slot as usize] else {
                continue;
            };
            match out.last_mut() {
                Some(r) if r.end + 1 == slot && r.owner.as_bytes() == owner => r.end = slot,
                _ => out.push(SlotOwnerRange {
                    start: slot,
                    end: slot,
                    owner: name_str(&owner),
                }),
            }
        }
        out
    }

    /// Recomputes `cluster_state`: with full coverage required, every slot
    /// must be served by a non-FAIL master; and a majority of the slot-owning
    /// masters must be reachable (not PFAIL/FAIL). Mirrors `clusterUpdateState`
    /// without its rejoin and startup delays.
    pub(super) fn update_state(&mut self) {
        let mut size = 0usize;
        let mut reachable = 0usize;
        let mut served = 0usize;
        for n in self.table.nodes.values() {
            if n.is_master() && n.numslots > 0 {
                size += 1;
                if !n.has(flags::PFAIL | flags::FAIL) {
                    reachable += 1;
                }
                if !n.failed() {
                    served += n.numslots;
                }
            }
        }
        let covered = !self.cfg.require_full_coverage || served == CLUSTER_SLOTS;
        self.state_ok = covered && size > 0 && reachable >= super::rules::failure_quorum(size);
    }
}
