//! Deterministic replay of model traces against node cores.
//!
//! A [`Replayer`] holds one [`Core`] per model node, a clock per node, the
//! connections between them and, per directed pair of nodes, the bytes in
//! flight in the order the cores emitted them. Each model action becomes the
//! core events that make a real node do the same thing (`actions`); every
//! message a core emits is encoded to bytes and decoded by its receiver; and
//! after each step every node's projected state and every link's messages are
//! compared with the model's (`compare`).
//!
//! Three mapping rules follow from the model's abstractions (`specs/traces.md`):
//! - a PONG the node emits that the model did not queue is delivered at once
//!   (the model takes uninformative PONGs as delivered at once, and has no
//!   offset PONGs between replicas); what it changes is compared like any step;
//! - the model sends AUTH_REQUEST to masters only; a node's request to a node
//!   the sender sees as a replica is dropped;
//! - PONGs lose their gossip section on the way (the model's carry none).

mod actions;
mod compare;
pub mod mapping;
pub mod project;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;

use clusterbus_model::{Action, NodeIx, Start, State};
use clusterbus_node::codec::{self, Message, NodeName};
use clusterbus_node::config::{self, NodesConf};
use clusterbus_node::core::{ClusterCommand, Core, Effect, Event, GossipChoice, LinkId};
use clusterbus_node::sim::network::Connections;

pub use compare::Disagreement;
use mapping::{Mapping, CLOCK_START_MS};

/// How far every clock moves with each model step: what happens in a later
/// step has a later timestamp (a vote after a FAIL is younger than the
/// FAIL), and 2·NT is a hundred steps away.
const STEP_MS: u64 = 20;

/// Bytes on their way, and the link the receiver will see them on.
#[derive(Clone, Debug)]
struct InFlight {
    bytes: Vec<u8>,
    link: LinkId,
    /// The message in the model's terms (decoded from `bytes` once).
    projected: Result<clusterbus_model::Msg, String>,
}

/// Why a step did not agree.
#[derive(Debug)]
pub enum StepError {
    /// The node and the model part ways.
    Disagreement(Box<Disagreement>),
    /// The model goes where real time cannot: it still counts a failure
    /// report that the node's clock, moved 2·NT or more by an earlier timer,
    /// has expired (the model's reports never expire unless its
    /// configuration says so). The trace ends here.
    BeyondRealTime(String),
}

/// N node cores wired together the way the model's nodes are.
#[derive(Clone)]
pub struct Replayer {
    map: Mapping,
    cores: Vec<Option<Core>>,
    clocks: Vec<u64>,
    /// The last config each node persisted (what its disk holds).
    confs: Vec<Option<NodesConf>>,
    dir: PathBuf,
    conns: Connections,
    /// `queues[from * n + to]`.
    queues: Vec<VecDeque<InFlight>>,
    entropy: u64,
    /// Core events handled, by kind (for coverage).
    pub events: BTreeMap<&'static str, u64>,
    /// Messages dropped or delivered at once by the mapping rules, by rule.
    pub mapped: BTreeMap<&'static str, u64>,
    /// Log lines of the current step.
    logs: Vec<String>,
    /// (node, about, reporter) → the report's time when last seen.
    reports_seen: BTreeMap<(NodeIx, NodeIx, NodeIx), u64>,
    /// (node, about, reporter) of the reports a core held while, in the
    /// model, that node saw `about` FAIL (the model keeps none then).
    reports_while_fail: BTreeSet<(NodeIx, NodeIx, NodeIx)>,
    /// A rule every core breaks, in the tests that show it is noticed.
    #[cfg(test)]
    alteration: Option<clusterbus_node::core::alteration::Alteration>,
}

/// The name of an event's kind, for coverage tables.
pub fn event_kind(e: &Event) -> &'static str {
    match e {
        Event::Deliver { msg, .. } => match msg.body.message_type() {
            codec::MessageType::Ping => "deliver PING",
            codec::MessageType::Pong => "deliver PONG",
            codec::MessageType::Meet => "deliver MEET",
            codec::MessageType::Fail => "deliver FAIL",
            codec::MessageType::FailoverAuthRequest => "deliver AUTH_REQUEST",
            codec::MessageType::FailoverAuthAck => "deliver AUTH_ACK",
            codec::MessageType::Update => "deliver UPDATE",
            _ => "deliver other",
        },
        Event::Command(_) => "command",
        Event::PingDue { .. } => "ping_due",
        Event::NodeTimeout(_) => "node_timeout",
        Event::ReportExpired { .. } => "report_expired",
        Event::ScheduleElection { .. } => "schedule_election",
        Event::ElectionDue => "election_due",
        Event::AuthTimeout => "auth_timeout",
        Event::ManualFailoverTimeout => "manual_failover_timeout",
        Event::HandshakeTimeout(_) => "handshake_timeout",
        Event::Reconnect(_) => "reconnect",
        Event::LinkStale(_) => "link_stale",
        Event::LinkUp { .. } => "link_up",
        Event::LinkDown(_) => "link_down",
        Event::InboundClosed(_) => "inbound_closed",
    }
}

