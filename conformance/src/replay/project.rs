//! Projections: a model node and a node core seen through the same fields,
//! and a wire message turned back into the model's message, so the two sides
//! can be compared field by field after every step.

use super::mapping::Mapping;
use clusterbus_model::{Body, Gossip, GossipList, Header, Msg, Node, NodeIx, Shard, ShardSet};
use clusterbus_node::codec::{self, flags, NodeName};
use clusterbus_node::core::Core;
use serde::Serialize;

/// What one node believes about one other node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PeerView {
    /// In the table under its real id.
    pub known: bool,
    /// A HANDSHAKE entry for its address exists.
    pub handshake: bool,
    /// Its master, when known.
    pub master: Option<NodeIx>,
    /// Its configEpoch, when known.
    pub config_epoch: u64,
    pub pfail: bool,
    pub fail: bool,
    /// Masters whose failure report about it is valid, as a bit set, while
    /// it is PFAIL: the only time reports are counted. (Outside PFAIL the two
    /// sides age reports differently: the model has no clock.)
    pub reports: u8,
}

/// One node's state in the terms the model and the core share.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeView {
    pub up: bool,
    pub current_epoch: u64,
    pub last_vote_epoch: u64,
    pub config_epoch: u64,
    pub master: Option<NodeIx>,
    /// Owner of each shard in my view; `Err` when a shard's slots are split.
    pub owners: Vec<Result<Option<NodeIx>, String>>,
    /// The shards I am importing; `Err` when a shard is partly imported.
    pub importing: Result<ShardSet, String>,
    pub peers: Vec<PeerView>,
    /// The running election: its epoch and the masters that voted (bit set).
    pub election: Option<(u64, u8)>,
}

impl NodeView {
    /// The model's node `me`. A node that is down shows only `up`, as the
    /// node's process is gone.
    pub fn of_model(me: NodeIx, node: &Node) -> NodeView {
        if !node.up {
            return NodeView::down(node.peers.len(), node.owners.len());
        }
        let peers = node
            .peers
            .iter()
            .enumerate()
            .map(|(j, p)| {
                if j == me as usize {
                    return PeerView::default();
                }
                PeerView {
                    known: p.known,
                    handshake: p.handshake.is_some(),
                    master: p.master.filter(|_| p.known),
                    config_epoch: if p.known { p.config_epoch as u64 } else { 0 },
                    pfail: p.known && p.pfail,
                    fail: p.known && p.fail,
                    reports: if p.known && p.pfail { p.reports } else { 0 },
                }
            })
            .collect();
        NodeView {
            up: true,
            current_epoch: node.current_epoch as u64,
            last_vote_epoch: node.last_vote_epoch as u64,
            config_epoch: node.config_epoch as u64,
            master: node.master,
            owners: node.owners.iter().map(|o| Ok(*o)).collect(),
            importing: Ok(node.importing),
            peers,
            election: node.election.as_ref().map(|e| (e.epoch as u64, e.votes)),
        }
    }

    /// A node core, at its own clock `now_ms`.
    pub fn of_core(map: &Mapping, core: &Core, now_ms: u64) -> NodeView {
        let n = map.len();
        let me = map.index_of(&core.id());
        let mut peers = vec![PeerView::default(); n];
        let validity = core.report_validity_ms();
        for e in core.nodes() {
            if e.has(flags::MYSELF) {
                continue;
            }
            if e.has(flags::HANDSHAKE) {
                if let Some(j) = map.index_at(&e.ip, e.cport) {
                    peers[j as usize].handshake = true;
                }
                continue;
            }
            let Some(j) = map.index_of(&e.name) else {
                continue;
            };
            let p = &mut peers[j as usize];
            p.known = true;
            p.master = if e.is_master() {
                None
            } else {
                e.master.and_then(|m| map.index_of(&m))
            };
            p.config_epoch = e.config_epoch;
            p.pfail = e.has(flags::PFAIL);
            p.fail = e.has(flags::FAIL);
            if p.pfail {
                p.reports = e
                    .fail_reports
                    .iter()
                    .filter(|(_, t)| now_ms.saturating_sub(**t) <= validity)
                    .filter_map(|(r, _)| map.index_of(r))
                    .fold(0u8, |bits, r| bits | (1 << r));
            }
        }
        if let Some(me) = me {
            peers[me as usize] = PeerView::default();
        }
        let owners = (0..map.cfg.masters)
            .map(|s| {
                let (start, end) = map.shard_range(s);
                let first = core.slot_owner(start);
                // One owner holds the whole range (bit tests; a slot has one owner).
                let whole = match first.and_then(|o| core.node(&o)) {
                    Some(owner) => (start..=end).all(|slot| owner.slots.contains(slot)),
                    None => (start..=end).all(|slot| core.slot_owner(slot).is_none()),
                };
                if !whole {
                    return Err(format!("slots {start}-{end} have several owners"));
                }
                Ok(first.and_then(|o| map.index_of(&o)))
            })
            .collect();
        let importing = (0..map.cfg.masters)
            .filter_map(|s| {
                let (start, end) = map.shard_range(s);
                let open = (start..=end)
                    .filter(|slot| core.importing_from(*slot).is_some())
                    .count();
                match open {
                    0 => None,
                    n if n == usize::from(end - start) + 1 => Some(Ok(s as Shard)),
                    _ => Some(Err(format!("slots {start}-{end} are partly imported"))),
                }
            })
            .collect::<Result<ShardSet, String>>();
        let e = core.election();
        let election = (e.auth_sent && !e.expired).then(|| {
            let votes = e
                .votes
                .iter()
                .filter_map(|v| map.index_of(v))
                .fold(0u8, |bits, v| bits | (1 << v));
            (e.auth_epoch, votes)
        });
        NodeView {
            up: true,
            current_epoch: core.current_epoch(),
            last_vote_epoch: core.last_vote_epoch(),
            config_epoch: core.config_epoch(),
            master: core.master().and_then(|m| map.index_of(&m)),
            owners,
            importing,
            peers,
            election,
        }
    }

