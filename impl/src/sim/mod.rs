//! An in-memory cluster of cores for tests and conformance: a virtual clock,
//! a seeded PRNG for every random choice, a network with fault verbs (drop,
//! cut, isolate, partition, delay, heal) and node crash/restart from the
//! persisted nodes.conf.
//!
//! Scenarios read as: build, run, break, run, assert:
//! ```
//! use clusterbus_node::core::CoreConfig;
//! use clusterbus_node::sim::Sim;
//! let mut sim = Sim::new(3, CoreConfig { node_timeout_ms: 1000, ..CoreConfig::default() }, 7);
//! sim.meet(0, 1);
//! sim.meet(0, 2);
//! sim.run_for(3_000);
//! assert_eq!(sim.core(2).map(|c| c.nodes().count()), Some(3));
//! ```
//!
//! Every message crosses [`wire::over_the_wire`] and every config crosses
//! [`wire::to_disk`]/[`wire::from_disk`].

pub mod cluster;
pub mod network;
pub mod rng;
mod transport;
pub mod wire;

use std::collections::BTreeMap;

use crate::codec::{Message, MessageType, NodeName};
use crate::core::{
    ClusterCommand, ClusterState, Core, CoreConfig, Effect, Event, NodeIdentity, NodeSummary,
    Reply, CLUSTER_CRON_PERIOD_MS, CLUSTER_CRON_PING_SAMPLE,
};
use crate::scheduler::{CronChoices, Scheduler};

use network::{Connections, Faults};
use rng::SimRng;
use wire::Disk;

/// Client port of simulated node `i` is `SIM_BASE_PORT + i`; its bus port 10000 higher.
pub const SIM_BASE_PORT: u16 = 30000;
/// The address every simulated node has.
pub const SIM_IP: &str = "127.0.0.1";

/// Something queued for a future instant.
#[derive(Clone, Debug)]
enum Pending {
    /// A message on a connection, towards its acceptor or its connector.
    Msg {
        conn: u64,
        to_acceptor: bool,
        msg: Box<Message>,
    },
    LinkUp {
        node: usize,
        key: NodeName,
        conn: u64,
    },
    LinkDown {
        node: usize,
        key: NodeName,
    },
    InboundClosed {
        node: usize,
        conn: u64,
    },
}

/// One simulated node: its identity, its core (None while crashed), its disk.
#[derive(Clone, Debug)]
struct SimNode {
    identity: NodeIdentity,
    core: Option<Core>,
    disk: Option<Disk>,
    sched: Scheduler,
}

/// Counters of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Send effects carried out.
    pub messages_sent: u64,
    /// Messages handed to a live receiver.
    pub messages_delivered: u64,
    /// Messages lost to faults, crashes or closed links.
    pub messages_dropped: u64,
    /// Events handled by all cores.
    pub events: u64,
}

/// The simulated cluster.
#[derive(Clone, Debug)]
pub struct Sim {
    now_ms: u64,
    next_tick_ms: u64,
    latency_ms: u64,
    cfg: CoreConfig,
    rng: SimRng,
    nodes: Vec<SimNode>,
    conns: Connections,
    faults: Faults,
    queue: BTreeMap<(u64, u64), Pending>,
    seq: u64,
    /// Every command reply, with the node that gave it.
    pub replies: Vec<(usize, Reply)>,
    /// Log lines, with node and time, when `keep_logs` is on.
    pub logs: Vec<(u64, usize, String)>,
    /// Keep `Effect::Log` lines in `logs`.
    pub keep_logs: bool,
    /// When on, every batch of effects is kept in `batches`.
    pub record_batches: bool,
    /// `(time, node, effects of one event)`, when `record_batches` is on.
    pub batches: Vec<(u64, usize, Vec<Effect>)>,
    /// When on, every event handed to a core is kept in `events`.
    pub record_events: bool,
    /// `(time, node, event)`, when `record_events` is on: replaying them on
    /// fresh cores reproduces the run.
    pub events: Vec<(u64, usize, Event)>,
    /// Messages the codec could not carry (encode then decode failed): a
    /// bug in the codec or the core; scenarios assert this stays empty.
    pub wire_errors: Vec<String>,
    /// Messages sent, by type.
    pub sent_by_type: BTreeMap<MessageType, u64>,
    /// Counters of this run.
    pub stats: SimStats,
}

impl Sim {
    /// `n` fresh nodes (each a master without slots that knows only itself),
    /// all random choices drawn from `seed`. Message latency is 1 ms.
    pub fn new(n: usize, cfg: CoreConfig, seed: u64) -> Sim {
        let mut rng = SimRng::new(seed);
        let nodes = (0..n)
            .map(|i| {
                let identity = NodeIdentity {
                    id: crate::core::random_name(rng.next_u64()),
                    ip: SIM_IP.to_string(),
                    port: SIM_BASE_PORT + i as u16,
                    cport: SIM_BASE_PORT + 10000 + i as u16,
                };
                SimNode {
                    core: Some(Core::new(identity.clone(), cfg, 0)),
                    identity,
                    disk: None,
                    sched: Scheduler::new(),
                }
            })
            .collect();
        Sim {
            now_ms: 0,
            next_tick_ms: CLUSTER_CRON_PERIOD_MS,
            latency_ms: 1,
            cfg,
            rng,
            nodes,
            conns: Connections::default(),
            faults: Faults::default(),
            queue: BTreeMap::new(),
            seq: 0,
            replies: Vec::new(),
            logs: Vec::new(),
            keep_logs: false,
            record_batches: false,
            record_events: false,
            wire_errors: Vec::new(),
            events: Vec::new(),
            batches: Vec::new(),
            sent_by_type: BTreeMap::new(),
            stats: SimStats::default(),
        }
    }

