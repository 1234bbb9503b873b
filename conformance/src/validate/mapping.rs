//! From what the tap observed to the model's terms, in one place.
//!
//! - **Nodes.** Node `i` of the run is model node `i`: the scenarios form
//!   masters first (`0..M`) and replicas after, as the model's formed
//!   configurations number them. The model breaks configEpoch collisions
//!   by index where Redis breaks them by id; a formed cluster has distinct
//!   configEpochs, so this matters only if two masters are ever seen with
//!   one configEpoch, and the mapping refuses such a trace.
//! - **Slots.** Shard `s` is the slot range master `s` holds when the
//!   cluster is formed. A header or UPDATE claims a shard when its slots
//!   are exactly that range, none when it has none; anything else (a slot
//!   migration) is outside the model.
//! - **Epochs** are rank-compressed: the distinct values seen in the
//!   validated part (headers, UPDATEs, snapshots) together with `0..=M`
//!   (the formed start's) are numbered in order. Order is all the model's
//!   rules compare, and `+1` steps land on the next rank, so a run whose
//!   epochs are consecutive maps to itself. More ranks than the model's
//!   epoch slots do not fit, and are refused.
//! - **Messages.** Headers map field by field (sender, currentEpoch,
//!   configEpoch, master, claimed shard); PING and MEET keep their gossip
//!   minus the entries about sender and receiver (those change nothing at
//!   the receiver), an entry failing when it is flagged `fail?` or `fail`;
//!   PONGs lose their gossip (the model's carry none: every report a PONG
//!   could carry, a PING can); FAIL, AUTH_REQUEST, AUTH_ACK and UPDATE map
//!   one to one. MFSTART and the manual failover's flags (PAUSED, FORCEACK)
//!   are outside the model; PUBLISH, PUBLISHSHARD and MODULE are not
//!   modelled and are counted, not validated.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use clusterbus_model::message::MAX_NODES;
use clusterbus_model::state::EPOCH_SLOTS;
use clusterbus_model::{
    Body, Epoch, Gossip, GossipList, Header, ModelCfg, Msg, NodeIx, ShardSet, Start,
};

use crate::replay::mapping::shards_covering;

use super::observed::{BodyRead, EventRead, HeaderRead, ObservedTrace, SnapshotRead};

/// The note after which a formed cluster's snapshots are taken.
pub const FORMED_NOTE: &str = "cluster formed";

/// Why a trace (or one of its observations) cannot be put in model terms.
/// Each is an expected, documented outcome, not a rejection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outside(pub String);

/// What validation needs to know about one observed node's view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    pub node: NodeIx,
    pub current_epoch: Epoch,
    /// The configEpoch it announces (its master's, for a replica).
    pub my_epoch: Epoch,
    pub master: Option<NodeIx>,
    /// Per node: known by id, FAIL, PFAIL, master (None: a master), its
    /// configEpoch (for masters).
    pub peers: Vec<Option<PeerView>>,
    /// The owner of every shard in this node's view.
    pub owners: Vec<Option<NodeIx>>,
}

/// One line of a view, in model terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerView {
    pub fail: bool,
    pub pfail: bool,
    pub master: Option<NodeIx>,
    pub config_epoch: Epoch,
}

/// The mapping of one trace.
#[derive(Clone, Debug)]
pub struct Mapping {
    ids: HashMap<String, NodeIx>,
    pub masters: u8,
    /// `replicas[k]`: the master of node `masters + k` when formed.
    pub replicas: Vec<NodeIx>,
    /// Shard `s`'s slot range.
    pub shards: Vec<[u16; 2]>,
    ranks: BTreeMap<u64, Epoch>,
    /// Index of the first validated event (the formed cluster's note).
    pub start: usize,
}

fn outside<T>(why: impl Into<String>) -> Result<T, Outside> {
    Err(Outside(why.into()))
}

