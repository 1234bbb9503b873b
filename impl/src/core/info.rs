//! The numbers CLUSTER INFO reports (`clusterGenNodesDescription` aside, the
//! fields of the `CLUSTER INFO` reply in Redis's `clusterCommand`).

use crate::codec::{flags, MessageType};

use super::{ClusterState, Core, CLUSTER_SLOTS};

/// Number of bus message types counted in the statistics (`CLUSTERMSG_TYPE_COUNT`).
pub const CLUSTERMSG_TYPE_COUNT: usize = 11;

/// Messages sent and received, by type (`stats_bus_messages_*`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BusStats {
    /// Sent, indexed by `MessageType as usize`.
    pub sent: [u64; CLUSTERMSG_TYPE_COUNT],
    /// Received, indexed by `MessageType as usize`.
    pub received: [u64; CLUSTERMSG_TYPE_COUNT],
}

impl BusStats {
    pub(super) fn count_sent(&mut self, t: MessageType) {
        self.sent[t as usize] += 1;
    }
    pub(super) fn count_received(&mut self, t: MessageType) {
        self.received[t as usize] += 1;
    }
}

/// The CLUSTER INFO fields this node knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterInfo {
    /// `cluster_state`.
    pub state: ClusterState,
    /// `cluster_slots_assigned`.
    pub slots_assigned: usize,
    /// `cluster_slots_ok`: assigned to a node that is neither PFAIL nor FAIL.
    pub slots_ok: usize,
    /// `cluster_slots_pfail`.
    pub slots_pfail: usize,
    /// `cluster_slots_fail`.
    pub slots_fail: usize,
    /// `cluster_known_nodes`.
    pub known_nodes: usize,
    /// `cluster_size`: masters serving slots.
    pub size: usize,
    /// `cluster_current_epoch`.
    pub current_epoch: u64,
    /// `cluster_my_epoch`: my configEpoch, or my master's when I am a replica.
    pub my_epoch: u64,
    /// `cluster_stats_messages_*`.
    pub stats: BusStats,
}

impl Core {
    /// The CLUSTER INFO numbers.
    pub fn info(&self) -> ClusterInfo {
        let (mut ok, mut pfail, mut fail, mut assigned) = (0, 0, 0, 0);
        for n in self.table.nodes.values().filter(|n| n.numslots > 0) {
            assigned += n.numslots;
            if n.has(flags::FAIL) {
                fail += n.numslots;
            } else if n.has(flags::PFAIL) {
                pfail += n.numslots;
            } else {
                ok += n.numslots;
            }
        }
        debug_assert!(assigned <= CLUSTER_SLOTS);
        let me = self.me();
        let my_epoch = match me.master.and_then(|m| self.table.get(&m)) {
            Some(m) if me.is_replica() => m.config_epoch,
            _ => me.config_epoch,
        };
        ClusterInfo {
            state: self.cluster_state(),
            slots_assigned: assigned,
            slots_ok: ok,
            slots_pfail: pfail,
            slots_fail: fail,
            known_nodes: self.table.len(),
            size: self.table.size(),
            current_epoch: self.current_epoch,
            my_epoch,
            stats: self.stats.clone(),
        }
    }
}
