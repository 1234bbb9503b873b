//! The one place where the model's vocabulary meets the node's: node indices
//! become 40-hex ids and loopback addresses, shards become slot ranges, and
//! a formed cluster becomes the nodes.conf each node starts from.

use clusterbus_model::{ModelCfg, NodeIx, Shard, ShardSet, Start};
use clusterbus_node::codec::NodeName;
use clusterbus_node::config::{NodeRecord, NodesConf, SlotRange};
use clusterbus_node::core::{name_str, CoreConfig, NodeIdentity};
use clusterbus_node::sim::cluster::slot_split;

/// cluster-node-timeout of the replayed nodes. Only the ratios matter: the
/// replayer moves each node's clock by multiples of it.
pub const NODE_TIMEOUT_MS: u64 = 1_000;
/// Where every node's clock starts (far from 0, so "never" stays distinct).
pub const CLOCK_START_MS: u64 = 1_000_000;
const IP: &str = "127.0.0.1";
const PORT_BASE: u16 = 30_000;

/// The slot range of each shard: the node's own even split, except that a
/// shard the configuration's operator moves is one slot at the edge of its
/// range (its last; the first for shard 0), and the shard before it (after
/// it, for shard 0) takes the rest, so that the model's one migration step
/// is one `CLUSTER SETSLOT` on the node.
pub fn shard_ranges(cfg: &ModelCfg) -> Vec<(u16, u16)> {
    let mut ranges = slot_split(cfg.masters as usize);
    if let Some(k) = cfg.reshard.map(|r| r.shard as usize) {
        let (start, end) = ranges[k];
        ranges[k] = (end, end);
        match k.checked_sub(1) {
            Some(before) => ranges[before].1 = end - 1,
            None => {
                ranges[0] = (start, start);
                ranges[1].0 = start + 1;
            }
        }
    }
    ranges
}

/// The shards whose ranges (`shards[k]` is shard `k`'s) make up exactly the
/// ascending, merged ranges `slots`; `Err` names a range that splits one.
pub fn shards_covering(shards: &[(u16, u16)], slots: &[(u16, u16)]) -> Result<ShardSet, String> {
    let mut set = ShardSet::EMPTY;
    for &(start, end) in slots {
        let mut next = start;
        loop {
            let Some(k) = shards.iter().position(|r| r.0 == next && r.1 <= end) else {
                return Err(format!("slots {start}-{end} are not whole shards"));
            };
            set.insert(k as Shard);
            if shards[k].1 == end {
                break;
            }
            next = shards[k].1 + 1;
        }
    }
    Ok(set)
}

/// Ids, addresses and slot ranges of one configuration.
#[derive(Clone, Debug)]
pub struct Mapping {
    pub cfg: ModelCfg,
    ids: Vec<NodeName>,
    shards: Vec<(u16, u16)>,
}

impl Mapping {
    pub fn new(cfg: &ModelCfg) -> Mapping {
        // Index order is id order: node 0 has the smallest id, as the model's
        // collision rule assumes.
        let ids = (0..cfg.node_count())
            .map(|i| {
                let text = format!("{:040x}", 0xc1u64 * 0x1_0000 + i as u64);
                let mut id = [0u8; 40];
                id.copy_from_slice(text.as_bytes());
                id
            })
            .collect();
        Mapping {
            cfg: cfg.clone(),
            ids,
            shards: shard_ranges(cfg),
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn id(&self, i: NodeIx) -> NodeName {
        self.ids[i as usize]
    }

    pub fn index_of(&self, id: &NodeName) -> Option<NodeIx> {
        self.ids.iter().position(|x| x == id).map(|i| i as NodeIx)
    }

    pub fn port(i: NodeIx) -> u16 {
        PORT_BASE + i as u16
    }

    pub fn cport(i: NodeIx) -> u16 {
        PORT_BASE + 10_000 + i as u16
    }

    /// The node listening on `ip:cport`.
    pub fn index_at(&self, ip: &str, cport: u16) -> Option<NodeIx> {
        (0..self.len() as NodeIx).find(|&i| ip == IP && cport == Self::cport(i))
    }

    pub fn identity(&self, i: NodeIx) -> NodeIdentity {
        NodeIdentity {
            id: self.id(i),
            ip: IP.into(),
            port: Self::port(i),
            cport: Self::cport(i),
        }
    }

    /// The name node `i` gives the handshake node its `CLUSTER MEET` of `peer` creates.
    pub fn handshake_id(&self, i: NodeIx, peer: NodeIx) -> NodeName {
        let text = format!("{:040x}", 0xaa00u64 + (i as u64) * 0x100 + peer as u64);
        let mut id = [0u8; 40];
        id.copy_from_slice(text.as_bytes());
        id
    }

    pub fn core_config() -> CoreConfig {
        CoreConfig {
            node_timeout_ms: NODE_TIMEOUT_MS,
            // The model has no data to age: the validity check is off.
            replica_validity_factor: 0,
            require_full_coverage: true,
        }
    }

    /// The slots of `shard`.
    pub fn shard_range(&self, shard: Shard) -> (u16, u16) {
        self.shards[shard as usize]
    }

    /// The shards whose ranges together are exactly `slots`; `Err` for a
    /// set that splits a shard.
    pub fn shards_of(&self, slots: &[(u16, u16)]) -> Result<ShardSet, String> {
        shards_covering(&self.shards, slots)
    }

    /// The nodes.conf node `me` of a formed cluster starts from: masters
    /// `0..M` own their shards with configEpochs `1..=M`, replicas follow
    /// the configuration, and currentEpoch is M.
    pub fn formed_conf(&self, me: NodeIx) -> NodesConf {
        let cfg = &self.cfg;
        debug_assert_eq!(cfg.start, Start::Formed);
        let nodes = (0..self.len() as NodeIx)
            .map(|j| {
                let master = cfg.initial_master(j);
                let primary = master.unwrap_or(j);
                let mut flags = if master.is_some() { "slave" } else { "master" }.to_string();
                if j == me {
                    flags = format!("myself,{flags}");
                }
                let slots = match master {
                    None => {
                        let (start, end) = self.shard_range(j);
                        vec![SlotRange { start, end }]
                    }
                    Some(_) => vec![],
                };
                NodeRecord {
                    id: name_str(&self.id(j)),
                    ip: IP.into(),
                    port: Self::port(j),
                    cport: Self::cport(j),
                    hostname: None,
                    flags: clusterbus_node::config::flags_from_str(&flags).unwrap_or(0),
                    master: master.map(|m| name_str(&self.id(m))),
                    ping_sent_ms: 0,
                    pong_received_ms: 0,
                    config_epoch: primary as u64 + 1,
                    link_connected: true,
                    slots,
                    migrating: vec![],
                    importing: vec![],
                }
            })
            .collect();
        NodesConf {
            nodes,
            current_epoch: cfg.masters as u64,
            last_vote_epoch: 0,
        }
    }
}