/// Every core event kind, for coverage tables.
pub const EVENT_KINDS: [&str; 21] = [
    "deliver PING",
    "deliver PONG",
    "deliver MEET",
    "deliver FAIL",
    "deliver AUTH_REQUEST",
    "deliver AUTH_ACK",
    "deliver UPDATE",
    "command",
    "ping_due",
    "node_timeout",
    "report_expired",
    "schedule_election",
    "election_due",
    "auth_timeout",
    "manual_failover_timeout",
    "handshake_timeout",
    "reconnect",
    "link_stale",
    "link_up",
    "link_down",
    "inbound_closed",
];

impl Replayer {
    /// Cores in the model's initial state; nodes.conf files go under `dir`.
    pub fn new(map: Mapping, dir: PathBuf) -> Result<Replayer, String> {
        let n = map.len();
        let mut r = Replayer {
            cores: vec![None; n],
            clocks: vec![CLOCK_START_MS; n],
            confs: vec![None; n],
            dir,
            conns: Connections::default(),
            queues: vec![VecDeque::new(); n * n],
            entropy: 0,
            events: BTreeMap::new(),
            mapped: BTreeMap::new(),
            logs: Vec::new(),
            reports_seen: BTreeMap::new(),
            reports_while_fail: BTreeSet::new(),
            #[cfg(test)]
            alteration: None,
            map,
        };
        for i in 0..n as NodeIx {
            let core = match r.map.cfg.start {
                Start::Formed => Core::restart(
                    &r.map.formed_conf(i),
                    Mapping::core_config(),
                    CLOCK_START_MS,
                )
                .map_err(|e| format!("n{i}: {e}"))?,
                Start::Strangers => {
                    Core::new(r.map.identity(i), Mapping::core_config(), CLOCK_START_MS)
                }
            };
            r.confs[i as usize] = Some(core.persisted());
            r.cores[i as usize] = Some(core);
            if r.map.cfg.start == Start::Strangers && i < r.map.cfg.masters {
                let (start, end) = r.map.shard_range(i);
                r.handle(
                    i,
                    Event::Command(ClusterCommand::AddSlots((start..=end).collect())),
                );
            }
        }
        r.ensure_links();
        if r.map.cfg.start == Start::Formed {
            r.warm_up()?;
        }
        r.events.clear();
        Ok(r)
    }

    /// A formed cluster has been talking for a while: every node has pinged
    /// every other once, so replicas carry their masters' configEpoch in
    /// every view (a restart loads them as 0, as `clusterLoadConfig` does).
    fn warm_up(&mut self) -> Result<(), String> {
        let n = self.n() as NodeIx;
        for i in 0..n {
            for j in (0..n).filter(|&j| j != i) {
                let peer = self.map.id(j);
                self.handle(
                    i,
                    Event::PingDue {
                        peer,
                        gossip: vec![],
                    },
                );
            }
        }
        for _ in 0..4 {
            for from in 0..n {
                for to in (0..n).filter(|&to| to != from) {
                    while !self.queue(from, to).is_empty() {
                        self.deliver_head(from, to)?;
                    }
                }
            }
        }
        if self.queues.iter().any(|q| !q.is_empty()) {
            return Err("the warm-up pings do not settle".into());
        }
        Ok(())
    }

    /// The core of node `i`, when it is up.
    pub fn core(&self, i: NodeIx) -> Option<&Core> {
        self.cores[i as usize].as_ref()
    }

    fn n(&self) -> usize {
        self.map.len()
    }

    fn up(&self, i: NodeIx) -> bool {
        self.cores[i as usize].is_some()
    }

    fn queue(&mut self, from: NodeIx, to: NodeIx) -> &mut VecDeque<InFlight> {
        let n = self.n();
        &mut self.queues[from as usize * n + to as usize]
    }

    /// Replays `action` (taken by the model from `before` to `after`) and
    /// compares. `step` numbers the action in its trace, from 1.
    pub fn step(
        &mut self,
        step: usize,
        before: &State,
        action: &Action,
        after: &State,
    ) -> Result<(), StepError> {
        self.logs.clear();
        for c in self.clocks.iter_mut() {
            *c += STEP_MS;
        }
        self.ensure_links();
        let fail = |this: &Self, why: String| {
            StepError::Disagreement(this.disagreement(step, action, after, vec![why]))
        };
        if let Err(why) = self.perform(before, action) {
            return Err(fail(self, why));
        }
        if let Err(why) = self.settle(after) {
            return Err(fail(self, why));
        }
        let result = self.compare(step, action, after);
        self.note_reports(after);
        result
    }

