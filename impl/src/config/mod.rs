//! nodes.conf: Redis 7.0's cluster config file, read and written in its exact
//! format (the `CLUSTER NODES` lines, then `vars currentEpoch N lastVoteEpoch N`).
//! Mirrors `clusterLoadConfig` / `clusterSaveConfig` in Redis's `src/cluster.c`.
//!
//! [`parse`] and [`render`] are pure text conversions; [`load`] and [`save`]
//! add the file (errors name the path and line; saving is atomic).
mod error;
mod file;
mod flags;
mod parse;
mod render;

pub use error::{ConfigError, ConfigErrorKind};
pub use file::{load, save};
pub use flags::{flags_from_str, flags_to_string, FLAG_NAMES};
pub use parse::{parse, CLUSTER_PORT_INCR};
pub use render::{render, render_node};

/// A contiguous, inclusive range of slots, as nodes.conf and CLUSTER NODES list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlotRange {
    pub start: u16,
    pub end: u16,
}

/// One node line of nodes.conf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRecord {
    /// 40 lowercase hex characters.
    pub id: String,
    /// Announced IP ("" when unknown, printed as `:0@0`).
    pub ip: String,
    pub port: u16,
    pub cport: u16,
    /// The `,hostname` after the address, when present.
    pub hostname: Option<String>,
    /// Flag bits as in `codec::flags` (`myself`, `master`, `slave`, `fail?`, `fail`,
    /// `handshake`, `noaddr`, `nofailover`, and `noflags` when zero).
    pub flags: u16,
    /// Id of the master, for replicas (`-` when none).
    pub master: Option<String>,
    /// Milliseconds (unix time) of the last ping sent, 0 when none is pending.
    pub ping_sent_ms: u64,
    /// Milliseconds (unix time) of the last pong received.
    pub pong_received_ms: u64,
    pub config_epoch: u64,
    /// `connected` or `disconnected`.
    pub link_connected: bool,
    /// Owned slot ranges, ascending.
    pub slots: Vec<SlotRange>,
    /// `[slot->-id]` entries: slots this node is migrating to `id`.
    pub migrating: Vec<(u16, String)>,
    /// `[slot-<-id]` entries: slots this node is importing from `id`.
    pub importing: Vec<(u16, String)>,
}

/// The whole file: node lines (one with the MYSELF flag) and the vars line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodesConf {
    pub nodes: Vec<NodeRecord>,
    pub current_epoch: u64,
    pub last_vote_epoch: u64,
}

impl NodesConf {
    /// The node line with the MYSELF flag (`parse` guarantees exactly one).
    pub fn myself(&self) -> Option<&NodeRecord> {
        self.nodes
            .iter()
            .find(|n| n.flags & crate::codec::flags::MYSELF != 0)
    }

    /// The currentEpoch to start with: the saved one, raised to the largest
    /// configEpoch in the file if that is higher (protection against a hand-edited
    /// file). Mirrors the check at the end of `clusterLoadConfig`.
    pub fn effective_current_epoch(&self) -> u64 {
        let max_config = self.nodes.iter().map(|n| n.config_epoch).max().unwrap_or(0);
        self.current_epoch.max(max_config)
    }
}

#[cfg(test)]
mod tests;
