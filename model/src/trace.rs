//! Traces: a path through the model as JSON lines (format `clusterbus-trace`,
//! version 1, documented in `specs/traces.md`). The first line describes the
//! run; each further line is one step: the action with all its parameters,
//! the message it delivered (if any), and every node's state after it.

use crate::action::Action;
use crate::config::ModelCfg;
use crate::message::Msg;
use crate::state::{Node, State};
use serde::Serialize;

/// The version of the trace format; bumped on any incompatible change.
pub const TRACE_VERSION: u32 = 1;

#[derive(Serialize)]
struct TraceHeader<'a> {
    format: &'static str,
    version: u32,
    config: &'a str,
    bug: Option<&'static str>,
    nodes: usize,
    masters: u8,
    replicas: &'a [u8],
    property: &'a str,
    initial: &'a [Node],
}

#[derive(Serialize)]
struct TraceStep<'a> {
    step: usize,
    #[serde(flatten)]
    action: &'a Action,
    delivered: Option<&'a Msg>,
    nodes: &'a [Node],
}

/// The message `action` delivers in `before`, if it is a delivery.
pub fn delivered<'a>(before: &'a State, action: &Action) -> Option<&'a Msg> {
    match *action {
        Action::Deliver { from, to } => before.link(from, to).first(),
        _ => None,
    }
}

/// `states[0]` is the initial state; `states[k]` follows `actions[k-1]`.
pub fn to_json_lines(
    cfg: &ModelCfg,
    property: &str,
    states: &[State],
    actions: &[Action],
) -> String {
    let header = TraceHeader {
        format: "clusterbus-trace",
        version: TRACE_VERSION,
        config: cfg.name,
        bug: cfg.bug.map(|b| b.name()),
        nodes: cfg.node_count(),
        masters: cfg.masters,
        replicas: &cfg.replicas,
        property,
        initial: states.first().map(|s| s.nodes.as_slice()).unwrap_or(&[]),
    };
    let mut out = line(&header);
    for (k, action) in actions.iter().enumerate() {
        let step = TraceStep {
            step: k + 1,
            action,
            delivered: delivered(&states[k], action),
            nodes: &states[k + 1].nodes,
        };
        out.push_str(&line(&step));
    }
    out
}

fn line<T: Serialize>(value: &T) -> String {
    // Serialising these plain structs cannot fail; an empty object keeps the
    // line count right if it ever did.
    let mut s = serde_json::to_string(value).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}
