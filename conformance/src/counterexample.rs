//! Counterexamples: printed as numbered steps, written as a trace (JSON lines)
//! and as a sequence diagram (SVG) beside it.

use crate::diagram::{render_html, render_svg, Diagram, DiagramStep, StepKind};
use clusterbus_model::trace::{delivered, to_json_lines};
use clusterbus_model::{Action, ModelCfg, NodeIx, State};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};

pub type Trace = stateright::Path<State, Action>;

/// Print the counterexample for `property`, and write it to `out` (and the
/// picture to `out` with extension `.svg`) when given.
pub fn report(
    cfg: &ModelCfg,
    property: &str,
    path: &Trace,
    out: Option<&Path>,
) -> Result<(), String> {
    let (states, actions) = split(path);
    println!();
    println!(
        "counterexample for \"{property}\" in {} ({} steps):",
        cfg.name,
        actions.len()
    );
    for (k, action) in actions.iter().enumerate() {
        match delivered(&states[k], action) {
            Some(msg) => println!("  {:>3}. {action}: {msg}", k + 1),
            None => println!("  {:>3}. {action}", k + 1),
        }
    }
    if let Some(out) = out {
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let svg = svg_path(out);
        write(out, &to_json_lines(cfg, property, &states, &actions))?;
        let picture = diagram(cfg, property, &states, &actions);
        write(&svg, &render_svg(&picture))?;
        write(&out.with_extension("html"), &render_html(&picture))?;
        println!(
            "trace written to {}; picture: {} (and .html)",
            out.display(),
            svg.display()
        );
    }
    Ok(())
}

fn split(path: &Trace) -> (Vec<State>, Vec<Action>) {
    let pairs = path.clone().into_vec();
    let states = pairs.iter().map(|(s, _)| *s).collect();
    let actions = pairs.into_iter().filter_map(|(_, a)| a).collect();
    (states, actions)
}

/// `trace.jsonl` → `trace.svg`.
pub fn svg_path(out: &Path) -> PathBuf {
    out.with_extension("svg")
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A sequence diagram of the trace: one lane per node; a delivery is an arrow
/// from the step that sent the message; the last step is highlighted.
pub fn diagram(cfg: &ModelCfg, title: &str, states: &[State], actions: &[Action]) -> Diagram {
    let n = cfg.node_count();
    let lanes = (0..n as NodeIx).map(|i| lane_name(cfg, i)).collect();
    // For every link, the step numbers that queued the messages now in flight.
    let mut sent: Vec<VecDeque<usize>> = vec![VecDeque::new(); n * n];
    let mut steps = Vec::new();
    for (k, action) in actions.iter().enumerate() {
        let (before, after) = (&states[k], &states[k + 1]);
        let kind = match *action {
            Action::Deliver { from, to } => {
                let sent_at = sent[from as usize * n + to as usize].pop_front();
                StepKind::Receive {
                    from_lane: from as usize,
                    sent_at_step: sent_at,
                }
            }
            Action::LinkBreak { from, to } => {
                sent[from as usize * n + to as usize].clear();
                StepKind::Lost {
                    from_lane: from as usize,
                    to_lane: to as usize,
                }
            }
            _ => StepKind::Local,
        };
        record_sends(&mut sent, before, after, action, k + 1);
        let label = match delivered(before, action) {
            Some(msg) => msg.to_string(),
            None => action.to_string(),
        };
        let lane = action.lane() as usize;
        steps.push(DiagramStep {
            number: k + 1,
            lane,
            label,
            kind,
            note: Some(node_note(&after.nodes[lane])),
            highlight: k + 1 == actions.len(),
        });
    }
    Diagram {
        title: format!("{}: {title}", cfg.name),
        lanes,
        steps,
    }
}

/// Messages a step appended to each link (a crash empties links: forget them).
fn record_sends(
    sent: &mut [VecDeque<usize>],
    before: &State,
    after: &State,
    action: &Action,
    step: usize,
) {
    let n = before.n();
    for (link, q) in sent.iter_mut().enumerate() {
        let (from, to) = ((link / n) as NodeIx, (link % n) as NodeIx);
        let (b, a) = (before.link(from, to).len(), after.link(from, to).len());
        let popped = usize::from(*action == Action::Deliver { from, to });
        if a == 0 {
            q.clear();
        }
        for _ in 0..(a + popped).saturating_sub(b) {
            q.push_back(step);
        }
    }
}

fn lane_name(cfg: &ModelCfg, i: NodeIx) -> String {
    match cfg.initial_master(i) {
        Some(m) => format!("n{i} (replica of n{m})"),
        None => format!("n{i} (master)"),
    }
}

/// A node's state in a few characters: epochs, vote, role.
fn node_note(node: &clusterbus_model::Node) -> String {
    let role = match node.master {
        Some(m) => format!("replica of n{m}"),
        None => "master".into(),
    };
    let up = if node.up { "" } else { "DOWN " };
    format!(
        "{up}epoch {} config {} voted {} {role}",
        node.current_epoch, node.config_epoch, node.last_vote_epoch
    )
}
