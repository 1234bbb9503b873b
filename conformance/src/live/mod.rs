//! Live conformance, part 1: real clusters (unmodified redis-server 7.0 or
//! clusterbus-node) whose every bus frame passes through a tap the run
//! controls and records.
//!
//! - [`procs`]: node processes, signals, restarts; killed by pid on drop.
//! - [`tap`], [`pump`], [`rules`]: the tap, one connection's pumps, and
//!   the verbs (hold, release, drop, delay, cut, partition, heal) as rules.
//! - [`observe`], [`snapshot`]: what is recorded, in time order.
//! - [`cluster`], [`form`]: a cluster of one kind, and forming it.
//! - [`scenarios`], [`milestones`]: the fault scenarios, and what each
//!   must show in the recorded frames; [`manual`] and [`collision`] hold
//!   the scenarios that steer an election or a slot migration.
//! - [`output`]: the `clusterbus-observed` trace, its diagram and summary.

pub mod check;
pub mod cluster;
pub mod collision;
pub mod cost;
pub mod error;
pub mod form;
pub mod manual;
pub mod milestones;
pub mod observe;
pub mod output;
pub mod procs;
pub mod pump;
pub mod random;
pub mod record;
pub mod resp;
pub mod rules;
pub mod scenarios;
pub mod snapshot;
// The live replay's backend: until the replayer drives live processes
// through it, only its tests do.
#[cfg_attr(not(test), allow(dead_code))]
pub mod stepper;
pub mod tap;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::time::Instant;

use cluster::Cluster;
use error::LiveError;
use milestones::Milestone;
use observe::Event;
use procs::Kind;
use scenarios::Setup;
use snapshot::Snapshot;

/// One node as the trace's first line describes it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct NodeInfo {
    pub index: usize,
    pub id: String,
    pub port: u16,
    pub bus_port: u16,
    pub tap_port: u16,
}

/// Everything a run observed.
pub struct Outcome {
    pub kind: Kind,
    pub scenario: String,
    pub node_timeout_ms: u64,
    pub setup: Setup,
    pub nodes: Vec<NodeInfo>,
    pub events: Vec<Event>,
    /// Events beyond [`observe::MAX_EVENTS`], counted and not kept.
    pub lost: u64,
    pub milestones: Vec<Milestone>,
    pub wall_ms: u64,
    /// Each node's view at the end (None: down or not answering).
    pub final_views: Vec<Option<Snapshot>>,
    /// Why the scenario stopped early, if it did.
    pub error: Option<String>,
}

/// Runs `scenario` on a new cluster of `kind` with its files under `dir`.
/// Setup failures are errors; a scenario that fails part way still returns
/// what it observed, with [`Outcome::error`] set.
pub fn run(
    kind: Kind,
    scenario: &str,
    node_timeout_ms: u64,
    setup: Setup,
    dir: &Path,
) -> Result<Outcome, LiveError> {
    procs::require_redis_tools()?;
    let n = scenarios::node_count(scenario, &setup)?;
    let start = Instant::now();
    let mut c = Cluster::start(kind, n, node_timeout_ms, dir)?;
    let result = scenarios::run(scenario, &mut c, &setup);
    let final_views = (0..c.len()).map(|i| c.view(i)).collect();
    let ids = c.ids();
    let nodes = c
        .nodes
        .iter()
        .enumerate()
        .map(|(i, p)| NodeInfo {
            index: i,
            id: ids[i].clone(),
            port: p.spec.port,
            bus_port: p.spec.bus_port,
            tap_port: p.spec.tap_port,
        })
        .collect();
    let rec = c.rec.clone();
    drop(c);
    let (events, lost) = rec.events();
    let (milestones, error) = match result {
        Ok(m) => (m, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    Ok(Outcome {
        kind,
        scenario: scenario.to_string(),
        node_timeout_ms,
        setup,
        nodes,
        events,
        lost,
        milestones,
        wall_ms: start.elapsed().as_millis() as u64,
        final_views,
        error,
    })
}
