//! The search: a breadth-first search over the set of model states
//! consistent with the observed prefix, as CCF validates its logs with
//! TLC. The frontier holds every distinct candidate after observation
//! `k`; for observation `k+1` each candidate is expanded by up to
//! [`Search::max_internal`] internal (unobserved) steps, breadth-first with
//! one visited set, and every state reached is asked whether it explains
//! the observation. The explaining successors, deduplicated, are the next
//! frontier. An empty one is a rejection at that observation.
//!
//! A candidate is a model state plus, per directed link, which of the
//! messages in flight the wire has shown (`seen`, see [`super::shown`]:
//! the two connections of a pair make one model link two streams). Only a
//! shown head may be delivered (every frame passes the tap, so a delivery
//! of a message never seen did not happen); one the model sent that the
//! wire has not shown yet must be the next frame of its stream on that
//! link.
//!
//! Internal steps are the model's own actions minus those the wire or the
//! process log decide: deliveries of seen messages, and every timer
//! (node timeout, report expiry, FAIL undo, election due, auth timeout,
//! vote cooldown, handshake timeout) of a node that is not stopped. PINGs,
//! crashes, restarts and link breaks happen only where an observation says
//! so. The model's history variables are the properties' alone; a
//! candidate forgets them, so states that hold the same are one.

use std::collections::{HashMap, VecDeque};

use clusterbus_model::message::MAX_NODES;
use clusterbus_model::receive::{header_of, receive};
use clusterbus_model::state::Ghost;
use clusterbus_model::{
    step, Action, Body, Epoch, GossipList, Header, ModelCfg, Msg, NodeIx, State,
};

use super::explain::{diff_frame, diff_view};
use super::observations::Obs;
use super::shown::{Shown, Stream};

/// Per link, which of the messages in flight the wire has shown.
pub type Seen = [[Shown; MAX_NODES]; MAX_NODES];

/// A model state consistent with the prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cand {
    pub st: State,
    pub seen: Seen,
}

/// How the kept path to a candidate got there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// Internal steps on the path.
    pub internal: u32,
    /// The most internal steps between two observations on it.
    pub max_gap: u32,
}

/// Most candidates a frontier may hold; beyond it the search stops and
/// says so (a bound of the search, not a verdict on the trace).
pub const MAX_FRONTIER: usize = 100_000;

/// Why an observation is not explained.
#[derive(Clone, Debug)]
pub struct Unexplained {
    /// Candidate states just before it (the frontier, expanded by internal steps).
    pub candidates: usize,
    /// The closest of them and the fields where it differs.
    pub closest: Option<(Cand, Vec<String>)>,
    /// The search ran out of its bound instead.
    pub bound: Option<String>,
}

/// The search's running totals.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub observations: usize,
    /// States visited (expanded and asked), over all observations.
    pub visited: u64,
    pub max_frontier: usize,
    /// Snapshots no candidate matched (a soft constraint; see `specs/traces.md`).
    pub snapshots_unmatched: usize,
    pub snapshots_pinned: usize,
}

/// What the trace's clock says about when a timer may have fired. Each
/// gate is half of Redis's own wait, so a timer the model needs is never
/// refused by a clock that ran a little differently; a timer far too early
/// for the real run is. (Without them, timers whose firing the wire never
/// shows multiply the candidates.)
#[derive(Clone, Debug, Default)]
struct Clock {
    now: u64,
    /// `last_frame[j][i]`: the last frame from j to i (PFAIL needs NT of
    /// silence: `node_delay` in `clusterCron`).
    last_frame: [[u64; MAX_NODES]; MAX_NODES],
    /// The last AUTH_ACK each node sent (`voted_time`: 2·NT).
    last_ack: [u64; MAX_NODES],
    /// The last AUTH_REQUEST each node sent (auth timeout: max(2·NT, 2 s)).
    last_request: [u64; MAX_NODES],
    /// The first FAIL about each node (undone 2·NT later at the earliest).
    first_fail: [Option<u64>; MAX_NODES],
    /// When each node last restarted.
    restarted: [Option<u64>; MAX_NODES],
    /// `dropping[f][t]`: the tap dropped the last frame from f to t.
    dropping: [[bool; MAX_NODES]; MAX_NODES],
}

