//! nodes.conf as the core sees it: what to write, and how to come back from
//! it after a crash. Mirrors `clusterGenNodesDescription` (the fields saved by
//! `clusterSaveConfig`) and `clusterLoadConfig`.

use std::fmt;

use crate::codec::{flags, NodeName};
use crate::config::{NodeRecord, NodesConf, SlotRange};

use super::{name_from_str, name_str, Core, CoreConfig, NodeEntry, NodeTable, CLUSTER_SLOTS};

/// Why a persisted config cannot be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestartError {
    /// No line carries the `myself` flag.
    NoMyself,
    /// A node id is not 40 characters.
    BadNodeId(String),
    /// A slot range is outside 0..16384 or reversed.
    BadSlotRange { id: String, start: u16, end: u16 },
    /// An open slot (`[slot->-id]`, `[slot-<-id]`) is out of range or its
    /// id is not 40 characters.
    BadOpenSlot { slot: u16, id: String },
}

impl fmt::Display for RestartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestartError::NoMyself => write!(f, "nodes.conf has no line with the 'myself' flag"),
            RestartError::BadNodeId(id) => write!(
                f,
                "nodes.conf: invalid node id '{id}' (expected 40 characters)"
            ),
            RestartError::BadOpenSlot { slot, id } => write!(
                f,
                "nodes.conf: open slot {slot} of node '{id}' is out of range or the id is not 40 characters"
            ),
            RestartError::BadSlotRange { id, start, end } => {
                write!(
                    f,
                    "nodes.conf: node {id} has an invalid slot range {start}-{end}"
                )
            }
        }
    }
}

impl std::error::Error for RestartError {}

/// Groups a node's slots into ascending inclusive ranges, 64 slots at a
/// time (empty and full words and bytes are skipped or taken whole).
fn ranges_of(n: &NodeEntry) -> Vec<SlotRange> {
    let mut out: Vec<SlotRange> = Vec::new();
    if n.numslots == 0 {
        return out;
    }
    fn extend(out: &mut Vec<SlotRange>, start: u16, end: u16) {
        match out.last_mut() {
            Some(r) if r.end + 1 == start => r.end = end,
            _ => out.push(SlotRange { start, end }),
        }
    }
    for (w, word) in n.slots.0.chunks_exact(8).enumerate() {
        let base = (w * 64) as u16;
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        match u64::from_le_bytes(bytes) {
            0 => {}
            u64::MAX => extend(&mut out, base, base + 63),
            _ => {
                for (i, byte) in word.iter().enumerate() {
                    let b = base + (i * 8) as u16;
                    match *byte {
                        0 => {}
                        0xff => extend(&mut out, b, b + 7),
                        v => (0..8u16)
                            .filter(|bit| v & (1 << bit) != 0)
                            .for_each(|bit| extend(&mut out, b + bit, b + bit)),
                    }
                }
            }
        }
    }
    out
}

impl Core {
    /// The epoch shown for a node: its master's configEpoch for a replica
    /// with a known master, its own otherwise. Mirrors `nodeEpoch`.
    pub fn node_epoch(&self, n: &NodeEntry) -> u64 {
        match n.master.and_then(|m| self.table.get(&m)) {
            Some(m) if n.is_replica() => m.config_epoch,
            _ => n.config_epoch,
        }
    }

    /// One node as a nodes.conf / CLUSTER NODES line describes it. The link
    /// counts as connected once it exists, as `node->link` does in Redis
    /// (`clusterGenNodeDescription`).
    pub fn node_record(&self, n: &NodeEntry) -> NodeRecord {
        NodeRecord {
            id: name_str(&n.name),
            ip: n.ip.clone(),
            port: n.port,
            cport: n.cport,
            hostname: None,
            flags: n.flags & !flags::MEET,
            master: n.master.map(|m| name_str(&m)),
            ping_sent_ms: n.ping_sent_ms.unwrap_or(0),
            pong_received_ms: n.pong_received_ms,
            config_epoch: self.node_epoch(n),
            link_connected: n.has(flags::MYSELF) || n.link.exists(),
            slots: ranges_of(n),
            migrating: self.open_slots_of(n, |o| &o.migrating),
            importing: self.open_slots_of(n, |o| &o.importing),
        }
    }

    /// My open slots as my line lists them; none on other nodes' lines
    /// (Redis prints them for myself only).
    fn open_slots_of(
        &self,
        n: &NodeEntry,
        table: impl Fn(&super::migration::OpenSlots) -> &std::collections::BTreeMap<u16, NodeName>,
    ) -> Vec<(u16, String)> {
        if n.name != self.myself {
            return Vec::new();
        }
        super::migration::OpenSlots::records(table(&self.open_slots))
    }

