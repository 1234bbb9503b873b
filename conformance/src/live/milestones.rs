//! A scenario's milestones, read from the recorded frames (not from what
//! the nodes print): each is found after the previous one, so a list with
//! every time set also shows the order. A missing milestone keeps `t_us`
//! `None`, and the run says so.

use serde::Serialize;

use super::observe::{BodyObs, Event, Fate, HeaderObs};

/// One step of a scenario's protocol story and when the frames show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Milestone {
    pub name: String,
    pub t_us: Option<u64>,
}

impl Milestone {
    fn at(name: impl Into<String>, t_us: Option<u64>) -> Milestone {
        Milestone {
            name: name.into(),
            t_us,
        }
    }
}

impl Milestone {
    /// For a frame that must not appear: seen (at time 0) when it did not.
    pub fn absent(self) -> Milestone {
        Milestone {
            name: self.name,
            t_us: if self.t_us.is_none() { Some(0) } else { None },
        }
    }
}

/// Whether every milestone was seen.
pub fn all_seen(ms: &[Milestone]) -> bool {
    ms.iter().all(|m| m.t_us.is_some())
}

/// A decoded frame, borrowed from the log.
pub struct F<'a> {
    pub t_us: u64,
    pub from: Option<usize>,
    pub to: Option<usize>,
    pub msg_type: &'a str,
    pub fate: Fate,
    pub header: &'a HeaderObs,
    pub body: &'a BodyObs,
}

/// Every decoded frame, in time order.
pub fn frames(events: &[Event]) -> impl Iterator<Item = F<'_>> {
    events.iter().filter_map(|e| match e {
        Event::Frame {
            t_us,
            from,
            to,
            msg_type,
            fate,
            header,
            body,
            ..
        } => Some(F {
            t_us: *t_us,
            from: *from,
            to: *to,
            msg_type,
            fate: *fate,
            header,
            body,
        }),
        _ => None,
    })
}