/// How a frame was sent and what the tap did with it.
#[derive(Clone, Copy, Debug)]
struct Sent {
    dropped: bool,
    late: bool,
    stream: Stream,
}

/// The search over one trace.
#[derive(Clone)]
pub struct Search<'a> {
    cfg: &'a ModelCfg,
    pub max_internal: u32,
    /// cluster-node-timeout, µs.
    nt_us: u64,
    clock: Clock,
    /// Nodes SIGSTOPped now, as a bit set: they take no step.
    stopped: u8,
    /// Nodes whose last frame the tap held, delayed or dropped: their
    /// answers may not come at once.
    slow: u8,
    /// Nodes whose first snapshot (the formed start) was checked.
    started: u8,
    pub frontier: HashMap<Cand, Meta>,
    pub stats: Stats,
}

impl<'a> Search<'a> {
    /// The search from the model's formed start, with each node's
    /// currentEpoch as the formed cluster's snapshots say.
    pub fn new(cfg: &'a ModelCfg, max_internal: u32, epochs: &[Epoch], nt_ms: u64) -> Search<'a> {
        let mut st = State::initial(cfg);
        for (node, e) in st.nodes.iter_mut().zip(epochs) {
            node.current_epoch = *e;
        }
        st.ghost = Ghost::default();
        let mut frontier = HashMap::new();
        frontier.insert(
            Cand {
                st,
                seen: [[Shown::default(); MAX_NODES]; MAX_NODES],
            },
            Meta::default(),
        );
        Search {
            cfg,
            max_internal,
            nt_us: nt_ms * 1000,
            clock: Clock::default(),
            stopped: 0,
            slow: 0,
            started: 0,
            frontier,
            stats: Stats::default(),
        }
    }

    fn is_stopped(&self, n: NodeIx) -> bool {
        self.stopped & (1 << n) != 0
    }

    /// Takes one observation, seen at `t_us`; `Err` when no candidate explains it.
    pub fn observe(&mut self, obs: &Obs, t_us: u64) -> Result<(), Box<Unexplained>> {
        self.stats.observations += 1;
        self.clock.now = self.clock.now.max(t_us);
        let r = self.explain_all(obs);
        if let Obs::Frame {
            from,
            to,
            msg,
            dropped,
            late,
            ..
        } = obs
        {
            match *dropped || *late {
                true => self.slow |= 1 << from,
                false => self.slow &= !(1 << from),
            }
            let (f, t, now) = (*from as usize, *to as usize, self.clock.now);
            // A held or dropped frame is not heard: silence goes on.
            if !*dropped && !*late {
                self.clock.last_frame[f][t] = now;
            }
            self.clock.dropping[f][t] = *dropped;
            match msg.body {
                Body::AuthAck => self.clock.last_ack[f] = now,
                Body::AuthRequest => self.clock.last_request[f] = now,
                Body::Fail { about } => {
                    self.clock.first_fail[about as usize].get_or_insert(now);
                }
                _ => {}
            }
        }
        if let Obs::Restart(n) = obs {
            self.clock.restarted[*n as usize] = Some(self.clock.now);
        }
        r
    }

    /// Whether `n` restarted less than NT ago: its peers' links to it are
    /// still being made again, and what they send it before that is lost
    /// (`clusterSendUpdate` and the broadcasts skip a node without a link).
    fn reconnecting(&self, n: NodeIx) -> bool {
        let c = &self.clock;
        c.restarted[n as usize].is_some_and(|t| c.now.saturating_sub(t) < self.nt_us)
    }

    /// Whether the trace's clock allows timer `a` now.
    fn timely(&self, a: &Action) -> bool {
        let c = &self.clock;
        let since = |t: u64| c.now.saturating_sub(t);
        let half_nt = self.nt_us / 2;
        match *a {
            Action::NodeTimeout { node, peer } => {
                since(c.last_frame[peer as usize][node as usize]) >= half_nt
            }
            Action::VoteCooldown { node, .. } => since(c.last_ack[node as usize]) >= self.nt_us,
            Action::AuthTimeout { node } => {
                since(c.last_request[node as usize]) >= self.nt_us.max(1_000_000)
            }
            Action::FailUndo { about, .. } => {
                c.first_fail[about as usize].is_some_and(|t| since(t) >= self.nt_us)
            }
            _ => true,
        }
    }

    fn explain_all(&mut self, obs: &Obs) -> Result<(), Box<Unexplained>> {
        if let Obs::Cont(n) = obs {
            self.stopped &= !(1 << n);
            return Ok(());
        }
        let mut visited: HashMap<Cand, ()> = HashMap::new();
        let mut queue: VecDeque<(Cand, u32, Meta)> = VecDeque::new();
        for (c, m) in &self.frontier {
            visited.insert(*c, ());
            queue.push_back((*c, 0, *m));
        }
        let mut next: HashMap<Cand, Meta> = HashMap::new();
        while let Some((c, d, meta)) = queue.pop_front() {
            self.stats.visited += 1;
            for n in self.explain(obs, &c) {
                let m = Meta {
                    internal: meta.internal + d,
                    max_gap: meta.max_gap.max(d),
                };
                let e = next.entry(n).or_insert(m);
                if m.internal < e.internal {
                    *e = m;
                }
            }
            if d < self.max_internal {
                for n in self.internal(&c) {
                    if visited.insert(n, ()).is_none() {
                        queue.push_back((n, d + 1, meta));
                    }
                }
            }
            if visited.len() > 4 * MAX_FRONTIER {
                return Err(self.bound(visited.len(), "states visited for one observation"));
            }
        }
        if next.len() > MAX_FRONTIER {
            return Err(self.bound(next.len(), "candidates after one observation"));
        }
        if let Obs::Snapshot(v) = obs {
            let first = self.started & (1 << v.node) == 0;
            self.started |= 1 << v.node;
            if next.is_empty() && !first {
                self.stats.snapshots_unmatched += 1;
                return Ok(());
            }
            if !next.is_empty() {
                self.stats.snapshots_pinned += 1;
            }
        }
        if next.is_empty() {
            return Err(self.unexplained(obs, visited.into_keys().collect()));
        }
        if let Obs::Stop(n) = obs {
            self.stopped |= 1 << n;
        }
        self.stats.max_frontier = self.stats.max_frontier.max(next.len());
        self.frontier = next;
        Ok(())
    }

    /// Joins the frontier of `other`, a search over the same prefix in
    /// another order (see `validate`'s reordering of close frames).
    /// `base` is the visited count both started from.
    pub fn merge(&mut self, other: Search<'a>, base: u64) {
        for (c, m) in other.frontier {
            let e = self.frontier.entry(c).or_insert(m);
            if m.internal < e.internal {
                *e = m;
            }
        }
        self.stats.visited += other.stats.visited.saturating_sub(base);
        self.stats.max_frontier = self.stats.max_frontier.max(self.frontier.len());
    }

    fn bound(&self, n: usize, what: &str) -> Box<Unexplained> {
        Box::new(Unexplained {
            candidates: n,
            closest: None,
            bound: Some(format!("more than the search's bound of {what} ({n})")),
        })
    }

    fn unexplained(&self, obs: &Obs, cands: Vec<Cand>) -> Box<Unexplained> {
        let closest = cands
            .iter()
            .map(|c| (*c, self.differences(obs, c)))
            .min_by_key(|(_, d)| d.len());
        Box::new(Unexplained {
            candidates: cands.len(),
            closest,
            bound: None,
        })
    }

    /// Where candidate `c` and observation `obs` differ.
    fn differences(&self, obs: &Obs, c: &Cand) -> Vec<String> {
        match obs {
            Obs::Frame { from, to, msg, .. } => diff_frame(c, *from, *to, msg),
            Obs::Snapshot(v) => diff_view(c, v),
            Obs::Crash(n) => vec![format!(
                "n{n} up {} (crashes {} of at most {})",
                c.st.nodes[*n as usize].up, c.st.crashes, self.cfg.max_crashes
            )],
            Obs::Restart(n) => vec![format!("n{n} up {}", c.st.nodes[*n as usize].up)],
            Obs::Outside(why) => vec![why.clone()],
            _ => vec![],
        }
    }

    /// Applies `a` to `c`; None beyond the model's capacity.
    fn apply(&self, c: &Cand, a: &Action) -> Option<Cand> {
        let mut n = *c;
        let Action::Deliver { from, to } = *a else {
            step::apply(self.cfg, &mut n.st, a);
            return self.settled(n);
        };
        let (f, t) = (from as usize, to as usize);
        let (rest, gossip_at) = n.seen[f][t].delivered()?;
        n.seen[f][t] = rest;
        step::apply(self.cfg, &mut n.st, a);
        // A PONG's gossip is read with the PONG (`convey`).
        if let Some(i) = gossip_at {
            let ping = n.st.net.take(from, to, i)?;
            n.seen[f][t] = n.seen[f][t].removed(i);
            receive(self.cfg, &mut n.st, to, ping);
        }
        self.settled(n)
    }

    /// `n` after a step: None beyond the model's capacity; the ghost
    /// forgotten, and what is shown clamped to what is still in flight.
    fn settled(&self, mut n: Cand) -> Option<Cand> {
        if n.st.net.overflowed() {
            return None;
        }
        n.st.ghost = Ghost::default();
        for (from, row) in n.seen.iter_mut().enumerate() {
            for (to, s) in row.iter_mut().enumerate() {
                if from < n.st.n() && to < n.st.n() {
                    let len = n.st.link(from as NodeIx, to as NodeIx).len();
                    *s = s.clamp(len);
                }
            }
        }
        Some(n)
    }

    fn enabled(&self, c: &Cand) -> Vec<Action> {
        let mut out = Vec::new();
        step::enabled(self.cfg, &c.st, &mut out);
        out
    }

    /// The internal steps of `c`: deliveries of seen messages and timers
    /// of nodes that are not stopped.
    fn internal(&self, c: &Cand) -> Vec<Cand> {
        self.enabled(c)
            .iter()
            .filter(|a| match **a {
                Action::Deliver { from, to } => {
                    c.seen[from as usize][to as usize].head_shown() && !self.is_stopped(to)
                }
                Action::LinkBreak { from, to } => {
                    let unseen = !c.seen[from as usize][to as usize].all(c.st.link(from, to).len());
                    // Cut off by the tap, the link may be down when the
                    // sender writes: what it sends then never shows.
                    let cut = self.clock.dropping[from as usize][to as usize];
                    unseen && (cut || self.reconnecting(from) || self.reconnecting(to))
                }
                Action::FailUndo { node, about } => {
                    !self.is_stopped(node) && !self.is_stopped(about)
                }
                Action::NodeTimeout { node, .. }
                | Action::ReportExpired { node, .. }
                | Action::ElectionDue { node }
                | Action::AuthTimeout { node }
                | Action::VoteCooldown { node, .. }
                | Action::HandshakeTimeout { node, .. } => !self.is_stopped(node),
                _ => false,
            })
            .filter(|a| self.timely(a))
            .filter_map(|a| self.apply(c, a))
            .collect()
    }

    /// The successors of `c` that explain `obs` (none: `c` does not).
    fn explain(&self, obs: &Obs, c: &Cand) -> Vec<Cand> {
        let forced = |a: Action| -> Vec<Cand> {
            match self.enabled(c).contains(&a) {
                true => self.apply(c, &a).into_iter().collect(),
                false => vec![],
            }
        };
        match obs {
            Obs::Frame {
                from,
                to,
                msg,
                dropped,
                late,
                pfail,
                stream,
            } => {
                // Every node a PING or PONG flags PFAIL is PFAIL at its
                // sender (`clusterSendPing` adds them all, from a count
                // that may lag one cron tick: a subset, not the set). A
                // reply may have been built before its sender flagged one
                // of them FAIL and shown after (`shown`'s two streams).
                let at_sender =
                    |p: &clusterbus_model::Peer| p.pfail || (*stream == Stream::Reply && p.fail);
                let pfail_at_sender = c.st.nodes[*from as usize]
                    .peers
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| at_sender(p))
                    .fold(0u8, |b, (j, _)| b | 1 << j);
                if pfail & !pfail_at_sender != 0 {
                    return vec![];
                }
                let how = Sent {
                    dropped: *dropped,
                    late: *late,
                    stream: *stream,
                };
                self.explain_frame(c, (*from, *to), msg, how)
            }
            Obs::Crash(n) => forced(Action::Crash { node: *n }),
            Obs::Restart(n) => forced(Action::Restart { node: *n }),
            Obs::Stop(_) | Obs::Cont(_) => vec![*c],
            Obs::Closed(a, b) => self.closed(c, *a, *b),
            Obs::Snapshot(v) => match diff_view(c, v).is_empty() {
                true => vec![*c],
                false => vec![],
            },
            Obs::Outside(_) => vec![],
        }
    }

