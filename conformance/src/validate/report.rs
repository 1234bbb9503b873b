//! The verdict in words: a success line with the search's cost, or the
//! first unexplained observation with its frame, the candidates before it,
//! the closest one's differing fields, and the trace prefix written as
//! JSON lines and drawn as a sequence diagram.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::observed::{BodyRead, EventRead, ObservedTrace};
use super::{Validation, Verdict};
use crate::diagram::{render_html, render_svg, Diagram, DiagramStep, StepKind};

/// Most rows the prefix's diagram draws (its last rows, the failure last).
const MAX_ROWS: usize = 400;

/// The report printed after a validation.
pub fn summary(t: &ObservedTrace, v: &Validation) -> String {
    let mut s = String::new();
    let n = v.stats.observations;
    let _ = writeln!(
        s,
        "{} on {}: {} events; validated from event {} ({:?}); {} formation frames before it not validated; {} PUBLISH/MODULE frames not modelled",
        t.head.scenario,
        t.head.server,
        t.events.len(),
        v.mapping.as_ref().map_or(0, |m| m.start),
        super::mapping::FORMED_NOTE,
        v.counts.formation_frames,
        v.counts.not_modelled,
    );
    let _ = writeln!(
        s,
        "run: seed {}, cluster-node-timeout {} ms{}",
        t.head.seed,
        t.head.node_timeout_ms,
        t.head
            .error
            .as_ref()
            .map_or(String::new(), |e| format!(", stopped early: {e}"))
    );
    if let Some(m) = v.mapping.as_ref().filter(|m| !m.renumbered().is_empty()) {
        let _ = writeln!(s, "epochs renumbered (run -> model): {:?}", m.renumbered());
    }
    if let Some(cfg) = &v.cfg {
        let _ = writeln!(
            s,
            "model: {} masters, replicas of {:?}, crashable {:?}; {}; spurious timeouts {}, report expiry {}",
            cfg.masters,
            cfg.replicas,
            cfg.crashable,
            cfg.bounds(),
            cfg.spurious_timeouts,
            cfg.report_expiry
        );
    }
    let per_obs = |x: f64| if n == 0 { 0.0 } else { x / n as f64 };
    let rate = if v.seconds > 0.0 {
        n as f64 / v.seconds
    } else {
        0.0
    };
    let _ = writeln!(
        s,
        "search: breadth-first, at most {} internal steps between observations; {} observations in {:.2} s ({:.0}/s); {} states visited ({:.1} per observation), largest frontier {}; internal steps per observation mean {:.3}, max {}; snapshots pinning state {}, matching no candidate {}",
        v.max_internal,
        n,
        v.seconds,
        rate,
        v.stats.visited,
        per_obs(v.stats.visited as f64),
        v.stats.max_frontier,
        per_obs(v.internal as f64),
        v.max_gap,
        v.stats.snapshots_pinned,
        v.stats.snapshots_unmatched,
    );
    match &v.verdict {
        Verdict::Validated => {
            let _ = writeln!(
                s,
                "validated: {n} observations explained ({} internal steps)",
                v.internal
            );
        }
        Verdict::Outside { event, why } => {
            let at = event.map_or(String::new(), |e| {
                format!(" at event {e} (line {}): {}", e + 2, t.lines[e])
            });
            let _ = writeln!(s, "outside the model{at}\n  {why}");
        }
        Verdict::Undecided { index, event, why } => {
            let _ = writeln!(
                s,
                "undecided: at observation {index} (event {event}, line {}) {why}",
                event + 2
            );
        }
        Verdict::Rejected { index, event, why } => {
            let _ = writeln!(
                s,
                "UNEXPLAINED: observation {index} (event {event}, line {}):\n  {}",
                event + 2,
                t.lines[*event]
            );
            let _ = writeln!(
                s,
                "candidate model states just before it: {}",
                why.candidates
            );
            if let Some(b) = &why.bound {
                let _ = writeln!(s, "  {b}");
            }
            if let Some((c, diffs)) = &why.closest {
                let _ = writeln!(
                    s,
                    "closest candidate ({} differing fields, marked *):",
                    diffs.len()
                );
                for d in diffs {
                    let _ = writeln!(s, "  * {d}");
                }
                for (i, node) in c.st.nodes.iter().enumerate() {
                    let _ = writeln!(s, "  n{i}: {}", node_line(node));
                }
                let mut at = [[0usize; clusterbus_model::message::MAX_NODES];
                    clusterbus_model::message::MAX_NODES];
                for (from, to, m) in c.st.net.iter() {
                    let i = &mut at[from as usize][to as usize];
                    let shown = c.seen[from as usize][to as usize].is_shown(*i);
                    *i += 1;
                    let _ = writeln!(
                        s,
                        "  in flight n{from}->n{to}: {m}{}",
                        if shown { " (shown on the wire)" } else { "" }
                    );
                }
            }
        }
    }
    s
}

