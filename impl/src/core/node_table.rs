//! The node table: everything one node knows about every node of the cluster
//! (Redis's `clusterNode` dictionary and `clusterState.slots`), and the small
//! structural operations on it (add/remove slots, set a master, rename).

use std::collections::{BTreeMap, BTreeSet};

use crate::codec::{flags, NodeName, SlotBitmap};

use super::constants::CLUSTER_SLOTS;

/// The state of my outbound link to a node (`clusterNode.link`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LinkState {
    /// No link: the scheduler asks for a reconnect.
    Down,
    /// A `Connect` effect was issued; messages may be queued on it.
    Connecting { since_ms: u64 },
    /// Connected (`LinkUp` seen).
    Up { since_ms: u64 },
}

impl LinkState {
    /// Whether Redis would consider `node->link != NULL`.
    pub fn exists(&self) -> bool {
        !matches!(self, LinkState::Down)
    }
    /// When the link was created, if it exists.
    pub fn created_ms(&self) -> Option<u64> {
        match self {
            LinkState::Down => None,
            LinkState::Connecting { since_ms } | LinkState::Up { since_ms } => Some(*since_ms),
        }
    }
}

/// One known node (`clusterNode`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct NodeEntry {
    /// The node id (a random one while in handshake).
    #[serde(with = "super::snapshot::name")]
    pub name: NodeName,
    /// `codec::flags` bits.
    pub flags: u16,
    /// Announced IP ("" when unknown).
    pub ip: String,
    /// Client port.
    pub port: u16,
    /// Cluster bus port.
    pub cport: u16,
    /// Plaintext port when TLS is on (0 here).
    pub pport: u16,
    /// The master of a replica (`slaveof`).
    #[serde(with = "super::snapshot::opt_name")]
    pub master: Option<NodeName>,
    /// Replicas of a master (`slaves`).
    #[serde(with = "super::snapshot::name_set")]
    pub replicas: BTreeSet<NodeName>,
    /// Slots this node serves, in my view.
    #[serde(with = "super::snapshot::bitmap")]
    pub slots: SlotBitmap,
    /// Number of slots in `slots`.
    pub numslots: usize,
    /// The configEpoch I know for this node.
    pub config_epoch: u64,
    /// When the outstanding ping was sent; `None` when no ping is pending.
    pub ping_sent_ms: Option<u64>,
    /// When the last PONG from it arrived (or a newer time learned from gossip).
    pub pong_received_ms: u64,
    /// When any message from it last arrived.
    pub data_received_ms: u64,
    /// When the node was flagged FAIL (`None` after a restart: long ago).
    pub fail_time_ms: Option<u64>,
    /// When I last voted for a replica of this master.
    pub voted_time_ms: Option<u64>,
    /// Replication offset from its last header.
    pub repl_offset: u64,
    /// When the entry was created (`ctime`).
    pub ctime_ms: u64,
    /// My outbound link to it.
    pub link: LinkState,
    /// Failure reports about this node: reporter -> time of the last report.
    #[serde(with = "super::snapshot::name_keys")]
    pub fail_reports: BTreeMap<NodeName, u64>,
}

impl NodeEntry {
    /// A fresh entry, as `createClusterNode` makes it.
    pub fn new(name: NodeName, node_flags: u16, now_ms: u64) -> NodeEntry {
        NodeEntry {
            name,
            flags: node_flags,
            ip: String::new(),
            port: 0,
            cport: 0,
            pport: 0,
            master: None,
            replicas: BTreeSet::new(),
            slots: SlotBitmap::empty(),
            numslots: 0,
            config_epoch: 0,
            ping_sent_ms: None,
            pong_received_ms: 0,
            data_received_ms: 0,
            fail_time_ms: None,
            voted_time_ms: None,
            repl_offset: 0,
            ctime_ms: now_ms,
            link: LinkState::Down,
            fail_reports: BTreeMap::new(),
        }
    }
    /// Whether any of the `codec::flags` bits in `flag` is set.
    pub fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }
    /// MASTER flag.
    pub fn is_master(&self) -> bool {
        self.has(flags::MASTER)
    }
    /// SLAVE flag.
    pub fn is_replica(&self) -> bool {
        self.has(flags::SLAVE)
    }
    /// `nodeTimedOut`: PFAIL.
    pub fn timed_out(&self) -> bool {
        self.has(flags::PFAIL)
    }
    /// `nodeFailed`: FAIL.
    pub fn failed(&self) -> bool {
        self.has(flags::FAIL)
    }
    /// HANDSHAKE flag: not yet known by its real name.
    pub fn in_handshake(&self) -> bool {
        self.has(flags::HANDSHAKE)
    }
}

/// All known nodes plus the slot → owner table.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct NodeTable {
    /// Every known node by id, myself included.
    #[serde(with = "super::snapshot::name_keys")]
    pub nodes: BTreeMap<NodeName, NodeEntry>,
    /// `clusterState.slots`: owner of each slot in my view.
    #[serde(with = "super::snapshot::slot_owners")]
    pub slot_owner: Vec<Option<NodeName>>,
}