    /// A closed connection: each direction's messages may have been lost.
    fn closed(&self, c: &Cand, a: NodeIx, b: NodeIx) -> Vec<Cand> {
        let mut out = vec![*c];
        for (x, y) in [(a, b), (b, a)] {
            let mut more = Vec::new();
            for o in &out {
                let brk = Action::LinkBreak { from: x, to: y };
                if self.enabled(o).contains(&brk) {
                    more.extend(self.apply(o, &brk));
                }
            }
            out.extend(more);
        }
        out
    }

    /// Explanations of a frame `from -> to` carrying `msg`.
    fn explain_frame(
        &self,
        c: &Cand,
        (from, to): (NodeIx, NodeIx),
        msg: &Msg,
        how: Sent,
    ) -> Vec<Cand> {
        let Sent {
            dropped,
            late,
            stream,
        } = how;
        let (f, t) = (from as usize, to as usize);
        if !c.st.nodes[f].up {
            return vec![];
        }
        // To a node that is down: written before the sender noticed, into
        // a connection nobody reads. The model sends nothing to a node
        // that is down (`receive::send`), so it tells nothing.
        if !c.st.nodes[t].up {
            return vec![*c];
        }
        // The model sends AUTH_REQUEST to masters only; a replica takes
        // nothing from one but its header, which a PING carries as well.
        let replica_request =
            msg.body == Body::AuthRequest && c.st.nodes[f].peers[t].master.is_some();
        let msg = &match replica_request {
            true => Msg {
                header: msg.header,
                body: Body::Ping {
                    gossip: GossipList::new(),
                },
            },
            false => *msg,
        };
        let mut out = Vec::new();
        match msg.body {
            Body::Ping { gossip } | Body::Meet { gossip } => {
                // A PING that tells nothing is delivered at once, as the
                // model's own uninformative pings are; unless its answer
                // may not come at once (a stopped receiver, one whose
                // frames the tap holds, a drop): then its wait matters.
                let told_nothing = self.at_once(c, from, to, msg);
                let stopped = self.is_stopped(to);
                let slow = stopped || self.slow & (1 << to) != 0;
                if !dropped && !slow && told_nothing.is_some() {
                    return told_nothing.into_iter().collect();
                }
                // Another one whose last is still unanswered (Redis
                // reconnects and pings again after NT/2): it repeats what
                // is on its way, and the wait runs already.
                if !dropped && told_nothing.is_some() && c.st.nodes[f].peers[t].ping_pending {
                    return vec![*c];
                }
                if !dropped && !stopped {
                    out.extend(told_nothing);
                }
                out.extend(self.send_ping(c, from, to, gossip, msg, Some(stream)));
            }
            Body::Pong { gossip, reply } => {
                let bare = Msg {
                    header: msg.header,
                    body: Body::Pong {
                        gossip: GossipList::new(),
                        reply,
                    },
                };
                let told_nothing = self.at_once(c, from, to, &bare).or_else(|| match stream {
                    Stream::Reply => self.stale_reply(c, from, to, &bare),
                    Stream::Own => None,
                });
                // Held or delayed, it tells nothing later: the wait it
                // answers runs on until then.
                let deferred = (late && told_nothing.is_some()).then_some(*c);
                let queued = self.next_sent(c, from, to, &bare, stream);
                let pongs = queued
                    .map(|(p, i)| (p, Some(i)))
                    .into_iter()
                    .chain(told_nothing.map(|p| (p, None)))
                    .chain(deferred.map(|p| (p, None)));
                for (p, at) in pongs {
                    if !dropped {
                        out.extend(self.convey(&p, from, to, gossip, at));
                    }
                    out.push(p);
                }
            }
            _ => out.extend(self.next_sent(c, from, to, msg, stream).map(|(n, _)| n)),
        }
        if dropped {
            out = out
                .iter()
                .filter_map(|n| self.lose(c, n, from, to))
                .collect();
        }
        out
    }