/// One node's model state on one line.
fn node_line(n: &clusterbus_model::Node) -> String {
    let mut s = format!(
        "up {} currentEpoch {} lastVote {} configEpoch {} master {:?} owners {:?}",
        n.up,
        n.current_epoch,
        n.last_vote_epoch,
        n.config_epoch,
        n.master,
        n.owners.as_slice()
    );
    if let Some(e) = n.election {
        let _ = write!(s, " election e{} votes {:#b}", e.epoch, e.votes);
    }
    for (j, p) in n.peers.iter().enumerate() {
        if p.pfail || p.fail || p.reports != 0 {
            let _ = write!(
                s,
                " n{j}:{}{} reports {:#b}",
                if p.pfail { "PFAIL" } else { "" },
                if p.fail { "FAIL" } else { "" },
                p.reports
            );
        }
    }
    s
}

/// Exit code of a verdict: 0 validated, 1 rejected, 3 outside the model,
/// 4 undecided within the search's bound (2 is the CLI's for errors).
pub fn exit_code(v: &Validation) -> u8 {
    match v.verdict {
        Verdict::Validated => 0,
        Verdict::Rejected { .. } => 1,
        Verdict::Outside { .. } => 3,
        Verdict::Undecided { .. } => 4,
    }
}

/// Writes the trace up to the unexplained event as `base.unexplained.jsonl`,
/// with `.svg` and `.html` diagrams beside it; returns the file written.
pub fn write_prefix(t: &ObservedTrace, event: usize, base: &Path) -> Result<PathBuf, String> {
    let mut name = base.as_os_str().to_owned();
    name.push(".unexplained.jsonl");
    let path = PathBuf::from(name);
    let mut text = t.head_line.clone();
    text.push('\n');
    for line in &t.lines[..=event.min(t.lines.len().saturating_sub(1))] {
        text.push_str(line);
        text.push('\n');
    }
    let w =
        |p: &Path, s: &str| std::fs::write(p, s).map_err(|e| format!("write {}: {e}", p.display()));
    w(&path, &text)?;
    let d = diagram(t, event);
    w(&path.with_extension("svg"), &render_svg(&d))?;
    w(&path.with_extension("html"), &render_html(&d))?;
    Ok(path)
}

/// The prefix's diagram: frames that change their sender's header or are
/// not PING/PONG, process events; the unexplained event highlighted.
fn diagram(t: &ObservedTrace, event: usize) -> Diagram {
    let lanes = t
        .head
        .nodes
        .iter()
        .map(|n| format!("n{} {}", n.index, &n.id[..n.id.len().min(8)]))
        .collect();
    let index: BTreeMap<&str, usize> = t
        .head
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), n.index))
        .collect();
    let mut last: BTreeMap<usize, String> = BTreeMap::new();
    let mut rows = Vec::new();
    for (k, e) in t.events.iter().enumerate().take(event + 1) {
        let hot = k == event;
        let row = match e {
            EventRead::Frame {
                to,
                msg_type,
                header,
                body,
                fate,
                ..
            } => {
                let Some(&f) = index.get(header.sender_id.as_str()) else {
                    continue;
                };
                let h = format!(
                    "e{} c{} m{:?} {:?}",
                    header.current_epoch,
                    header.config_epoch,
                    header.master_id.as_ref().map(|m| index.get(m.as_str())),
                    header.slots
                );
                let failing = match &**body {
                    BodyRead::Gossip { gossip } => gossip
                        .iter()
                        .filter(|g| g.flags.iter().any(|x| x == "fail?" || x == "fail"))
                        .filter_map(|g| index.get(g.id.as_str()).map(|i| format!(" n{i}?")))
                        .collect::<String>(),
                    BodyRead::Fail { id } => format!(
                        " about n{}",
                        index.get(id.as_str()).map_or("?".into(), |i| i.to_string())
                    ),
                    _ => String::new(),
                };
                let routine = matches!(msg_type.as_str(), "PING" | "PONG")
                    && last.get(&f) == Some(&h)
                    && failing.is_empty();
                last.insert(f, h.clone());
                if routine && !hot {
                    continue;
                }
                let to = to.unwrap_or(f);
                let kind = match fate.as_str() {
                    "dropped" => StepKind::Lost {
                        from_lane: f,
                        to_lane: to,
                    },
                    _ => StepKind::Receive {
                        from_lane: f,
                        sent_at_step: None,
                    },
                };
                (to, format!("{msg_type} {h}{failing}"), kind)
            }
            EventRead::Process { node, action, .. } => {
                (*node, format!("process: {action}"), StepKind::Local)
            }
            _ if hot => (0, "this event".to_string(), StepKind::Local),
            _ => continue,
        };
        rows.push((k, row, hot));
    }
    let skip = rows.len().saturating_sub(MAX_ROWS);
    let steps = rows
        .into_iter()
        .skip(skip)
        .enumerate()
        .map(|(i, (k, (lane, label, kind), hot))| DiagramStep {
            number: i + 1,
            lane,
            label: format!("[{k}] {label}"),
            kind,
            note: None,
            highlight: hot,
        })
        .collect();
    Diagram {
        title: format!(
            "{} on {}: the prefix up to event {event}, which no model path explains{}",
            t.head.scenario,
            t.head.server,
            if skip > 0 {
                format!(" ({skip} earlier rows not drawn)")
            } else {
                String::new()
            }
        ),
        lanes,
        steps,
    }
}
