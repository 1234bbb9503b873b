//! Traces from the model: the shortest path to every Sometimes discovery,
//! the action sequence of every seeded bug's counterexample, every state
//! within a depth, and seeded random walks.

use clusterbus_model::trace::to_json_lines;
use clusterbus_model::{Action, Body, Bug, ClusterModel, ModelCfg, State};
use clusterbus_node::splitmix::SplitMix64;
use stateright::{Checker, Expectation, HasDiscoveries, Model};
use std::collections::BTreeSet;
use std::path::Path;

/// A path through the model: `states[0]` initial, `states[k+1]` after `actions[k]`.
#[derive(Clone, Debug)]
pub struct Trace {
    pub name: String,
    pub states: Vec<State>,
    pub actions: Vec<Action>,
}

impl Trace {
    pub fn to_json_lines(&self, cfg: &ModelCfg) -> String {
        to_json_lines(cfg, &self.name, &self.states, &self.actions)
    }

    /// Replays `actions` in the correct model from its initial state, as far
    /// as they are enabled (a bug's path may take a step only the bug allows).
    pub fn from_actions(cfg: &ModelCfg, name: String, actions: &[Action]) -> Trace {
        let model = ClusterModel::new(cfg.clone());
        let mut states = model.init_states();
        let mut taken = Vec::new();
        for a in actions {
            let last = states.last().expect("a trace has an initial state");
            let mut enabled = Vec::new();
            model.actions(last, &mut enabled);
            if !enabled.contains(a) {
                break;
            }
            match model.next_state(last, *a) {
                Some(next) => {
                    states.push(next);
                    taken.push(*a);
                }
                None => break,
            }
        }
        Trace {
            name,
            states,
            actions: taken,
        }
    }
}