    /// `msg` is the oldest message of its stream on `from -> to` the wire
    /// has not shown; with its position.
    fn next_sent(
        &self,
        c: &Cand,
        from: NodeIx,
        to: NodeIx,
        msg: &Msg,
        stream: Stream,
    ) -> Option<(Cand, usize)> {
        let (f, t) = (from as usize, to as usize);
        let same = |m: &Msg| match (m.body, msg.body) {
            (Body::Pong { reply: a, .. }, Body::Pong { reply: b, .. }) => {
                m.header == msg.header && a == b
            }
            _ => m == msg,
        };
        let i = c.seen[f][t].next_for(c.st.link(from, to), stream, same)?;
        let mut n = *c;
        n.seen[f][t] = n.seen[f][t].show(i);
        Some((n, i))
    }

    /// The model's cron PING with the observed gossip entries (a choice
    /// Redis makes at random, so a parameter, as in replay); it must carry
    /// the observed header, and nothing the model sent may be waiting
    /// ahead of it on its stream of the link.
    fn send_ping(
        &self,
        c: &Cand,
        from: NodeIx,
        to: NodeIx,
        gossip: GossipList,
        msg: &Msg,
        stream: Option<Stream>,
    ) -> Option<Cand> {
        let (f, t) = (from as usize, to as usize);
        let peer = &c.st.nodes[f].peers[t];
        let in_order = stream.is_none_or(|s| c.seen[f][t].may_follow(c.st.link(from, to), s));
        if !(peer.known || peer.handshake.is_some()) || !in_order {
            return None;
        }
        let mut n = self.apply(
            c,
            &Action::SendPing {
                node: from,
                peer: to,
                gossip,
            },
        )?;
        let last = n.st.link(from, to).len().checked_sub(1)?;
        (n.st.link(from, to).last() == Some(msg)).then(|| {
            n.seen[f][t] = n.seen[f][t].show(last);
            n
        })
    }

