//! The sans-IO protocol state machine of one cluster node.
//!
//! A [`Core`] is one node's view of the cluster bus protocol of Redis 7.0:
//! the handshake by which nodes meet, the gossip that spreads who is alive,
//! failure detection (PFAIL from my own pings, FAIL once a majority of the
//! slot-owning masters report it), replica elections with epoch votes, and
//! slot ownership settled by configEpoch.
//!
//! The core reads no clock, opens no socket and draws no random number.
//! Method families:
//! - input: [`Core::handle`] takes `now_ms` and an [`Event`] (a message, a
//!   command, a timer expiry; random choices are inside the event);
//! - output: the returned [`Effect`]s, to be carried out in order. A
//!   `Persist { fsync: true }` must be complete before any later effect runs;
//!   [`split_at_sync`] splits a batch that way;
//! - getters: [`Core::summary`], [`Core::persisted`], [`Core::node`],
//!   [`Core::nodes`], ... used by the scheduler and by renderers;
//! - construction: [`Core::new`] for a fresh node, [`Core::restart`] from
//!   nodes.conf after a crash.
//!
//! Timer events are computed by [`crate::scheduler`] from the getters here.
//!
//! Where this core knowingly differs from Redis 7.0:
//! - a currentEpoch learned from a header is saved, so it never goes back
//!   across a restart (Redis keeps it in memory only);
//! - the core holds no data: its replication offset is 0 and the replica
//!   validity check measures the time since the master's last PONG unless
//!   the runtime reports them ([`Core::set_repl_offset`],
//!   [`Core::set_replication_last_io`]), and a manual failover may start as
//!   soon as the paused master's offset arrives;
//! - not implemented: replica migration (and the MIGRATE_TO flag),
//!   PUBLISH and MODULE payloads (accepted, ignored);
//! - `cluster_state` has no rejoin/writable delays, and `cluster size` is
//!   computed when needed rather than cached by `clusterUpdateState`;
//! - votes are counted per voter, so a duplicated AUTH_ACK counts once;
//! - headers always carry this node's IP in `myip`.

#[cfg(feature = "alterations")]
pub mod alteration;
mod commands;
pub mod constants;
pub mod effect;
pub mod election;
mod epoch;
pub mod event;
pub mod failure;
mod gossip;
mod handshake;
pub mod info;
mod manual_failover;
pub mod migration;
pub mod node_table;
mod outgoing;
mod packet;
mod persist;
pub mod rules;
mod snapshot;
pub mod summary;
pub mod vote;

use crate::codec::{flags, NodeName};

/// Whether a rule is broken on purpose (see [`alteration`]); `false` without
/// the `alterations` feature, so that production builds carry no trace of it.
macro_rules! altered {
    ($core:expr, $rule:ident) => {{
        #[cfg(feature = "alterations")]
        let broken = $core.altered($crate::core::alteration::Alteration::$rule);
        #[cfg(not(feature = "alterations"))]
        let broken = false;
        broken
    }};
}
pub(crate) use altered;

pub use constants::*;
pub use effect::{sends, split_at_sync, Effect, Reply};
pub use event::{ClusterCommand, Event, FailoverMode, GossipChoice, LinkId};
pub use info::{BusStats, ClusterInfo};
pub use node_table::{LinkState, NodeEntry, NodeTable};
pub use packet::random_name;
pub use persist::RestartError;
pub use rules::gossip_wanted;
pub use summary::{ClusterState, NodeSummary, PeerSummary, Role, SlotOwnerRange};

/// Who I am: the fields of `myself` a node starts with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeIdentity {
    /// My node id.
    pub id: NodeName,
    /// My announced IP.
    pub ip: String,
    /// My client port.
    pub port: u16,
    /// My bus port.
    pub cport: u16,
}

/// The `cluster-*` settings the protocol depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CoreConfig {
    /// `cluster-node-timeout`, milliseconds (NT).
    pub node_timeout_ms: u64,
    /// `cluster-replica-validity-factor` (0 disables the check).
    pub replica_validity_factor: u64,
    /// `cluster-require-full-coverage`.
    pub require_full_coverage: bool,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            node_timeout_ms: 15_000,
            replica_validity_factor: 10,
            require_full_coverage: true,
        }
    }
}