    pub fn down(n: usize, shards: usize) -> NodeView {
        NodeView {
            up: false,
            current_epoch: 0,
            last_vote_epoch: 0,
            config_epoch: 0,
            master: None,
            owners: vec![Ok(None); shards],
            importing: Ok(ShardSet::EMPTY),
            peers: vec![PeerView::default(); n],
            election: None,
        }
    }

    /// The fields that differ, as `name: model vs node` lines.
    pub fn differences(&self, node: &NodeView) -> Vec<String> {
        let mut out = Vec::new();
        let mut field = |name: String, a: String, b: String| {
            if a != b {
                out.push(format!("{name}: model {a}, node {b}"));
            }
        };
        field("up".into(), fmt(&self.up), fmt(&node.up));
        field(
            "currentEpoch".into(),
            fmt(&self.current_epoch),
            fmt(&node.current_epoch),
        );
        field(
            "lastVoteEpoch".into(),
            fmt(&self.last_vote_epoch),
            fmt(&node.last_vote_epoch),
        );
        field(
            "configEpoch".into(),
            fmt(&self.config_epoch),
            fmt(&node.config_epoch),
        );
        field("master".into(), fmt(&self.master), fmt(&node.master));
        for (s, (a, b)) in self.owners.iter().zip(&node.owners).enumerate() {
            field(format!("owner of shard {s}"), fmt(a), fmt(b));
        }
        field(
            "importing".into(),
            fmt(&self.importing),
            fmt(&node.importing),
        );
        for (j, (a, b)) in self.peers.iter().zip(&node.peers).enumerate() {
            field(format!("view of n{j}"), fmt(a), fmt(b));
        }
        field("election".into(), fmt(&self.election), fmt(&node.election));
        out
    }
}

fn fmt<T: std::fmt::Debug>(v: &T) -> String {
    format!("{v:?}")
}

/// A wire message in the model's terms. PONGs lose their gossip: the
/// model's PONGs carry none (every report a PONG could carry, a PING can).
/// `reply`: it arrives on the receiver's own link (a PONG there answers
/// the receiver's PING).
pub fn msg_of_wire(map: &Mapping, msg: &codec::Message, reply: bool) -> Result<Msg, String> {
    let h = &msg.header;
    let index = |name: &NodeName| {
        map.index_of(name)
            .ok_or_else(|| format!("unknown node {}", String::from_utf8_lossy(name)))
    };
    let epoch = |e: u64| u8::try_from(e).map_err(|_| format!("epoch {e} out of the model's range"));
    let master = if h.slaveof.iter().all(|b| *b == 0) {
        None
    } else {
        Some(index(&h.slaveof)?)
    };
    let header = Header {
        sender: index(&h.sender)?,
        current_epoch: epoch(h.current_epoch)?,
        config_epoch: epoch(h.config_epoch)?,
        master,
        shards: map.shards_of(&slot_ranges(&h.myslots))?,
    };
    let gossip_of = |entries: &[codec::GossipEntry]| -> Result<GossipList, String> {
        let mut g = GossipList::new();
        for e in entries {
            g.insert(Gossip {
                node: index(&e.nodename)?,
                failing: e.flags & (flags::PFAIL | flags::FAIL) != 0,
            });
        }
        Ok(g)
    };
    let body = match &msg.body {
        codec::Body::Meet { gossip, .. } => Body::Meet {
            gossip: gossip_of(gossip)?,
        },
        codec::Body::Ping { gossip, .. } => Body::Ping {
            gossip: gossip_of(gossip)?,
        },
        codec::Body::Pong { .. } => Body::Pong {
            gossip: GossipList::new(),
            reply,
        },
        codec::Body::Fail { nodename } => Body::Fail {
            about: index(nodename)?,
        },
        codec::Body::FailoverAuthRequest => Body::AuthRequest,
        codec::Body::FailoverAuthAck => Body::AuthAck,
        codec::Body::Update {
            config_epoch,
            nodename,
            slots,
        } => Body::Update {
            owner: index(nodename)?,
            config_epoch: epoch(*config_epoch)?,
            shards: map.shards_of(&slot_ranges(slots))?,
        },
        other => {
            return Err(format!(
                "a {:?} message, outside the model",
                other.message_type()
            ))
        }
    };
    Ok(Msg { header, body })
}

/// The slots of a bitmap as ascending inclusive ranges (whole bytes at a
/// time: a message's bitmap is mostly empty or mostly full).
pub fn slot_ranges(bits: &codec::SlotBitmap) -> Vec<(u16, u16)> {
    let mut out: Vec<(u16, u16)> = Vec::new();
    let mut push = |s: u16, e: u16| match out.last_mut() {
        Some((_, end)) if *end + 1 == s => *end = e,
        _ => out.push((s, e)),
    };
    for (k, byte) in bits.0.iter().enumerate() {
        let base = (k * 8) as u16;
        match *byte {
            0 => {}
            0xff => push(base, base + 7),
            b => (0..8u16)
                .filter(|j| b & (1 << j) != 0)
                .for_each(|j| push(base + j, base + j)),
        }
    }
    out
}