    /// Remembers when each failure report was last seen in a core, so that a
    /// report the model still holds can be told apart from one the node's
    /// clock has expired; and which reports a core held while the model's
    /// node saw their subject FAIL, which the model does not keep.
    fn note_reports(&mut self, after: &State) {
        for i in 0..self.n() as NodeIx {
            let Some(core) = self.core(i) else {
                // A crash loses the reports on both sides.
                self.reports_while_fail.retain(|k| k.0 != i);
                continue;
            };
            let mut seen = Vec::new();
            let mut while_fail = Vec::new();
            for e in core.nodes() {
                let Some(about) = self.map.index_of(&e.name) else {
                    continue;
                };
                let fail_in_model = after.nodes[i as usize].peers[about as usize].fail;
                for (r, t) in &e.fail_reports {
                    if let Some(r) = self.map.index_of(r) {
                        seen.push(((i, about, r), *t));
                        if fail_in_model {
                            while_fail.push((i, about, r));
                        }
                    }
                }
            }
            self.reports_seen.extend(seen);
            self.reports_while_fail.extend(while_fail);
        }
    }

    /// Checks the initial state against the model's.
    pub fn check_initial(&self, initial: &State) -> Result<(), Box<Disagreement>> {
        let diffs = self.differences(initial);
        if diffs.is_empty() {
            Ok(())
        } else {
            Err(self.disagreement(0, &Action::Restart { node: 0 }, initial, diffs))
        }
    }

    /// Feeds one event to node `i` at its clock and carries out the effects.
    fn handle(&mut self, i: NodeIx, event: Event) {
        *self.events.entry(event_kind(&event)).or_default() += 1;
        let now = self.clocks[i as usize];
        let Some(core) = self.cores[i as usize].as_mut() else {
            return;
        };
        let effects = core.handle(now, event);
        self.carry_out(i, effects);
    }

    fn carry_out(&mut self, i: NodeIx, effects: Vec<Effect>) {
        for e in effects {
            match e {
                Effect::Send { link, msg } => self.send(i, link, &msg),
                Effect::Connect { node, ip, cport } => {
                    if let Some(old) = self.conns.outbound(i as usize, &node) {
                        self.conns.remove(old);
                    }
                    // A connect to a node that is down stays in progress.
                    if let Some(to) = self.map.index_at(&ip, cport).filter(|&j| self.up(j)) {
                        self.conns.open(i as usize, node, to as usize);
                    }
                }
                Effect::Disconnect { link } => self.disconnect(i, link),
                Effect::RenameLink { from, to } => self.conns.rename(i as usize, &from, &to),
                Effect::Persist { conf, .. } => self.confs[i as usize] = Some(conf),
                Effect::Reply(r) => self.logs.push(format!("n{i} reply: {r:?}")),
                Effect::Log(line) => self.logs.push(format!("n{i}: {line}")),
            }
        }
    }

    fn send(&mut self, i: NodeIx, link: LinkId, msg: &Message) {
        let Some((to, at)) = self.route(i, link) else {
            return;
        };
        if self.up(to) {
            let bytes = codec::encode(msg);
            let projected = codec::decode(&bytes)
                .map_err(|e| format!("n{i}->n{to}: a frame does not decode: {e}"))
                .and_then(|m| {
                    let reply = matches!(at, LinkId::Outbound(_));
                    project::msg_of_wire(&self.map, &m, reply)
                        .map_err(|e| format!("n{i}->n{to}: {e}"))
                });
            self.queue(i, to).push_back(InFlight {
                bytes,
                link: at,
                projected,
            });
        }
    }

    /// Where a message node `i` sends on `link` arrives: the receiver and the
    /// link it sees it on.
    fn route(&self, i: NodeIx, link: LinkId) -> Option<(NodeIx, LinkId)> {
        match link {
            LinkId::Outbound(key) => {
                let id = self.conns.outbound(i as usize, &key)?;
                let c = self.conns.get(id)?;
                Some((c.to as NodeIx, LinkId::Inbound(id)))
            }
            LinkId::Inbound(id) => {
                let c = self.conns.get(id)?;
                Some((c.from as NodeIx, LinkId::Outbound(c.key)))
            }
        }
    }

