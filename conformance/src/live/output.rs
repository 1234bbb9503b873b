//! What a run leaves behind: the `clusterbus-observed` v1 trace (JSON
//! lines, specified in `specs/traces.md`), a sequence diagram of it drawn
//! by the project's renderer, and a summary for the terminal.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::error::LiveError;
use super::milestones::frames;
use super::observe::{BodyObs, Event, Fate, HeaderObs};
use super::Outcome;
use crate::diagram::{render_html, render_svg, Diagram, DiagramStep, StepKind};

/// The format name on the trace's first line.
pub const FORMAT: &str = "clusterbus-observed";
/// Bumped on any incompatible change of the trace.
pub const VERSION: u32 = 1;
/// Most rows the diagram draws; the rest are counted in its title.
const MAX_ROWS: usize = 800;

/// The trace's first line, fields in this order.
#[derive(Serialize)]
struct TraceHeader<'a> {
    format: &'static str,
    version: u32,
    server: &'static str,
    scenario: &'a str,
    node_timeout_ms: u64,
    seed: u64,
    nodes: &'a [super::NodeInfo],
    wall_ms: u64,
    events_lost: u64,
    milestones: &'a [super::milestones::Milestone],
    error: Option<&'a str>,
}

/// The trace as JSON lines: a header, then one event per line.
pub fn trace_lines(o: &Outcome) -> Result<String, LiveError> {
    let header = TraceHeader {
        format: FORMAT,
        version: VERSION,
        server: o.kind.name(),
        scenario: &o.scenario,
        node_timeout_ms: o.node_timeout_ms,
        seed: o.setup.seed,
        nodes: &o.nodes,
        wall_ms: o.wall_ms,
        events_lost: o.lost,
        milestones: &o.milestones,
        error: o.error.as_deref(),
    };
    let mut out = serde_json::to_string(&header)
        .map_err(|e| LiveError::Usage(format!("the trace header did not serialise: {e}")))?;
    out.push('\n');
    for e in &o.events {
        let line = serde_json::to_string(e)
            .map_err(|e| LiveError::Usage(format!("an event did not serialise: {e}")))?;
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

/// Writes the trace to `path` and its diagram to `path.svg` / `path.html`.
pub fn write(o: &Outcome, path: &Path) -> Result<(), LiveError> {
    let w = |p: &Path, text: String| {
        std::fs::write(p, text).map_err(|e| LiveError::io(format!("write {}", p.display()), e))
    };
    w(path, trace_lines(o)?)?;
    let d = diagram(o);
    w(&path.with_extension("svg"), render_svg(&d))?;
    w(&path.with_extension("html"), render_html(&d))
}

fn short_header(h: &HeaderObs) -> String {
    let mut s = format!("e{} c{}", h.current_epoch, h.config_epoch);
    if let Some(m) = h.master {
        let _ = write!(s, " replica of n{m}");
    }
    if let Some(r) = h.slots.first() {
        let more = if h.slots.len() > 1 { "+" } else { "" };
        let _ = write!(s, " slots {}-{}{more}", r[0], r[1]);
    }
    for f in h.mflags.iter().filter(|f| **f != "ext_data") {
        let _ = write!(s, " {f}");
    }
    s
}

fn body_label(b: &BodyObs) -> String {
    match b {
        BodyObs::Fail { node, id } => {
            format!(" about {}", node.map_or(id.clone(), |n| format!("n{n}")))
        }
        BodyObs::Update {
            node, config_epoch, ..
        } => {
            format!(
                " n{} has c{config_epoch}",
                node.map_or("?".into(), |n| n.to_string())
            )
        }
        BodyObs::Gossip { gossip, .. } => {
            let failing: Vec<String> = gossip
                .iter()
                .filter(|g| g.flags.iter().any(|f| *f == "fail?" || *f == "fail"))
                .map(|g| format!("n{}?", g.node.map_or("?".into(), |n| n.to_string())))
                .collect();
            if failing.is_empty() {
                String::new()
            } else {
                format!(" gossip {}", failing.join(" "))
            }
        }
        _ => String::new(),
    }
}

/// A row to draw: lane, label, shape, highlighted.
type Row = (usize, String, StepKind, bool);

/// The row of one frame, or None for a PING/PONG that repeats its sender's
/// last header (`last` remembers each sender's).
fn frame_row(e: &Event, last: &mut BTreeMap<usize, String>) -> Option<Row> {
    let Event::Frame {
        from: Some(f),
        to: Some(t),
        msg_type,
        fate,
        header,
        body,
        ..
    } = e
    else {
        return None;
    };
    let h = short_header(header);
    let routine = matches!(*msg_type, "PING" | "PONG")
        && last.get(f) == Some(&h)
        && body_label(body).is_empty();
    last.insert(*f, h.clone());
    if routine {
        return None;
    }
    let kind = match fate {
        Fate::Dropped => StepKind::Lost {
            from_lane: *f,
            to_lane: *t,
        },
        _ => StepKind::Receive {
            from_lane: *f,
            sent_at_step: None,
        },
    };
    let held = if *fate == Fate::Held { " (held)" } else { "" };
    let label = format!("{msg_type} {h}{}{held}", body_label(body));
    Some((*t, label, kind, false))
}

/// The diagram: every frame but the PINGs and PONGs that repeat the
/// sender's previous header, and every process event and fault.
pub fn diagram(o: &Outcome) -> Diagram {
    let lanes = o
        .nodes
        .iter()
        .map(|n| format!("n{} {}", n.index, &n.id[..n.id.len().min(8)]))
        .collect();
    let mut steps = Vec::new();
    let mut last_header: BTreeMap<usize, String> = BTreeMap::new();
    let mut omitted = 0usize;
    for e in &o.events {
        let row = match e {
            Event::Frame { .. } => frame_row(e, &mut last_header),
            Event::Process { node, action, .. } => {
                Some((*node, format!("process: {action}"), StepKind::Local, true))
            }
            Event::Fault { verb, detail, .. } => {
                Some((0, format!("tap {verb}: {detail}"), StepKind::Local, true))
            }
            _ => None,
        };
        let Some((lane, label, kind, highlight)) = row else {
            continue;
        };
        if steps.len() >= MAX_ROWS {
            omitted += 1;
            continue;
        }
        steps.push(DiagramStep {
            number: steps.len() + 1,
            lane,
            label,
            kind,
            note: None,
            highlight,
        });
    }
    let more = match omitted {
        0 => String::new(),
        n => format!(" ({n} rows beyond {MAX_ROWS} not drawn)"),
    };
    let title = format!(
        "{} on {}: frames that change a header, every other type, faults{more}",
        o.scenario,
        o.kind.name(),
    );
    Diagram {
        title,
        lanes,
        steps,
    }
}

/// Frames per type (with how many were dropped), and undecodable ones.
fn frame_counts(o: &Outcome) -> String {
    let mut by_type: BTreeMap<&str, [usize; 2]> = BTreeMap::new();
    for f in frames(&o.events) {
        let e = by_type.entry(f.msg_type).or_default();
        e[usize::from(f.fate == Fate::Dropped)] += 1;
    }
    let raw = o
        .events
        .iter()
        .filter(|e| matches!(e, Event::Raw { .. }))
        .count();
    let list: Vec<String> = by_type
        .iter()
        .map(|(t, [fwd, drop])| match drop {
            0 => format!("{t} {fwd}"),
            _ => format!("{t} {fwd} (+{drop} dropped)"),
        })
        .collect();
    format!("frames: {}; undecodable: {raw}", list.join(", "))
}

/// The faults injected, in order.
fn fault_list(o: &Outcome) -> String {
    let faults: Vec<String> = o
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Process { node, action, .. } if *action != "start" => {
                Some(format!("{action} n{node}"))
            }
            Event::Fault { verb, .. } => Some(verb.clone()),
            _ => None,
        })
        .collect();
    match faults.is_empty() {
        true => "faults: none".into(),
        false => format!("faults: {}", faults.join(", ")),
    }
}