    // ---- getters ----

    /// Virtual time, ms.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }
    /// Number of nodes (crashed ones included).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }
    /// Whether the cluster has no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
    /// Node `i`'s identity (id and addresses).
    pub fn identity(&self, i: usize) -> &NodeIdentity {
        &self.nodes[i].identity
    }
    /// The settings every core runs with.
    pub fn core_config(&self) -> CoreConfig {
        self.cfg
    }
    /// Node `i`'s id.
    pub fn id(&self, i: usize) -> NodeName {
        self.nodes[i].identity.id
    }
    /// Index of the node with id `id`.
    pub fn index_of(&self, id: &NodeName) -> Option<usize> {
        self.nodes.iter().position(|n| n.identity.id == *id)
    }
    /// Node `i`'s core, `None` while crashed.
    pub fn core(&self, i: usize) -> Option<&Core> {
        self.nodes[i].core.as_ref()
    }
    /// Node `i`'s summary, `None` while crashed.
    pub fn summary(&self, i: usize) -> Option<NodeSummary> {
        self.core(i).map(|c| c.summary())
    }
    /// Whether node `i` is up.
    pub fn is_up(&self, i: usize) -> bool {
        self.nodes[i].core.is_some()
    }
    /// Node `i`'s cluster state (`Fail` while crashed).
    pub fn state(&self, i: usize) -> ClusterState {
        self.core(i)
            .map(|c| c.cluster_state())
            .unwrap_or(ClusterState::Fail)
    }
    /// Whether every live node says `cluster_state:ok` (and every message
    /// crossed the wire intact).
    pub fn all_ok(&self) -> bool {
        if !self.wire_errors.is_empty() {
            return false;
        }
        (0..self.len())
            .filter(|i| self.is_up(*i))
            .all(|i| self.state(i) == ClusterState::Ok)
    }

    /// Node `i`'s runtime reports replication offset `offset` (what a
    /// master has produced or a replica has applied); no-op while crashed.
    pub fn set_repl_offset(&mut self, i: usize, offset: u64) {
        if let Some(core) = self.nodes[i].core.as_mut() {
            core.set_repl_offset(offset);
        }
    }

    // ---- commands ----

    /// Runs a CLUSTER command on node `i` and returns its reply.
    pub fn command(&mut self, i: usize, cmd: ClusterCommand) -> Reply {
        let before = self.replies.len();
        self.handle(i, Event::Command(cmd));
        self.replies
            .get(before)
            .map(|(_, r)| r.clone())
            .unwrap_or(Reply::Error("ERR node is down".into()))
    }
    /// CLUSTER MEET from `i` to `j`'s address.
    pub fn meet(&mut self, i: usize, j: usize) -> Reply {
        let id = self.nodes[j].identity.clone();
        let handshake_id = crate::core::random_name(self.rng.next_u64());
        self.command(
            i,
            ClusterCommand::Meet {
                ip: id.ip,
                port: id.port,
                cport: id.cport,
                handshake_id,
            },
        )
    }
    /// CLUSTER ADDSLOTS of `start..=end` on `i`.
    pub fn add_slots(&mut self, i: usize, start: u16, end: u16) -> Reply {
        self.command(i, ClusterCommand::AddSlots((start..=end).collect()))
    }
    /// CLUSTER REPLICATE: `i` becomes a replica of `j`.
    pub fn replicate(&mut self, i: usize, j: usize) -> Reply {
        let m = self.id(j);
        self.command(i, ClusterCommand::Replicate(m))
    }

    // ---- faults ----