    fn disconnect(&mut self, i: NodeIx, link: LinkId) {
        let id = match link {
            LinkId::Outbound(key) => self.conns.outbound(i as usize, &key),
            LinkId::Inbound(id) => Some(id),
        };
        let Some(c) = id.and_then(|id| self.conns.remove(id).map(|c| (id, c))) else {
            return;
        };
        let (id, c) = c;
        if c.from == i as usize {
            self.handle(c.to as NodeIx, Event::InboundClosed(id));
        } else {
            self.handle(c.from as NodeIx, Event::LinkDown(c.key));
        }
    }

    /// Every node keeps a link to every node it knows, as cron does
    /// (`clusterNodeCronHandleReconnect`); a connect to a node that is down
    /// stays in progress and completes when it is back.
    fn ensure_links(&mut self) {
        for i in 0..self.n() as NodeIx {
            let Some(core) = self.core(i) else { continue };
            let todo: Vec<(NodeName, bool)> = core
                .nodes()
                .filter(|e| {
                    !e.has(codec::flags::MYSELF | codec::flags::HANDSHAKE | codec::flags::NOADDR)
                })
                .map(|e| (e.name, e.link.exists()))
                .collect();
            for (name, exists) in todo {
                let Some(j) = self.map.index_of(&name) else {
                    continue;
                };
                if !exists {
                    self.handle(i, Event::Reconnect(name));
                } else if self.conns.outbound(i as usize, &name).is_none() && self.up(j) {
                    self.conns.open(i as usize, name, j as usize);
                }
            }
        }
    }

    /// Delivers the head of `from → to`.
    fn deliver_head(&mut self, from: NodeIx, to: NodeIx) -> Result<(), String> {
        let m = self.queue(from, to).pop_front().ok_or_else(|| {
            format!("the model delivers on n{from}->n{to}, where the node sent nothing")
        })?;
        self.deliver(to, m)
    }

    fn deliver(&mut self, to: NodeIx, m: InFlight) -> Result<(), String> {
        let mut msg = codec::decode(&m.bytes)
            .map_err(|e| format!("a frame to n{to} does not decode: {e}"))?;
        if let codec::Body::Pong { gossip, .. } = &mut msg.body {
            gossip.clear();
        }
        self.entropy += 1;
        let entropy = self.entropy;
        self.handle(
            to,
            Event::Deliver {
                link: m.link,
                msg,
                gossip: GossipChoice::Explicit(vec![]),
                entropy,
            },
        );
        Ok(())
    }

    /// The process of node `i` dies: its disk keeps the last config it
    /// persisted (written through the real nodes.conf code); its peers see
    /// their connections to it close.
    fn crash(&mut self, i: NodeIx) -> Result<(), String> {
        let conf = self.confs[i as usize]
            .clone()
            .ok_or_else(|| format!("n{i} never persisted a config"))?;
        let path = self.conf_path(i);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        config::save(&path, &conf).map_err(|e| format!("{}: {e}", path.display()))?;
        self.cores[i as usize] = None;
        for j in 0..self.n() as NodeIx {
            self.queue(i, j).clear();
            self.queue(j, i).clear();
        }
        for id in self.conns.touching(i as usize) {
            let Some(c) = self.conns.remove(id) else {
                continue;
            };
            if c.from == i as usize {
                self.handle(c.to as NodeIx, Event::InboundClosed(id));
            } else {
                self.handle(c.from as NodeIx, Event::LinkDown(c.key));
            }
        }
        Ok(())
    }

    /// Node `i` starts again from its nodes.conf.
    fn restart(&mut self, i: NodeIx) -> Result<(), String> {
        let path = self.conf_path(i);
        let conf = config::load(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let core = Core::restart(&conf, Mapping::core_config(), self.clocks[i as usize])
            .map_err(|e| format!("n{i} restart: {e}"))?;
        self.confs[i as usize] = Some(conf);
        self.cores[i as usize] = Some(core);
        #[cfg(test)]
        self.apply_alteration();
        Ok(())
    }

    /// Breaks `rule` in every core, from now on and across restarts.
    #[cfg(test)]
    pub fn alter(&mut self, rule: clusterbus_node::core::alteration::Alteration) {
        self.alteration = Some(rule);
        self.apply_alteration();
    }

    #[cfg(test)]
    fn apply_alteration(&mut self) {
        if let Some(rule) = self.alteration {
            for core in self.cores.iter_mut().flatten() {
                core.alter(rule);
            }
        }
    }

    fn conf_path(&self, i: NodeIx) -> PathBuf {
        self.dir.join(format!("n{i}")).join("nodes.conf")
    }

    /// Moves node `i`'s clock forward to `ms` (never back).
    fn advance(&mut self, i: NodeIx, ms: u64) {
        let c = &mut self.clocks[i as usize];
        *c = (*c).max(ms);
    }
}

#[cfg(test)]
mod tests;