    /// A PONG's gossip, which the model's PONGs do not carry, handed to the
    /// receiver as a PING from the same sender would hand it (the model's
    /// argument: every report a PONG could carry, a PING can): nothing if
    /// it tells nothing; else, for a PONG in flight at position `at`, read
    /// with it (Redis takes a packet's header and gossip in one go); for
    /// one delivered at once, read at once too, or in flight behind it (the
    /// receiver may read the reply connection before or after the other).
    fn convey(
        &self,
        c: &Cand,
        from: NodeIx,
        to: NodeIx,
        gossip: GossipList,
        at: Option<usize>,
    ) -> Vec<Cand> {
        let ping = Msg {
            header: header_of(&c.st, from),
            body: Body::Ping { gossip },
        };
        if gossip.is_empty() || self.at_once(c, from, to, &ping).is_some() {
            return vec![];
        }
        let (f, t) = (from as usize, to as usize);
        match at {
            Some(i) => {
                let sent = self.send_ping(c, from, to, gossip, &ping, None);
                sent.map(|mut n| {
                    let last = n.st.link(from, to).len() - 1;
                    n.seen[f][t] = n.seen[f][t].conveyed(i, last);
                    n
                })
                .into_iter()
                .collect()
            }
            None => {
                let mut now = *c;
                receive(self.cfg, &mut now.st, to, ping);
                let later = self.send_ping(c, from, to, gossip, &ping, Some(Stream::Reply));
                self.settled(now).into_iter().chain(later).collect()
            }
        }
    }