impl Mapping {
    /// Builds the mapping from the trace: the roles and shards of the
    /// formed cluster (from the snapshots after the formed note), and the
    /// ranks of every epoch the validated part shows.
    pub fn of(t: &ObservedTrace) -> Result<Mapping, Outside> {
        let n = t.head.nodes.len();
        if t.head.events_lost > 0 {
            return outside(format!(
                "{} events beyond the recorder's cap were not written",
                t.head.events_lost
            ));
        }
        if n > MAX_NODES {
            return outside(format!("{n} nodes: the model holds at most {MAX_NODES}"));
        }
        let Some(start) = t
            .events
            .iter()
            .position(|e| matches!(e, EventRead::Note { text, .. } if text == FORMED_NOTE))
        else {
            return outside(format!(
                "no {FORMED_NOTE:?} note: the run does not reach a formed cluster the model can start from"
            ));
        };
        let ids: HashMap<String, NodeIx> = t
            .head
            .nodes
            .iter()
            .map(|nd| (nd.id.clone(), nd.index as NodeIx))
            .collect();
        let formed = formed_view(t, start)?;
        let mut shards: Vec<(NodeIx, [u16; 2])> = Vec::new();
        let mut replicas = Vec::new();
        for line in &formed.nodes {
            let Some(&i) = ids.get(&line.id) else {
                return outside(format!("the formed view names an unknown node {}", line.id));
            };
            match &line.master {
                None => match line.slots.as_slice() {
                    [one] => shards.push((i, parse_range(one)?)),
                    other => {
                        return outside(format!("master n{i} holds {other:?}, not one slot range"))
                    }
                },
                Some(m) => {
                    let Some(&mi) = ids.get(m) else {
                        return outside(format!("n{i} replicates an unknown node {m}"));
                    };
                    replicas.push((i, mi));
                }
            }
        }
        shards.sort();
        replicas.sort();
        let masters = shards.len() as u8;
        if shards
            .iter()
            .enumerate()
            .any(|(k, (i, _))| *i as usize != k)
            || replicas
                .iter()
                .enumerate()
                .any(|(k, (i, _))| *i as usize != masters as usize + k)
        {
            return outside(
                "masters are not nodes 0..M and replicas the rest, as the model numbers them",
            );
        }
        let mut m = Mapping {
            ids,
            masters,
            replicas: replicas.iter().map(|(_, mi)| *mi).collect(),
            shards: shards.iter().map(|(_, r)| *r).collect(),
            ranks: BTreeMap::new(),
            start,
        };
        m.ranks = m.epoch_ranks(t)?;
        m.no_collision(t)?;
        Ok(m)
    }

    /// Rank of every epoch seen from `start` on, and of `0..=M`.
    fn epoch_ranks(&self, t: &ObservedTrace) -> Result<BTreeMap<u64, Epoch>, Outside> {
        let mut seen: BTreeSet<u64> = (0..=self.masters as u64).collect();
        for e in &t.events[self.start..] {
            match e {
                EventRead::Frame { header, body, .. } => {
                    seen.insert(header.current_epoch);
                    seen.insert(header.config_epoch);
                    if let BodyRead::Update { config_epoch, .. } = &**body {
                        seen.insert(*config_epoch);
                    }
                }
                EventRead::Snapshot { snapshot, .. } => {
                    seen.insert(snapshot.current_epoch);
                    seen.extend(snapshot.nodes.iter().map(|l| l.config_epoch));
                }
                _ => {}
            }
        }
        if seen.len() > EPOCH_SLOTS {
            return outside(format!(
                "{} distinct epochs: the model holds {EPOCH_SLOTS}",
                seen.len()
            ));
        }
        Ok(seen
            .into_iter()
            .enumerate()
            .map(|(r, e)| (e, r as Epoch))
            .collect())
    }

    /// Refuses a trace in which two masters claim slots with one
    /// configEpoch: the model resolves that by index, Redis by id.
    fn no_collision(&self, t: &ObservedTrace) -> Result<(), Outside> {
        let mut claims: BTreeMap<u64, String> = BTreeMap::new();
        for e in &t.events[self.start..] {
            let EventRead::Frame { header: h, .. } = e else {
                continue;
            };
            if h.master_id.is_some() || h.slots.is_empty() {
                continue;
            }
            let first = claims
                .entry(h.config_epoch)
                .or_insert_with(|| h.sender_id.clone());
            if *first != h.sender_id {
                return outside(format!(
                    "two masters claim slots with configEpoch {}: the model breaks such a collision by node index, Redis by node id",
                    h.config_epoch
                ));
            }
        }
        Ok(())
    }

    /// The highest epoch rank of the trace.
    pub fn top_epoch(&self) -> Epoch {
        self.ranks.values().copied().max().unwrap_or(0)
    }

    /// The ranks that are not the run's own epochs, as `run -> model`
    /// pairs (empty when the run's epochs are consecutive from 0).
    pub fn renumbered(&self) -> Vec<(u64, Epoch)> {
        self.ranks
            .iter()
            .filter(|(e, r)| **e != **r as u64)
            .map(|(e, r)| (*e, *r))
            .collect()
    }

    pub fn epoch(&self, e: u64) -> Result<Epoch, Outside> {
        match self.ranks.get(&e) {
            Some(r) => Ok(*r),
            None => outside(format!("epoch {e} was not ranked")),
        }
    }