impl NodeTable {
    /// A table holding only myself.
    pub fn new(me: NodeEntry) -> NodeTable {
        let mut nodes = BTreeMap::new();
        nodes.insert(me.name, me);
        NodeTable {
            nodes,
            slot_owner: vec![None; CLUSTER_SLOTS],
        }
    }
    /// The entry of `name`.
    pub fn get(&self, name: &NodeName) -> Option<&NodeEntry> {
        self.nodes.get(name)
    }
    /// The entry of `name`, mutable.
    pub fn get_mut(&mut self, name: &NodeName) -> Option<&mut NodeEntry> {
        self.nodes.get_mut(name)
    }
    /// Whether `name` is known.
    pub fn contains(&self, name: &NodeName) -> bool {
        self.nodes.contains_key(name)
    }
    /// Number of known nodes (`dictSize(nodes)`).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }
    /// Whether no node is known (never true: myself is always there).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
    /// Config epoch of the owner of `slot`, `None` when unclaimed.
    pub fn slot_owner_epoch(&self, slot: u16) -> Option<u64> {
        let owner = self.slot_owner[slot as usize]?;
        self.nodes.get(&owner).map(|n| n.config_epoch)
    }

    /// Gives `slot` to `owner` if unassigned. Mirrors `clusterAddSlot`.
    pub fn add_slot(&mut self, owner: &NodeName, slot: u16) -> bool {
        if self.slot_owner[slot as usize].is_some() {
            return false;
        }
        let Some(n) = self.nodes.get_mut(owner) else {
            return false;
        };
        if !n.slots.contains(slot) {
            n.slots.insert(slot);
            n.numslots += 1;
        }
        self.slot_owner[slot as usize] = Some(*owner);
        true
    }

    /// Unassigns `slot`. Mirrors `clusterDelSlot`.
    pub fn del_slot(&mut self, slot: u16) -> bool {
        let Some(owner) = self.slot_owner[slot as usize].take() else {
            return false;
        };
        if let Some(n) = self.nodes.get_mut(&owner) {
            if n.slots.contains(slot) {
                n.slots.remove(slot);
                n.numslots -= 1;
            }
        }
        true
    }

    /// Unassigns every slot of `name`. Mirrors `clusterDelNodeSlots`.
    pub fn del_node_slots(&mut self, name: &NodeName) -> usize {
        let slots: Vec<u16> = match self.nodes.get(name) {
            Some(n) if n.numslots > 0 => n.slots.iter().collect(),
            _ => return 0,
        };
        for s in &slots {
            self.del_slot(*s);
        }
        slots.len()
    }

    /// Detaches a replica from its master's replica set.
    pub fn remove_replica(&mut self, master: &NodeName, replica: &NodeName) {
        if let Some(m) = self.nodes.get_mut(master) {
            m.replicas.remove(replica);
        }
    }

    /// Makes `replica` a replica of `master` in my view (sets `slaveof` and the
    /// master's replica set). Mirrors `clusterNodeAddSlave` plus the pointer update.
    pub fn attach_replica(&mut self, replica: &NodeName, master: &NodeName) {
        let old = self.nodes.get(replica).and_then(|n| n.master);
        if let Some(old) = old {
            self.remove_replica(&old, replica);
        }
        if let Some(m) = self.nodes.get_mut(master) {
            m.replicas.insert(*replica);
        }
        if let Some(r) = self.nodes.get_mut(replica) {
            r.master = Some(*master);
        }
    }

    /// Turns `name` into a master. Mirrors `clusterSetNodeAsMaster`; returns
    /// whether anything changed.
    pub fn set_node_as_master(&mut self, name: &NodeName) -> bool {
        let Some(n) = self.nodes.get(name) else {
            return false;
        };
        if n.is_master() {
            return false;
        }
        if let Some(old) = n.master {
            self.remove_replica(&old, name);
        }
        if let Some(n) = self.nodes.get_mut(name) {
            n.flags &= !flags::SLAVE;
            n.flags |= flags::MASTER;
            n.master = None;
        }
        true
    }

    /// Removes a node and everything that points at it. Mirrors `clusterDelNode`.
    pub fn del_node(&mut self, name: &NodeName) -> Option<NodeEntry> {
        for s in 0..CLUSTER_SLOTS {
            if self.slot_owner[s] == Some(*name) {
                self.slot_owner[s] = None;
            }
        }
        for n in self.nodes.values_mut() {
            n.fail_reports.remove(name);
            n.replicas.remove(name);
            if n.master == Some(*name) {
                n.master = None;
            }
        }
        self.nodes.remove(name)
    }

    /// Replaces a handshake node's random name with its real one. Mirrors
    /// `clusterRenameNode`.
    pub fn rename(&mut self, from: &NodeName, to: &NodeName) {
        if let Some(mut n) = self.nodes.remove(from) {
            n.name = *to;
            self.nodes.insert(*to, n);
        }
    }

    /// Masters that serve at least one slot (`clusterState.size`, computed
    /// on demand rather than cached by `clusterUpdateState`).
    pub fn size(&self) -> usize {
        self.nodes
            .values()
            .filter(|n| n.is_master() && n.numslots > 0)
            .count()
    }
}
