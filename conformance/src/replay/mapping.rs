//! The one place where the model's vocabulary meets the node's: node indices
//! become 40-hex ids and loopback addresses, shards become slot ranges, and
//! a formed cluster becomes the nodes.conf each node starts from.

use clusterbus_model::{ModelCfg, NodeIx, Shard, Start};
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
            shards: slot_split(cfg.masters as usize),
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

    /// The shard whose range is exactly `slots`; `Err` for any other set.
    pub fn shard_of(&self, slots: &[(u16, u16)]) -> Result<Option<Shard>, String> {
        match slots {
            [] => Ok(None),
            [(s, e)] => self
                .shards
                .iter()
                .position(|r| r == &(*s, *e))
                .map(|k| Some(k as Shard))
                .ok_or_else(|| format!("slots {s}-{e} are no shard")),
            more => Err(format!("{} slot ranges are no shard", more.len())),
        }
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