    /// `msg` carries its sender's header and would change nothing at the
    /// receiver but a ping's wait: delivered at once.
    fn at_once(&self, c: &Cand, from: NodeIx, to: NodeIx, msg: &Msg) -> Option<Cand> {
        if header_of(&c.st, from) != msg.header {
            return None;
        }
        self.quiet(c, to, msg)
    }

    /// A reply that tells nothing, built before its sender's currentEpoch
    /// grew (an AUTH_REQUEST read after the PING it answers) and shown
    /// after what the sender wrote since on its own connection: its header
    /// is the sender's but for a lower currentEpoch.
    fn stale_reply(&self, c: &Cand, from: NodeIx, to: NodeIx, msg: &Msg) -> Option<Cand> {
        let now = header_of(&c.st, from);
        let then = Header {
            current_epoch: msg.header.current_epoch,
            ..now
        };
        if then != msg.header || msg.header.current_epoch >= now.current_epoch {
            return None;
        }
        self.quiet(c, to, msg)
    }

    /// `msg` received by `to` changes nothing there but a ping's wait.
    fn quiet(&self, c: &Cand, to: NodeIx, msg: &Msg) -> Option<Cand> {
        let mut n = *c;
        receive(self.cfg, &mut n.st, to, *msg);
        let t = to as usize;
        let quiet = |s: &State| {
            let mut node = s.nodes[t];
            for p in node.peers.iter_mut() {
                p.ping_pending = false;
            }
            node
        };
        (n.st.net == c.st.net && quiet(&n.st) == quiet(&c.st)).then(|| {
            n.st.ghost = Ghost::default();
            n
        })
    }

    /// A frame the tap dropped: the messages seen before it on the link
    /// are delivered, then the link breaks with it alone in flight. (Only
    /// where the shown ones are the oldest: a drop behind a hole of the
    /// other stream is not explained.)
    fn lose(&self, before: &Cand, n: &Cand, from: NodeIx, to: NodeIx) -> Option<Cand> {
        let (f, t) = (from as usize, to as usize);
        let mut n = *n;
        if n.seen[f][t] == before.seen[f][t] {
            // Delivered at once (told nothing): nothing is left to lose.
            return Some(n);
        }
        n.seen[f][t].prefix()?;
        while n.seen[f][t].count() > 1 {
            n = self.apply(&n, &Action::Deliver { from, to })?;
        }
        if n.st.link(from, to).len() != 1 {
            return None;
        }
        let brk = Action::LinkBreak { from, to };
        if !self.enabled(&n).contains(&brk) {
            return None;
        }
        self.apply(&n, &brk)
    }
}
