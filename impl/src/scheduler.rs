//! Which timer events are due, given `now` and the core: Redis's
//! `clusterCron` as a pure function.
//!
//! The runtime calls [`Scheduler::tick`] every [`CLUSTER_CRON_PERIOD_MS`]
//! and feeds the returned events to [`Core::handle`] in order. Random choices
//! (the 5 nodes sampled for the periodic ping, the election jitter, the
//! gossip seed) come in as [`CronChoices`]; the scheduler draws nothing.

use crate::codec::{flags, NodeName};
use crate::core::{
    Core, Event, NodeEntry, CLUSTER_CRON_PERIOD_MS, CLUSTER_CRON_SAMPLE_EVERY_TICKS,
};

/// The random choices one cron tick needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CronChoices {
    /// The nodes sampled for the every-10th-tick ping (Redis samples 5 with
    /// `dictGetRandomKey`, repeats allowed).
    pub ping_sample: Vec<NodeName>,
    /// `random() % 500` for a newly planned election.
    pub election_jitter_ms: u64,
    /// Seed for the gossip entries of the pings this tick sends.
    pub gossip_seed: u64,
}

/// The cron's only state: how many ticks have run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scheduler {
    iteration: u64,
}

impl Scheduler {
    /// A scheduler that has not ticked yet.
    pub fn new() -> Scheduler {
        Scheduler::default()
    }

    /// Number of ticks run so far.
    pub fn iteration(&self) -> u64 {
        self.iteration
    }

    /// Runs one cron tick: the events due at `now_ms`, in the order
    /// `clusterCron` would act.
    pub fn tick(&mut self, now_ms: u64, core: &Core, choices: &CronChoices) -> Vec<Event> {
        self.iteration += 1;
        due_events(now_ms, self.iteration, core, choices)
    }
}

/// The events one cron tick (`iteration`, counting from 1) produces.
pub fn due_events(now_ms: u64, iteration: u64, core: &Core, choices: &CronChoices) -> Vec<Event> {
    let mut ev = Vec::new();
    let mut ping_salt = 0u64;
    let mut gossip = |core: &Core| {
        ping_salt += 1;
        core.pick_gossip(choices.gossip_seed.wrapping_add(ping_salt))
    };
    reconnect_events(now_ms, core, &mut ev);
    if iteration.is_multiple_of(CLUSTER_CRON_SAMPLE_EVERY_TICKS) {
        if let Some(peer) = oldest_pong_of_sample(core, &choices.ping_sample) {
            ev.push(Event::PingDue {
                peer,
                gossip: gossip(core),
            });
        }
    }
    for n in core.nodes() {
        if n.has(flags::MYSELF | flags::NOADDR | flags::HANDSHAKE) {
            continue;
        }
        let nt = core.config().node_timeout_ms;
        let stale = link_is_stale(now_ms, nt, n);
        if stale {
            ev.push(Event::LinkStale(n.name));
        }
        let linked = n.link.exists() && !stale;
        if linked && n.ping_sent_ms.is_none() && now_ms.saturating_sub(n.pong_received_ms) > nt / 2
        {
            ev.push(Event::PingDue {
                peer: n.name,
                gossip: gossip(core),
            });
            continue;
        }
        let mf = core.manual_failover();
        if core.is_master() && mf.end_ms.is_some() && mf.replica == Some(n.name) && linked {
            ev.push(Event::PingDue {
                peer: n.name,
                gossip: gossip(core),
            });
            continue;
        }
        if node_timed_out(now_ms, nt, n) {
            ev.push(Event::NodeTimeout(n.name));
        }
    }
    for (about, reporter, expiry) in core.failure_report_expiries() {
        if now_ms > expiry {
            ev.push(Event::ReportExpired { about, reporter });
        }
    }
    failover_events(now_ms, core, choices, &mut ev);
    ev
}

/// Handshake timeouts and reconnects. Mirrors `clusterNodeCronHandleReconnect`.
fn reconnect_events(now_ms: u64, core: &Core, ev: &mut Vec<Event>) {
    let handshake_timeout = core.handshake_timeout_ms();
    for n in core.nodes() {
        if n.has(flags::MYSELF | flags::NOADDR) {
            continue;
        }
        if n.in_handshake() && now_ms.saturating_sub(n.ctime_ms) > handshake_timeout {
            ev.push(Event::HandshakeTimeout(n.name));
        } else if !n.link.exists() {
            ev.push(Event::Reconnect(n.name));
        }
    }
}

/// Of the sampled nodes, the linked one with no ping pending and the oldest pong.
fn oldest_pong_of_sample(core: &Core, sample: &[NodeName]) -> Option<NodeName> {
    sample
        .iter()
        .filter_map(|s| core.node(s))
        .filter(|n| n.link.exists() && n.ping_sent_ms.is_none())
        .filter(|n| !n.has(flags::MYSELF | flags::HANDSHAKE))
        .min_by_key(|n| n.pong_received_ms)
        .map(|n| n.name)
}

/// The link is older than NT, a ping is pending for more than NT/2 and
/// nothing was received for NT/2.
pub fn link_is_stale(now_ms: u64, nt: u64, n: &NodeEntry) -> bool {
    let (Some(created), Some(ping)) = (n.link.created_ms(), n.ping_sent_ms) else {
        return false;
    };
    now_ms.saturating_sub(created) > nt
        && now_ms.saturating_sub(ping) > nt / 2
        && now_ms.saturating_sub(n.data_received_ms) > nt / 2
}

/// A ping is pending and neither a pong nor any data came for more than NT.
pub fn node_timed_out(now_ms: u64, nt: u64, n: &NodeEntry) -> bool {
    let Some(ping) = n.ping_sent_ms else {
        return false;
    };
    let delay = now_ms
        .saturating_sub(ping)
        .min(now_ms.saturating_sub(n.data_received_ms));
    delay > nt && !n.has(flags::PFAIL | flags::FAIL)
}

/// Manual failover timeout and the replica's election steps.
fn failover_events(now_ms: u64, core: &Core, choices: &CronChoices, ev: &mut Vec<Event>) {
    if let Some(end) = core.manual_failover().end_ms {
        if end < now_ms {
            ev.push(Event::ManualFailoverTimeout);
        }
    }
    if core.is_master() {
        return;
    }
    if core.election_needs_scheduling(now_ms) {
        ev.push(Event::ScheduleElection {
            jitter_ms: choices.election_jitter_ms,
        });
        return;
    }
    let e = core.election();
    if let (Some(start), false) = (e.auth_time_ms, e.auth_sent) {
        if now_ms >= start && core.may_fail_over(now_ms) {
            ev.push(Event::ElectionDue);
        }
    }
    if let Some(deadline) = core.auth_deadline_ms() {
        if now_ms > deadline {
            ev.push(Event::AuthTimeout);
        }
    }
}

/// The cron period, re-exported for runtimes.
pub const CRON_PERIOD_MS: u64 = CLUSTER_CRON_PERIOD_MS;

#[cfg(test)]
mod tests;