/// The replica side of an election (`failover_auth_*` in `clusterState`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ElectionState {
    /// When the election starts (or started); `None`: no election planned.
    pub auth_time_ms: Option<u64>,
    /// Masters that granted their vote in `auth_epoch`.
    #[serde(with = "snapshot::name_set")]
    pub votes: std::collections::BTreeSet<NodeName>,
    /// AUTH_REQUEST already broadcast.
    pub auth_sent: bool,
    /// My rank when the election was planned (`failover_auth_rank`).
    pub rank: u64,
    /// The epoch of the election (`failover_auth_epoch`).
    pub auth_epoch: u64,
    /// The auth timeout was seen without a win.
    pub expired: bool,
}

/// Manual failover state (`mf_*` in `clusterState`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ManualFailoverState {
    /// Deadline (`mf_end`), `None` when no manual failover is in progress.
    pub end_ms: Option<u64>,
    /// Replica side: the election may start.
    pub can_start: bool,
    /// Master side: the replica that asked.
    #[serde(with = "snapshot::opt_name")]
    pub replica: Option<NodeName>,
    /// Replica side: the master's offset once it paused.
    pub master_offset: Option<u64>,
}

/// One node's protocol state.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Core {
    cfg: CoreConfig,
    #[serde(with = "snapshot::name")]
    myself: NodeName,
    table: NodeTable,
    current_epoch: u64,
    last_vote_epoch: u64,
    state_ok: bool,
    election: ElectionState,
    mf: ManualFailoverState,
    /// Slots I am migrating or importing.
    open_slots: migration::OpenSlots,
    /// Slots whose owner in my table has stopped claiming them without
    /// anyone else taking them (`owner_not_claiming_slot`; not saved): any
    /// claim takes them, and no UPDATE or vote goes by them.
    #[serde(with = "snapshot::bitmap")]
    not_claiming: crate::codec::SlotBitmap,
    /// My replication offset (this node holds no data: stays 0 unless set).
    repl_offset: u64,
    /// When my replication link last carried data, if the runtime says.
    repl_last_io_ms: Option<u64>,
    /// Inbound links whose sender is known.
    #[serde(with = "snapshot::name_values")]
    inbound: std::collections::BTreeMap<u64, NodeName>,
    /// FORGET blacklist: id -> until when it may not be re-added.
    #[serde(with = "snapshot::name_keys")]
    blacklist: std::collections::BTreeMap<NodeName, u64>,
    stats: info::BusStats,
    #[serde(skip)]
    out: Vec<Effect>,
    todo_save: bool,
    todo_fsync: bool,
    /// A rule broken on purpose, for conformance tests.
    #[cfg(feature = "alterations")]
    #[serde(skip)]
    alteration: Option<alteration::Alteration>,
}

/// Lowercase-hex string of a node name (names are 40 ASCII characters).
pub fn name_str(name: &NodeName) -> String {
    String::from_utf8_lossy(name).into_owned()
}

/// Parses a 40-character node id.
pub fn name_from_str(s: &str) -> Option<NodeName> {
    let b = s.as_bytes();
    if b.len() != crate::codec::NODE_NAME_LEN {
        return None;
    }
    let mut n = [0u8; crate::codec::NODE_NAME_LEN];
    n.copy_from_slice(b);
    Some(n)
}