    /// What nodes.conf must hold now (handshake nodes are not saved).
    pub fn persisted(&self) -> NodesConf {
        let nodes = self
            .table
            .nodes
            .values()
            .filter(|n| !n.in_handshake())
            .map(|n| self.node_record(n))
            .collect();
        NodesConf {
            nodes,
            current_epoch: self.current_epoch,
            last_vote_epoch: self.last_vote_epoch,
        }
    }

    /// A core after a restart from `persisted`: the table, epochs and slots
    /// as saved, no links, no pending pings, FAIL times long past, and
    /// currentEpoch at least the greatest configEpoch. Mirrors `clusterLoadConfig`.
    pub fn restart(
        persisted: &NodesConf,
        cfg: CoreConfig,
        now_ms: u64,
    ) -> Result<Core, RestartError> {
        let me_rec = persisted
            .nodes
            .iter()
            .find(|r| r.flags & flags::MYSELF != 0)
            .ok_or(RestartError::NoMyself)?;
        let me = super::NodeIdentity {
            id: parse_id(&me_rec.id)?,
            ip: me_rec.ip.clone(),
            port: me_rec.port,
            cport: me_rec.cport,
        };
        let mut core = Core::new(me, cfg, now_ms);
        core.table = load_table(persisted, now_ms)?;
        core.current_epoch = persisted.current_epoch;
        core.last_vote_epoch = persisted.last_vote_epoch;
        core.current_epoch = core.max_epoch();
        core.open_slots = load_open_slots(me_rec, &core.table)?;
        core.update_state();
        Ok(core)
    }
}

/// Rebuilds the node table from the saved lines: entries first, then
/// master links and slots (a master may be listed after its replicas).
fn load_table(persisted: &NodesConf, now_ms: u64) -> Result<NodeTable, RestartError> {
    let mut table = NodeTable::new(NodeEntry::new(NULL_NAME, 0, now_ms));
    table.nodes.clear();
    for r in &persisted.nodes {
        let id = parse_id(&r.id)?;
        // A PFAIL (`fail?`) on disk is not loaded: it is an observation of
        // my own pings before the crash, which the new process makes again.
        // Redis loads it (whether it is on disk depends on whether anything
        // saved the config after it was set); the model drops it, and so
        // does the core, so that a restart is one behaviour, not two.
        let mut n = NodeEntry::new(id, r.flags & !flags::PFAIL, now_ms);
        n.ip = r.ip.clone();
        n.port = r.port;
        n.cport = r.cport;
        n.pong_received_ms = r.pong_received_ms;
        // As `clusterLoadConfig`: a replica with a master loads epoch 0 (the
        // file holds its master's epoch).
        n.config_epoch = if r.flags & flags::SLAVE != 0 && r.master.is_some() {
            0
        } else {
            r.config_epoch
        };
        table.nodes.insert(id, n);
    }
    for r in &persisted.nodes {
        let id = parse_id(&r.id)?;
        if let Some(m) = &r.master {
            let m = parse_id(m)?;
            if !table.contains(&m) {
                table.nodes.insert(m, NodeEntry::new(m, 0, now_ms));
            }
            table.attach_replica(&id, &m);
        }
        for range in &r.slots {
            if range.start > range.end || range.end as usize >= CLUSTER_SLOTS {
                let (start, end) = (range.start, range.end);
                return Err(RestartError::BadSlotRange {
                    id: r.id.clone(),
                    start,
                    end,
                });
            }
            for s in range.start..=range.end {
                table.add_slot(&id, s);
            }
        }
    }
    Ok(table)
}

/// Placeholder name for the table's initial entry, removed at once.
const NULL_NAME: NodeName = crate::codec::NULL_NODE_NAME;

/// My open slots as my line lists them (`clusterLoadConfig`).
fn load_open_slots(
    me: &NodeRecord,
    table: &NodeTable,
) -> Result<super::migration::OpenSlots, RestartError> {
    let mut open = super::migration::OpenSlots::default();
    let lists = [
        (&me.migrating, &mut open.migrating),
        (&me.importing, &mut open.importing),
    ];
    for (records, map) in lists {
        for (slot, id) in records {
            let bad = || RestartError::BadOpenSlot {
                slot: *slot,
                id: id.clone(),
            };
            let node = name_from_str(id).ok_or_else(bad)?;
            if *slot as usize >= CLUSTER_SLOTS {
                return Err(bad());
            }
            // A node the file does not list (a handshake node is not
            // saved): the open slot is dropped, where Redis would create
            // an entry without an address for it.
            if table.contains(&node) {
                map.insert(*slot, node);
            }
        }
    }
    Ok(open)
}

fn parse_id(id: &str) -> Result<NodeName, RestartError> {
    name_from_str(id).ok_or_else(|| RestartError::BadNodeId(id.to_string()))
}