    pub fn node(&self, id: &str) -> Result<NodeIx, Outside> {
        match self.ids.get(id) {
            Some(i) => Ok(*i),
            None => outside(format!("node id {id} is not one of the run's nodes")),
        }
    }

    /// The shards whose slots together are exactly `slots`.
    pub fn shards(&self, slots: &[[u16; 2]]) -> Result<ShardSet, Outside> {
        let shards: Vec<(u16, u16)> = self.shards.iter().map(|r| (r[0], r[1])).collect();
        let mut ranges: Vec<(u16, u16)> = slots.iter().map(|r| (r[0], r[1])).collect();
        ranges.sort_unstable();
        shards_covering(&shards, &ranges).or_else(outside)
    }

    /// A frame header in model terms.
    pub fn header(&self, h: &HeaderRead) -> Result<Header, Outside> {
        if let Some(f) = h.mflags.iter().find(|f| *f == "paused" || *f == "forceack") {
            return outside(format!(
                "a frame with the {f} flag: manual failover is not in the model"
            ));
        }
        Ok(Header {
            sender: self.node(&h.sender_id)?,
            current_epoch: self.epoch(h.current_epoch)?,
            config_epoch: self.epoch(h.config_epoch)?,
            master: match &h.master_id {
                Some(m) => Some(self.node(m)?),
                None => None,
            },
            shards: self.shards(&h.slots)?,
        })
    }

    /// A frame from `from` to `to` as a model message; `Ok(None)` for the
    /// types the model leaves out (PUBLISH, PUBLISHSHARD, MODULE). `reply`:
    /// it came on the connection `to` opened (a PONG there is a reply).
    pub fn message(
        &self,
        msg_type: &str,
        h: &HeaderRead,
        body: &BodyRead,
        to: NodeIx,
        reply: bool,
    ) -> Result<Option<Msg>, Outside> {
        let header = self.header(h)?;
        let gossip = || -> Result<GossipList, Outside> {
            let BodyRead::Gossip { gossip } = body else {
                return outside(format!("a {msg_type} without a gossip section"));
            };
            let mut list = GossipList::new();
            for g in gossip {
                let node = self.node(&g.id)?;
                if node == header.sender || node == to {
                    continue;
                }
                let failing = g.flags.iter().any(|f| f == "fail?" || f == "fail");
                list.insert(Gossip { node, failing });
            }
            Ok(list)
        };
        let body = match (msg_type, body) {
            ("PING", _) => Body::Ping { gossip: gossip()? },
            ("MEET", _) => Body::Meet { gossip: gossip()? },
            // The gossip is kept for the search, which hands the receiver
            // what it says as a PING's would (see `Search::convey`); a
            // model PONG carries none, and matching ignores it.
            ("PONG", _) => Body::Pong {
                gossip: gossip()?,
                reply,
            },
            ("FAIL", BodyRead::Fail { id }) => Body::Fail {
                about: self.node(id)?,
            },
            ("AUTH_REQUEST", _) => Body::AuthRequest,
            ("AUTH_ACK", _) => Body::AuthAck,
            (
                "UPDATE",
                BodyRead::Update {
                    id,
                    config_epoch,
                    slots,
                },
            ) => Body::Update {
                owner: self.node(id)?,
                config_epoch: self.epoch(*config_epoch)?,
                shards: self.shards(slots)?,
            },
            ("MFSTART", _) => return outside("MFSTART: manual failover is not in the model"),
            ("PUBLISH" | "PUBLISHSHARD" | "MODULE", _) => return Ok(None),
            (t, _) => return outside(format!("a {t} frame the mapping does not know")),
        };
        Ok(Some(Msg { header, body }))
    }

    /// The nodes a PING or PONG's gossip flags PFAIL, as a bit set.
    pub fn pfail_entries(&self, body: &BodyRead) -> u8 {
        let BodyRead::Gossip { gossip } = body else {
            return 0;
        };
        gossip
            .iter()
            .filter(|g| g.flags.iter().any(|f| f == "fail?"))
            .filter_map(|g| self.ids.get(&g.id))
            .fold(0, |bits, n| bits | 1 << n)
    }

    /// Every node's currentEpoch in its first snapshot after the formed
    /// note: a formed cluster may be past epoch M (two empty masters, the
    /// replicas-to-be, collide at configEpoch 0 and one bumps).
    pub fn formed_epochs(&self, t: &ObservedTrace) -> Result<Vec<Epoch>, Outside> {
        let n = self.masters as usize + self.replicas.len();
        (0..n)
            .map(|i| {
                let s = t.events[self.start..].iter().find_map(|e| match e {
                    EventRead::Snapshot { node, snapshot, .. } if *node == i => Some(snapshot),
                    _ => None,
                });
                match s {
                    Some(s) => self.epoch(s.current_epoch),
                    None => outside(format!("no snapshot of n{i} after the cluster formed")),
                }
            })
            .collect()
    }