/// The shortest path to every Sometimes property of `cfg` (BFS within its
/// depth bound; only for the configurations `check --all` checks, the others
/// exist for a bug), and the actions of every seeded bug's shortest
/// counterexample in `cfg`, replayed in the correct model.
pub fn discovery_traces(cfg: &ModelCfg) -> Vec<Trace> {
    let mut out = Vec::new();
    if ModelCfg::all().iter().any(|c| c.name == cfg.name) {
        out = sometimes_traces(cfg);
    }
    for bug in Bug::ALL.into_iter().filter(|b| b.config() == cfg.name) {
        out.extend(bug_trace(cfg, bug));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn sometimes_traces(cfg: &ModelCfg) -> Vec<Trace> {
    let model = ClusterModel::new(cfg.clone());
    let wanted: BTreeSet<&'static str> = model
        .properties()
        .iter()
        .filter(|p| p.expectation == Expectation::Sometimes)
        .map(|p| p.name)
        .collect();
    let checker = model
        .checker()
        .target_max_depth(cfg.max_depth)
        .finish_when(HasDiscoveries::AllOf(wanted))
        .spawn_bfs()
        .join();
    checker
        .discoveries()
        .into_iter()
        .map(|(name, path)| trace_of_path(name.to_string(), path))
        .collect()
}

/// The actions of `bug`'s shortest counterexample in `cfg` (BFS), replayed
/// in the correct model: up to the step where the bug first matters, and on
/// as long as the correct model allows.
pub fn bug_trace(cfg: &ModelCfg, bug: Bug) -> Option<Trace> {
    let buggy = ClusterModel::new(cfg.clone().with_bug(Some(bug)));
    let always: Vec<&'static str> = buggy
        .properties()
        .iter()
        .filter(|p| p.expectation != Expectation::Sometimes)
        .map(|p| p.name)
        .collect();
    let checker = buggy
        .checker()
        .target_max_depth(cfg.max_depth + 8)
        .finish_when(HasDiscoveries::AnyFailures)
        .spawn_bfs()
        .join();
    let (_, path) = checker
        .discoveries()
        .into_iter()
        .find(|(name, _)| always.contains(name))?;
    let actions = path.into_actions();
    Some(Trace::from_actions(
        cfg,
        format!("bug {}", bug.name()),
        &actions,
    ))
}

fn trace_of_path(name: String, path: stateright::Path<State, Action>) -> Trace {
    let pairs = path.into_vec();
    let states = pairs.iter().map(|(s, _)| *s).collect();
    let actions = pairs.into_iter().filter_map(|(_, a)| a).collect();
    Trace {
        name,
        states,
        actions,
    }
}

/// The actions enabled in `s` whose next state is within the model's bounds.
pub fn next_steps(model: &ClusterModel, s: &State) -> Vec<(Action, State)> {
    let mut actions = Vec::new();
    model.actions(s, &mut actions);
    actions
        .into_iter()
        .filter_map(|a| {
            let next = model.next_state(s, a)?;
            model.within_boundary(&next).then_some((a, next))
        })
        .collect()
}

/// A reproducible random walk of at most `max_steps` steps. Even-numbered
/// walks pick among the enabled steps uniformly; odd-numbered ones are
/// guided (see `guided_weight`), so that elections, votes, UPDATEs and
/// retries, which a uniform walk seldom reaches past the crashes and pings
/// it mostly takes, are replayed too.
pub fn random_walk(cfg: &ModelCfg, seed: u64, walk: usize, max_steps: usize) -> Trace {
    let model = ClusterModel::new(cfg.clone());
    let mut rng = SplitMix64::new(seed ^ (walk as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let guided = walk % 2 == 1;
    let mut states = model.init_states();
    states.truncate(1);
    let mut actions = Vec::new();
    for _ in 0..max_steps {
        let last = states.last().expect("a walk has an initial state");
        let mut next = next_steps(&model, last);
        if next.is_empty() {
            break;
        }
        let k = if guided {
            let weights: Vec<u64> = next.iter().map(|(a, _)| guided_weight(last, a)).collect();
            let mut r = rng.below(weights.iter().sum());
            weights
                .iter()
                .position(|&w| {
                    let hit = r < w;
                    r = r.saturating_sub(w);
                    hit
                })
                .unwrap_or(0)
        } else {
            rng.below(next.len() as u64) as usize
        };
        let (a, s) = next.swap_remove(k);
        actions.push(a);
        states.push(s);
    }
    let kind = if guided { "guided walk" } else { "walk" };
    Trace {
        name: format!("{kind} {walk} (seed {seed})"),
        states,
        actions,
    }
}

/// How much a guided walk prefers `action` in `s`: protocol progress
/// (delivering FAIL, AUTH and UPDATE messages, elections and their
/// timeouts) most, faults least, so that a walk gets past the first crash
/// into failovers, retries and rejoins.
fn guided_weight(s: &State, action: &Action) -> u64 {
    match *action {
        Action::Deliver { from, to } => match s.link(from, to).first().map(|m| &m.body) {
            Some(Body::Ping { .. } | Body::Pong { .. } | Body::Meet { .. }) => 4,
            _ => 16,
        },
        Action::ElectionDue { .. }
        | Action::AuthTimeout { .. }
        | Action::SetSlotImporting { .. }
        | Action::SetSlotNode { .. } => 16,
        Action::NodeTimeout { .. } | Action::VoteCooldown { .. } | Action::FailUndo { .. } => 4,
        Action::SendPing { .. } | Action::Meet { .. } => 2,
        Action::Restart { .. } => 2,
        Action::Crash { .. }
        | Action::LinkBreak { .. }
        | Action::ReportExpired { .. }
        | Action::HandshakeTimeout { .. } => 1,
    }
}

/// Reads a trace written by `to_json_lines`: its configuration and actions
/// (the states are recomputed by the model).
pub fn read_trace(path: &Path) -> Result<(ModelCfg, Trace), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines().enumerate();
    let (_, first) = lines
        .next()
        .ok_or_else(|| format!("{}: empty file", path.display()))?;
    let header: serde_json::Value =
        serde_json::from_str(first).map_err(|e| format!("{}:1: {e}", path.display()))?;
    if header["format"] != "clusterbus-trace" || header["version"] != 1 {
        return Err(format!(
            "{}:1: not a clusterbus-trace version 1 file",
            path.display()
        ));
    }
    let name = header["config"].as_str().unwrap_or_default();
    let cfg = ModelCfg::named(name)
        .ok_or_else(|| format!("{}:1: unknown configuration {name:?}", path.display()))?;
    let mut actions = Vec::new();
    for (k, line) in lines {
        let action: Action =
            serde_json::from_str(line).map_err(|e| format!("{}:{}: {e}", path.display(), k + 1))?;
        actions.push(action);
    }
    let title = header["property"].as_str().unwrap_or("trace").to_string();
    let trace = Trace::from_actions(&cfg, title, &actions);
    if trace.actions.len() != actions.len() {
        return Err(format!(
            "{}:{}: action not enabled in the model: {}",
            path.display(),
            trace.actions.len() + 2,
            actions[trace.actions.len()]
        ));
    }
    Ok((cfg, trace))
}
