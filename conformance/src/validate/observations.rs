//! The validated part of a trace as a sequence of observations in model
//! terms: frames, process events, closed connections and snapshots, each
//! with the index of the event it came from. Events that say nothing
//! about the protocol (connection opens, the tap's own fault notes, notes)
//! are left out here and counted; frames the model does not have
//! (PUBLISH, MODULE) are counted as not modelled.

use std::collections::HashMap;

use clusterbus_model::{Msg, NodeIx};

use super::mapping::{Mapping, Outside, View};
use super::observed::{EventRead, ObservedTrace};
use super::shown::Stream;

/// One observation.
#[derive(Clone, Debug)]
pub enum Obs {
    /// A frame from `from` to `to`; `dropped` when the tap dropped it.
    Frame {
        from: NodeIx,
        to: NodeIx,
        msg: Msg,
        dropped: bool,
        /// Held or delayed by the tap: it arrives later than it was read.
        late: bool,
        /// The nodes its gossip flags PFAIL (`fail?`), the receiver included.
        pfail: u8,
        /// Which of the pair's two connections it came on.
        stream: Stream,
    },
    /// kill -9 or SIGTERM: the model's crash.
    Crash(NodeIx),
    /// A restart on the same nodes.conf: the model's restart.
    Restart(NodeIx),
    /// SIGSTOP and SIGCONT: no model step, but a stopped node takes none.
    Stop(NodeIx),
    Cont(NodeIx),
    /// A connection between two nodes closed: what was in flight on it may
    /// be lost (the model's link breaks, both ways).
    Closed(NodeIx, NodeIx),
    /// A node's own view.
    Snapshot(View),
    /// Something the model has no rule for (e.g. manual failover).
    Outside(String),
}

/// An observation and the index of its event in the trace.
#[derive(Clone, Debug)]
pub struct Step {
    pub event: usize,
    /// When the tap saw it, µs since the run started.
    pub t_us: u64,
    /// The tap's connection, for a frame.
    pub conn: Option<u64>,
    pub obs: Obs,
}

/// What the validated part holds besides its observations.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    /// Frames before the formed note (formation: not validated).
    pub formation_frames: usize,
    /// PUBLISH, PUBLISHSHARD, MODULE frames (not modelled).
    pub not_modelled: usize,
    /// Connection opens, faults, notes, closes with an unknown end.
    pub other: usize,
}

/// The observations from the mapping's start on.
pub fn observations(t: &ObservedTrace, map: &Mapping) -> (Vec<Step>, Counts) {
    let mut counts = Counts {
        formation_frames: t.events[..map.start]
            .iter()
            .filter(|e| matches!(e, EventRead::Frame { .. }))
            .count(),
        ..Counts::default()
    };
    // The node that opened each connection (learnt from its frames), so a
    // reply's receiver is known when the recorder had not learnt it yet.
    let mut opener: HashMap<u64, NodeIx> = HashMap::new();
    let mut steps = Vec::new();
    // Nodes killed and not yet seen again: a restarted node may send its
    // first frames before the driver records the restart (it records it
    // once the node answers), so the first frame restarts it.
    let mut down = 0u8;
    for (k, e) in t.events.iter().enumerate().skip(map.start) {
        let t_us = event_time(e);
        let obs = match e {
            EventRead::Frame {
                conn,
                tap,
                to,
                msg_type,
                fate,
                header,
                body,
                ..
            } => {
                let from = match map.node(&header.sender_id) {
                    Ok(f) => f,
                    Err(Outside(why)) => {
                        steps.push(Step {
                            event: k,
                            t_us,
                            conn: None,
                            obs: Obs::Outside(why),
                        });
                        continue;
                    }
                };
                if down & (1 << from) != 0 {
                    down &= !(1 << from);
                    steps.push(Step {
                        event: k,
                        t_us,
                        conn: None,
                        obs: Obs::Restart(from),
                    });
                }
                if from as usize != *tap {
                    opener.insert(*conn, from);
                }
                let to = match (to, opener.get(conn)) {
                    (Some(t), _) => *t as NodeIx,
                    (None, _) if from as usize != *tap => *tap as NodeIx,
                    (None, Some(o)) => *o,
                    (None, None) => {
                        steps.push(Step {
                            event: k,
                            t_us,
                            conn: None,
                            obs: Obs::Outside("a frame whose receiver is unknown".into()),
                        });
                        continue;
                    }
                };
                // The tap fronts the node that accepted the connection: a
                // frame from it is a reply.
                let stream = match from as usize == *tap {
                    true => Stream::Reply,
                    false => Stream::Own,
                };
                let reply = stream == Stream::Reply;
                match map.message(msg_type, header, body, to, reply) {
                    Ok(Some(msg)) => Obs::Frame {
                        from,
                        to,
                        msg,
                        dropped: fate == "dropped",
                        late: fate == "held" || fate == "delayed",
                        pfail: map.pfail_entries(body),
                        stream,
                    },
                    Ok(None) => {
                        counts.not_modelled += 1;
                        continue;
                    }
                    Err(Outside(why)) => Obs::Outside(why),
                }
            }
            EventRead::Raw { error, .. } => Obs::Outside(format!("undecodable bytes: {error}")),
            EventRead::Process { node, action, .. } => {
                let n = *node as NodeIx;
                match action.as_str() {
                    "kill" | "term" => {
                        down |= 1 << n;
                        Obs::Crash(n)
                    }
                    "restart" if down & (1 << n) == 0 => {
                        counts.other += 1;
                        continue;
                    }
                    "restart" => {
                        down &= !(1 << n);
                        Obs::Restart(n)
                    }
                    "stop" => Obs::Stop(n),
                    "cont" => Obs::Cont(n),
                    _ => {
                        counts.other += 1;
                        continue;
                    }
                }
            }
            EventRead::ConnClose {
                tap, from: Some(f), ..
            } if tap != f => Obs::Closed(*f as NodeIx, *tap as NodeIx),
            EventRead::Snapshot { node, snapshot, .. } => {
                match map.view(*node as NodeIx, snapshot) {
                    Ok(v) => Obs::Snapshot(v),
                    Err(Outside(why)) => Obs::Outside(why),
                }
            }
            _ => {
                counts.other += 1;
                continue;
            }
        };
        let conn = match e {
            EventRead::Frame { conn, .. } => Some(*conn),
            _ => None,
        };
        steps.push(Step {
            event: k,
            t_us,
            conn,
            obs,
        });
    }
    (steps, counts)
}

/// The event's time, where it has one that validation reads.
fn event_time(e: &EventRead) -> u64 {
    match e {
        EventRead::Frame { t_us, .. }
        | EventRead::ConnClose { t_us, .. }
        | EventRead::Process { t_us, .. }
        | EventRead::Snapshot { t_us, .. } => *t_us,
        _ => 0,
    }
}