    /// Loses `fraction` (0..=1) of the messages from `from` to `to`.
    pub fn drop(&mut self, from: usize, to: usize, fraction: f64) {
        self.faults.drop.insert((from, to), fraction);
    }
    /// Adds `ms` of latency from `from` to `to`.
    pub fn delay(&mut self, from: usize, to: usize, ms: u64) {
        self.faults.delay.insert((from, to), ms);
    }
    /// Loses every message of type `t` (until `heal`).
    pub fn ignore(&mut self, t: MessageType) {
        self.faults.ignored.insert(t);
    }
    /// Cuts both directions between `a` and `b`.
    pub fn cut(&mut self, a: usize, b: usize) {
        self.faults.cut(a, b);
    }
    /// Cuts `n` from every other node.
    pub fn isolate(&mut self, n: usize) {
        for o in 0..self.len() {
            if o != n {
                self.faults.cut(n, o);
            }
        }
    }
    /// Cuts every link between the two groups.
    pub fn partition(&mut self, a: &[usize], b: &[usize]) {
        for x in a {
            for y in b {
                self.faults.cut(*x, *y);
            }
        }
    }
    /// Removes every fault.
    pub fn heal(&mut self) {
        self.faults = Faults::default();
    }
    /// Kills node `n`: volatile state and in-flight messages are lost, its
    /// peers see their connections to it close.
    pub fn crash(&mut self, n: usize) {
        self.nodes[n].core = None;
        for id in self.conns.touching(n) {
            let by_connector = self.conns.get(id).is_some_and(|c| c.from == n);
            self.close_conn(id, by_connector);
        }
    }
    /// Restarts node `n` from its persisted nodes.conf (a fresh node if it
    /// never persisted).
    pub fn restart(&mut self, n: usize) -> Result<(), String> {
        let node = &mut self.nodes[n];
        let core = match &node.disk {
            Some(d) => {
                let conf = wire::from_disk(d)?;
                Core::restart(&conf, self.cfg, self.now_ms).map_err(|e| e.to_string())?
            }
            None => Core::new(node.identity.clone(), self.cfg, self.now_ms),
        };
        node.core = Some(core);
        node.sched = Scheduler::new();
        Ok(())
    }

    // ---- time ----

    /// Advances to the next queued item or cron tick, whichever is first,
    /// and processes it.
    pub fn step(&mut self) {
        let next_q = self.queue.keys().next().map(|(t, _)| *t);
        match next_q {
            Some(t) if t <= self.next_tick_ms => {
                let Some(((t, _), p)) = self.queue.pop_first() else {
                    return;
                };
                self.now_ms = t;
                self.deliver(p);
            }
            _ => {
                self.now_ms = self.next_tick_ms;
                self.next_tick_ms += CLUSTER_CRON_PERIOD_MS;
                self.cron();
            }
        }
    }
    /// Runs for `ms` of virtual time.
    pub fn run_for(&mut self, ms: u64) {
        let end = self.now_ms + ms;
        self.run_until(end, |_| false);
    }
    /// Runs until `pred` holds (checked after every cron tick) or `deadline`;
    /// returns the time at which it held.
    pub fn run_until(&mut self, deadline: u64, mut pred: impl FnMut(&Sim) -> bool) -> Option<u64> {
        while self.now_ms < deadline {
            let was_tick = self
                .queue
                .keys()
                .next()
                .map(|(t, _)| *t > self.next_tick_ms)
                .unwrap_or(true);
            if self.next_tick_ms > deadline && was_tick {
                self.now_ms = deadline;
                break;
            }
            self.step();
            if was_tick && pred(self) {
                return Some(self.now_ms);
            }
        }
        None
    }

    // ---- internals ----

    fn push(&mut self, after_ms: u64, p: Pending) {
        self.seq += 1;
        self.queue.insert((self.now_ms + after_ms, self.seq), p);
    }

    /// One cron tick on every live node.
    fn cron(&mut self) {
        for i in 0..self.len() {
            let Some(core) = self.nodes[i].core.as_ref() else {
                continue;
            };
            let names: Vec<NodeName> = core.nodes().map(|n| n.name).collect();
            let ping_sample = (0..CLUSTER_CRON_PING_SAMPLE)
                .map(|_| names[self.rng.below(names.len() as u64) as usize])
                .collect();
            let choices = CronChoices {
                ping_sample,
                election_jitter_ms: self.rng.below(500),
                gossip_seed: self.rng.next_u64(),
            };
            let now = self.now_ms;
            let node = &mut self.nodes[i];
            let Some(core) = node.core.as_ref() else {
                continue;
            };
            let events = node.sched.tick(now, core, &choices);
            for e in events {
                self.handle(i, e);
            }
        }
    }

    /// Feeds one event to node `i` and carries out its effects.
    fn handle(&mut self, i: usize, event: Event) {
        let now = self.now_ms;
        let Some(core) = self.nodes[i].core.as_mut() else {
            return;
        };
        self.stats.events += 1;
        if self.record_events {
            self.events.push((now, i, event.clone()));
        }
        let effects = core.handle(now, event);
        if self.record_batches {
            self.batches.push((now, i, effects.clone()));
        }
        for e in effects {
            self.apply(i, e);
        }
    }

    fn apply(&mut self, i: usize, e: Effect) {
        match e {
            Effect::Send { link, msg } => self.send(i, link, msg),
            Effect::Connect { node, ip, cport } => self.connect(i, node, &ip, cport),
            Effect::Disconnect { link } => self.disconnect(i, link),
            Effect::RenameLink { from, to } => self.conns.rename(i, &from, &to),
            Effect::Persist { conf, .. } => self.nodes[i].disk = Some(wire::to_disk(&conf)),
            Effect::Reply(r) => self.replies.push((i, r)),
            Effect::Log(line) => {
                if self.keep_logs {
                    self.logs.push((self.now_ms, i, line));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