impl Core {
    /// A fresh node that knows only itself: a master without slots at epoch 0.
    pub fn new(me: NodeIdentity, cfg: CoreConfig, now_ms: u64) -> Core {
        let mut entry = NodeEntry::new(me.id, flags::MYSELF | flags::MASTER, now_ms);
        entry.ip = me.ip;
        entry.port = me.port;
        entry.cport = me.cport;
        Core {
            cfg,
            myself: me.id,
            table: NodeTable::new(entry),
            current_epoch: 0,
            last_vote_epoch: 0,
            state_ok: false,
            election: ElectionState::default(),
            mf: ManualFailoverState::default(),
            open_slots: Default::default(),
            not_claiming: crate::codec::SlotBitmap::empty(),
            repl_offset: 0,
            repl_last_io_ms: None,
            inbound: Default::default(),
            blacklist: Default::default(),
            stats: info::BusStats::default(),
            out: Vec::new(),
            todo_save: false,
            todo_fsync: false,
            #[cfg(feature = "alterations")]
            alteration: None,
        }
    }

    /// Handles one event at `now_ms` and returns what to do, in order.
    /// A `Persist { fsync: true }` in the list must complete before any
    /// effect after it.
    pub fn handle(&mut self, now_ms: u64, event: Event) -> Vec<Effect> {
        match event {
            Event::Deliver {
                link,
                msg,
                gossip,
                entropy,
            } => {
                self.stats.count_received(msg.body.message_type());
                self.process_packet(now_ms, link, msg, &gossip, entropy)
            }
            Event::Command(cmd) => self.command(now_ms, cmd),
            Event::PingDue { peer, gossip } => self.ping_due(now_ms, &peer, &gossip),
            Event::NodeTimeout(peer) => self.node_timeout(now_ms, &peer),
            Event::ReportExpired { about, reporter } => self.report_expired(&about, &reporter),
            Event::ScheduleElection { jitter_ms } => self.schedule_election(now_ms, jitter_ms),
            Event::ElectionDue => self.election_due(now_ms),
            Event::AuthTimeout => self.auth_timeout(now_ms),
            Event::ManualFailoverTimeout => self.manual_failover_timeout(now_ms),
            Event::HandshakeTimeout(peer) => self.handshake_timeout(now_ms, &peer),
            Event::Reconnect(peer) => self.reconnect(now_ms, &peer),
            Event::LinkStale(peer) => self.link_stale(&peer),
            Event::LinkUp { peer, gossip } => self.link_up(now_ms, &peer, &gossip),
            Event::LinkDown(peer) => self.link_down(now_ms, &peer),
            Event::InboundClosed(id) => {
                self.inbound.remove(&id);
            }
        }
        self.update_state();
        self.finish()
    }

    /// Drains the effects of the event; the config goes first when it changed.
    fn finish(&mut self) -> Vec<Effect> {
        let mut out = Vec::with_capacity(self.out.len() + 1);
        if self.todo_save {
            out.push(Effect::Persist {
                conf: self.persisted(),
                fsync: self.todo_fsync,
            });
        }
        for e in &self.out {
            if let Effect::Send { msg, .. } = e {
                self.stats.count_sent(msg.body.message_type());
            }
        }
        out.append(&mut self.out);
        self.todo_save = false;
        self.todo_fsync = false;
        out
    }

    /// Asks for nodes.conf to be written at the end of this event
    /// (`clusterDoBeforeSleep(CLUSTER_TODO_SAVE_CONFIG[|FSYNC])`).
    fn save_config(&mut self, fsync: bool) {
        self.todo_save = true;
        self.todo_fsync |= fsync;
    }

    /// Whether `rule` is broken on purpose in this core (never, without the
    /// `alterations` feature).
    #[cfg(feature = "alterations")]
    fn altered(&self, rule: alteration::Alteration) -> bool {
        self.alteration == Some(rule)
    }

    fn log(&mut self, line: String) {
        self.out.push(Effect::Log(line));
    }

    fn me(&self) -> &NodeEntry {
        // The table always holds myself: every removal path skips MYSELF.
        &self.table.nodes[&self.myself]
    }

    fn me_mut(&mut self) -> &mut NodeEntry {
        let me = self.myself;
        self.table
            .nodes
            .get_mut(&me)
            .expect("myself is always in the node table")
    }

    // ---- getters ----