    /// A node's snapshot in model terms.
    pub fn view(&self, node: NodeIx, s: &SnapshotRead) -> Result<View, Outside> {
        let n = self.masters as usize + self.replicas.len();
        let mut v = View {
            node,
            current_epoch: self.epoch(s.current_epoch)?,
            my_epoch: 0,
            master: None,
            peers: vec![None; n],
            owners: vec![None; self.shards.len()],
        };
        for line in &s.nodes {
            if line.flags.iter().any(|f| f == "handshake" || f == "noaddr") {
                continue;
            }
            let j = self.node(&line.id)?;
            let master = match &line.master {
                Some(m) => Some(self.node(m)?),
                None => None,
            };
            let epoch = self.epoch(line.config_epoch)?;
            for slot in &line.slots {
                for s in self.shards(&[parse_range(slot)?])?.iter() {
                    v.owners[s as usize] = Some(j);
                }
            }
            if line.flags.iter().any(|f| f == "myself") {
                v.my_epoch = epoch;
                v.master = master;
                continue;
            }
            if let Some(p) = v.peers.get_mut(j as usize) {
                *p = Some(PeerView {
                    fail: line.flags.iter().any(|f| f == "fail"),
                    pfail: line.flags.iter().any(|f| f == "fail?"),
                    master,
                    config_epoch: epoch,
                });
            }
        }
        Ok(v)
    }

    /// The validation configuration of the trace: its node counts, and
    /// bounds wide enough for what its validated part shows (the epochs,
    /// every kill, stop, drop and closed connection). Nothing hand-tuned.
    pub fn config(&self, t: &ObservedTrace) -> ModelCfg {
        let mut crashable = BTreeSet::new();
        let (mut crashes, mut breaks, mut slow) = (0usize, 0usize, false);
        for e in &t.events[self.start..] {
            match e {
                EventRead::Process { node, action, .. } => match action.as_str() {
                    "kill" | "term" => {
                        crashes += 1;
                        crashable.insert(*node as NodeIx);
                    }
                    "stop" => slow = true,
                    // Messages to a restarted node before its peers
                    // reconnect are lost: a link break each way per peer.
                    "restart" => breaks += 2 * t.head.nodes.len(),
                    _ => {}
                },
                EventRead::Frame { fate, .. } if fate == "dropped" => breaks += 1,
                EventRead::ConnClose { from: Some(_), .. } => breaks += 2,
                EventRead::Fault { .. } => slow = true,
                _ => {}
            }
        }
        ModelCfg {
            name: "live-trace",
            masters: self.masters,
            replicas: self.replicas.clone(),
            start: Start::Formed,
            meets: vec![],
            crashable: crashable.into_iter().collect(),
            max_crashes: crashes.min(u8::MAX as usize) as u8,
            max_link_breaks: breaks.min(u8::MAX as usize) as u8,
            max_epoch: self.top_epoch(),
            max_queue: clusterbus_model::network::MAX_IN_FLIGHT,
            max_in_flight: clusterbus_model::network::MAX_IN_FLIGHT,
            max_depth: 0,
            check_depth: None,
            // A stopped node, a held or delayed link: an answer may be late
            // while nothing is lost, so a node may time out a live peer.
            spurious_timeouts: slow,
            // Reports never expire, as in the model's own configurations:
            // expiry is invisible on the wire, and its every combination
            // would multiply the candidates. A run that needs one expired
            // is rejected, and the rejection says which report.
            report_expiry: false,
            rejoin_in_reach: false,
            quiet_in_reach: false,
            interchangeable: vec![],
            reshard: None,
            findings: vec![],
            focus: None,
            bug: None,
        }
    }
}

/// Node 0's view in the snapshots after the formed note (each node's is
/// checked against the model's start by the search).
fn formed_view(t: &ObservedTrace, start: usize) -> Result<SnapshotRead, Outside> {
    t.events[start..]
        .iter()
        .find_map(|e| match e {
            EventRead::Snapshot {
                snapshot, node: 0, ..
            } => Some(snapshot.clone()),
            _ => None,
        })
        .ok_or_else(|| Outside("no snapshot of node 0 after the cluster formed".into()))
}

/// `a-b` or `a` as printed by CLUSTER NODES.
fn parse_range(s: &str) -> Result<[u16; 2], Outside> {
    crate::live::snapshot::slot_field_range(s).ok_or_else(|| {
        Outside(format!(
            "slot field {s:?} is not a slot range (a migration?)"
        ))
    })
}