fn first<'a>(events: &'a [Event], after: u64, mut p: impl FnMut(&F<'a>) -> bool) -> Option<F<'a>> {
    frames(events).find(|f| f.t_us > after && p(f))
}

fn has(flags: &[&str], f: &str) -> bool {
    flags.contains(&f)
}

/// The slots node `i` claimed in its last frame before `before`.
pub fn slots_claimed(events: &[Event], i: usize, before: u64) -> Vec<[u16; 2]> {
    frames(events)
        .filter(|f| f.t_us < before && f.from == Some(i) && has(&f.header.flags, "master"))
        .last()
        .map(|f| f.header.slots.clone())
        .unwrap_or_default()
}

/// An automatic failover of `old` by `new` after `after`: the FAIL broadcast,
/// then the [`election`]. Returns the milestones and the winning epoch.
pub fn failover(
    events: &[Event],
    old: usize,
    new: usize,
    masters: usize,
    after: u64,
) -> (Vec<Milestone>, Option<u64>) {
    let fail = first(events, after, |f| {
        f.msg_type == "FAIL" && matches!(f.body, BodyObs::Fail { node, .. } if *node == Some(old))
    });
    let t_fail = fail.as_ref().map(|f| f.t_us);
    let won = Election {
        old,
        new,
        masters,
        forceack: false,
    };
    let (mut m, epoch) = election(events, &won, slots_claimed(events, old, after), t_fail);
    m.insert(
        0,
        Milestone::at(format!("FAIL about node {old} broadcast"), t_fail),
    );
    (m, epoch)
}

/// Who an election is between.
pub struct Election {
    pub old: usize,
    pub new: usize,
    /// Masters with slots before the election (the quorum is half + 1).
    pub masters: usize,
    /// The request must carry FORCEACK (a manual failover).
    pub forceack: bool,
}

/// An election won by `e.new` after `after` (None: not yet possible): the
/// AUTH_REQUEST of the winning epoch, AUTH_ACKs from a majority of the
/// masters, then a PING/PONG from `new` as a master with `slots` (`old`'s)
/// and that epoch as its configEpoch.
pub fn election(
    events: &[Event],
    e: &Election,
    slots: Vec<[u16; 2]>,
    after: Option<u64>,
) -> (Vec<Milestone>, Option<u64>) {
    let (old, new) = (e.old, e.new);
    let claim = after.and_then(|t| first(events, t, |f| claims(f, new, &slots)));
    let epoch = claim.as_ref().map(|f| f.header.config_epoch);
    let req = after.and_then(|t| {
        first(events, t, |f| {
            f.from == Some(new)
                && f.msg_type == "AUTH_REQUEST"
                && Some(f.header.current_epoch) == epoch
                && (!e.forceack || has(&f.header.mflags, "forceack"))
        })
    });
    let t_req = req.as_ref().map(|f| f.t_us);
    let t_quorum = t_req.and_then(|t| ack_quorum(events, new, epoch, e.masters / 2 + 1, t));
    let t_claim = claim
        .filter(|c| t_quorum.is_some_and(|q| c.t_us > q))
        .map(|c| c.t_us);
    let ep = epoch.map_or("?".to_string(), |e| e.to_string());
    let force = if e.forceack { " with FORCEACK" } else { "" };
    (
        vec![
            Milestone::at(
                format!("AUTH_REQUEST{force} from node {new} in epoch {ep}"),
                t_req,
            ),
            Milestone::at(
                format!(
                    "AUTH_ACKs to node {new} from a majority of {} masters",
                    e.masters
                ),
                t_quorum,
            ),
            Milestone::at(
                format!("node {new} claims node {old}'s slots {slots:?} with configEpoch {ep}"),
                t_claim,
            ),
        ],
        epoch,
    )
}

/// A PING or PONG from `new` as a master claiming exactly `slots`.
pub fn claims(f: &F, new: usize, slots: &[[u16; 2]]) -> bool {
    f.from == Some(new)
        && matches!(f.msg_type, "PING" | "PONG")
        && has(&f.header.flags, "master")
        && !slots.is_empty()
        && f.header.slots == slots
}

/// The first frame after `after` that `p` accepts, as a milestone.
pub fn first_frame(
    events: &[Event],
    name: String,
    after: u64,
    p: impl FnMut(&F) -> bool,
) -> Milestone {
    Milestone::at(name, first(events, after, p).map(|f| f.t_us))
}

/// When the `quorum`-th distinct master granted its vote to `to` in `epoch`.
fn ack_quorum(
    events: &[Event],
    to: usize,
    epoch: Option<u64>,
    quorum: usize,
    after: u64,
) -> Option<u64> {
    let mut voters: Vec<usize> = Vec::new();
    for f in frames(events).filter(|f| f.t_us > after) {
        let counts = f.msg_type == "AUTH_ACK"
            && f.to == Some(to)
            && Some(f.header.current_epoch) == epoch
            && f.fate == Fate::Forwarded;
        if let (true, Some(from)) = (counts, f.from) {
            if !voters.contains(&from) {
                voters.push(from);
            }
            if voters.len() >= quorum {
                return Some(f.t_us);
            }
        }
    }
    None
}

/// After `after`, `old` speaks as a replica of `new`.
pub fn steps_down(events: &[Event], old: usize, new: usize, after: u64) -> Milestone {
    let f = first(events, after, |f| {
        f.from == Some(old) && has(&f.header.flags, "slave") && f.header.master == Some(new)
    });
    Milestone::at(
        format!("node {old} sends frames as a replica of node {new}"),
        f.map(|f| f.t_us),
    )
}

/// Every ordered pair of nodes exchanged a MEET or PING and its PONG, and
/// every master claimed its slots in its own frames.
pub fn formed(events: &[Event], n: usize, masters: &[usize]) -> Vec<Milestone> {
    let mut last = Some(0u64);
    for a in 0..n {
        for b in (0..n).filter(|b| *b != a) {
            let ping = first(events, 0, |f| {
                f.from == Some(a) && f.to == Some(b) && matches!(f.msg_type, "MEET" | "PING")
            });
            let pong = ping.and_then(|p| {
                first(events, p.t_us, |f| {
                    f.from == Some(b) && f.to == Some(a) && f.msg_type == "PONG"
                })
            });
            last = match (last, pong) {
                (Some(l), Some(p)) => Some(l.max(p.t_us)),
                _ => None,
            };
        }
    }
    let mut out = vec![Milestone::at(
        format!("all {n} nodes pinged each other and got PONGs"),
        last,
    )];
    let meet = first(events, 0, |f| f.msg_type == "MEET");
    out.push(Milestone::at("a MEET on the bus", meet.map(|f| f.t_us)));
    let mut covered = 0usize;
    let mut t = Some(0u64);
    for m in masters {
        let f = first(events, 0, |f| {
            f.from == Some(*m) && has(&f.header.flags, "master") && !f.header.slots.is_empty()
        });
        covered += f.as_ref().map_or(0, |f| {
            f.header
                .slots
                .iter()
                .map(|r| (r[1] - r[0]) as usize + 1)
                .sum()
        });
        t = match (t, f) {
            (Some(t), Some(f)) => Some(t.max(f.t_us)),
            _ => None,
        };
    }
    let all = if covered == 16384 { t } else { None };
    out.push(Milestone::at(
        format!("masters {masters:?} claim all 16384 slots in their frames"),
        all,
    ));
    out
}

/// Every node of `0..n` not in `masters` sends frames naming a master.
pub fn replicas_announced(events: &[Event], masters: &[usize], n: usize) -> Milestone {
    let mut t = Some(0u64);
    for r in (0..n).filter(|r| !masters.contains(r)) {
        let f = first(events, 0, |f| {
            f.from == Some(r)
                && has(&f.header.flags, "slave")
                && f.header.master.is_some_and(|m| m < n)
        });
        t = match (t, f) {
            (Some(t), Some(f)) => Some(t.max(f.t_us)),
            _ => None,
        };
    }
    Milestone::at(
        format!("the nodes other than {masters:?} send frames naming their master"),
        t,
    )
}

/// While the partition of `side` held (`from`..`until`), no frame crossed it.
pub fn partition_held(events: &[Event], side: &[usize], from: u64, until: u64) -> Milestone {
    let crosses = |f: &F| match (f.from, f.to) {
        (Some(a), Some(b)) => side.contains(&a) != side.contains(&b),
        _ => false,
    };
    let mut dropped = 0;
    for f in frames(events).filter(|f| f.t_us > from && f.t_us < until && crosses(f)) {
        if f.fate != Fate::Dropped {
            return Milestone::at(
                format!("a {} crossed the partition at {} us", f.msg_type, f.t_us),
                None,
            );
        }
        dropped += 1;
    }
    let t = (dropped > 0).then_some(until);
    Milestone::at(
        format!("partition held: {dropped} crossing frames dropped, none forwarded"),
        t,
    )
}