    /// My node id.
    pub fn id(&self) -> NodeName {
        self.myself
    }
    /// `currentEpoch`.
    pub fn current_epoch(&self) -> u64 {
        self.current_epoch
    }
    /// `lastVoteEpoch`.
    pub fn last_vote_epoch(&self) -> u64 {
        self.last_vote_epoch
    }
    /// My configEpoch.
    pub fn config_epoch(&self) -> u64 {
        self.me().config_epoch
    }
    /// The settings this core runs with.
    pub fn config(&self) -> &CoreConfig {
        &self.cfg
    }
    /// New settings (CONFIG SET), in force from the next event: timers
    /// are computed from the node timeout each time, as Redis reads
    /// `server.cluster_node_timeout` each time.
    pub fn set_config(&mut self, cfg: CoreConfig) {
        self.cfg = cfg;
    }
    /// Whether I am a master.
    pub fn is_master(&self) -> bool {
        self.me().is_master()
    }
    /// My master, when I am a replica.
    pub fn master(&self) -> Option<NodeName> {
        self.me().master
    }
    /// One entry of the node table.
    pub fn node(&self, name: &NodeName) -> Option<&NodeEntry> {
        self.table.get(name)
    }
    /// All entries of the node table, ordered by name (myself included).
    pub fn nodes(&self) -> impl Iterator<Item = &NodeEntry> {
        self.table.nodes.values()
    }
    /// Owner of a slot in my view.
    pub fn slot_owner(&self, slot: u16) -> Option<NodeName> {
        self.table.slot_owner.get(slot as usize).copied().flatten()
    }
    /// `cluster_state` as computed by the last event.
    pub fn cluster_state(&self) -> ClusterState {
        if self.state_ok {
            ClusterState::Ok
        } else {
            ClusterState::Fail
        }
    }
    /// The election in progress or planned, replica side.
    pub fn election(&self) -> &ElectionState {
        &self.election
    }
    /// The manual failover in progress, if any.
    pub fn manual_failover(&self) -> &ManualFailoverState {
        &self.mf
    }
    /// Masters with slots (`clusterState.size`).
    pub fn cluster_size(&self) -> usize {
        self.table.size()
    }
    /// My replication offset as announced in headers.
    pub fn repl_offset(&self) -> u64 {
        self.repl_offset
    }
    /// Sets my replication offset (the runtime's replication, if any, knows it).
    pub fn set_repl_offset(&mut self, offset: u64) {
        self.repl_offset = offset;
        // A replica in a manual failover waits for its offset to reach the
        // paused master's: check again whenever it moves (Redis checks in
        // every `clusterCron`, `clusterHandleManualFailover`).
        self.handle_manual_failover();
    }
    /// Tells the core when my replication link to my master last carried
    /// data (`server.master->lastinteraction`); `None` when the runtime
    /// replicates nothing. Feeds the replica validity check.
    pub fn set_replication_last_io(&mut self, at_ms: Option<u64>) {
        self.repl_last_io_ms = at_ms;
    }
    /// Sets the address I announce, as the runtime's settings give it after
    /// a restart from nodes.conf (`clusterUpdateMyselfAnnouncedPorts`, and
    /// the announced IP Redis re-applies from its configuration). An empty
    /// `ip` keeps the one I have. The next headers carry it.
    pub fn set_my_address(&mut self, ip: &str, port: u16, cport: u16) {
        let me = self.me_mut();
        if !ip.is_empty() {
            me.ip = ip.to_string();
        }
        me.port = port;
        me.cport = cport;
    }
    /// Number of valid failure reports about a node (CLUSTER COUNT-FAILURE-REPORTS).
    pub fn failure_report_count(&self, name: &NodeName) -> usize {
        self.table
            .get(name)
            .map(|n| n.fail_reports.len())
            .unwrap_or(0)
    }
    /// The handshake timeout, `max(NT, 1000)` ms.
    pub fn handshake_timeout_ms(&self) -> u64 {
        self.cfg
            .node_timeout_ms
            .max(CLUSTER_HANDSHAKE_TIMEOUT_MIN_MS)
    }
}

#[cfg(test)]
pub(crate) mod tests;