/// The summary printed after a run.
pub fn summary(o: &Outcome) -> String {
    let mut s = String::new();
    let (name, kind) = (&o.scenario, o.kind.name());
    let _ = writeln!(
        s,
        "{name} on {kind}: {} ms, {} events",
        o.wall_ms,
        o.events.len()
    );
    let _ = writeln!(s, "{}", frame_counts(o));
    let _ = writeln!(s, "{}", fault_list(o));
    for m in &o.milestones {
        let t = m.t_us.map_or("NOT SEEN".to_string(), |t| {
            format!("{:.3} s", t as f64 / 1e6)
        });
        let _ = writeln!(s, "milestone: {} — {t}", m.name);
    }
    for (i, v) in o.final_views.iter().enumerate() {
        let _ = match v.as_ref().and_then(|v| v.myself().map(|me| (v, me))) {
            Some((v, me)) => writeln!(
                s,
                "n{i}: {} currentEpoch {} configEpoch {} slots {}",
                v.role,
                v.current_epoch,
                me.config_epoch,
                match me.slots.is_empty() {
                    true => "-".into(),
                    false => me.slots.join(" "),
                }
            ),
            None => writeln!(s, "n{i}: down"),
        };
    }
    if let Some(e) = &o.error {
        let _ = writeln!(s, "FAILED: {e}");
    }
    s
}
