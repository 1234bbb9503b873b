//! Live conformance, part 2: is what a real cluster did a behaviour of
//! the model? An observed trace (`clusterbus-observed`, recorded by the
//! tap) is mapped to model terms ([`mapping`], [`observations`]) and
//! searched for a model path that explains every observation in order
//! ([`search`]); the verdict says so, or names the first observation no
//! path explains, with the closest candidate ([`explain`], [`report`]).
//!
//! What is validated is the run from its formed cluster on (the note
//! `cluster formed`): the model's formed start is checked against every
//! node's first snapshot after it. The formation frames before it are
//! counted and not validated (the model's formed configurations do not
//! include `CLUSTER ADDSLOTSRANGE`, `SET-CONFIG-EPOCH` and `REPLICATE`).

pub mod explain;
pub mod mapping;
pub mod observations;
pub mod observed;
pub mod report;
pub mod search;
pub mod shown;

#[cfg(test)]
mod tests;

use std::time::Instant;

use clusterbus_model::ModelCfg;

use mapping::{Mapping, Outside};
use observations::{Counts, Obs, Step};
use observed::ObservedTrace;
use search::{Search, Stats, Unexplained};

/// The default bound on internal steps between two observations.
pub const MAX_INTERNAL: u32 = 4;

/// How a validation ended.
#[derive(Debug)]
pub enum Verdict {
    /// Every observation explained.
    Validated,
    /// Observation `index` (event `event` of the trace) is explained by no
    /// model path within the bounds.
    Rejected {
        index: usize,
        event: usize,
        why: Box<Unexplained>,
    },
    /// The search reached its bound at observation `index`: no verdict.
    Undecided {
        index: usize,
        event: usize,
        why: String,
    },
    /// The trace, or its observation at `event`, has something the model
    /// has no rule for: an expected outcome, documented, not a rejection.
    Outside { event: Option<usize>, why: String },
}

/// A validation's verdict and what it cost.
#[derive(Debug)]
pub struct Validation {
    pub verdict: Verdict,
    pub cfg: Option<ModelCfg>,
    pub mapping: Option<Mapping>,
    pub steps: Vec<Step>,
    pub counts: Counts,
    pub stats: Stats,
    /// Internal steps on the kept path, and the most between two observations.
    pub internal: u32,
    pub max_gap: u32,
    /// The bound on internal steps between two observations.
    pub max_internal: u32,
    pub seconds: f64,
}

/// Frames on two connections read by the tap less than this apart may
/// have been sent in the other order: a node writes a PONG reply on the
/// link the PING came in on and its own messages on its own link, and the
/// tap reads the two sockets in turn.
pub const REORDER_WINDOW_US: u64 = 5_000;

/// Whether steps `a` and `b` (in trace order) may have happened the other
/// way round: two frames on different connections within the window.
fn may_swap(a: &Step, b: &Step) -> bool {
    matches!((&a.obs, &b.obs), (Obs::Frame { .. }, Obs::Frame { .. }))
        && a.conn != b.conn
        && b.t_us.saturating_sub(a.t_us) < REORDER_WINDOW_US
}

/// Validates `t` with at most `max_internal` internal steps between two
/// observations. `progress` is called now and then with (done, total).
pub fn validate(
    t: &ObservedTrace,
    max_internal: u32,
    mut progress: impl FnMut(usize, usize),
) -> Validation {
    let started = Instant::now();
    let mut v = Validation {
        verdict: Verdict::Validated,
        cfg: None,
        mapping: None,
        steps: Vec::new(),
        counts: Counts::default(),
        stats: Stats::default(),
        internal: 0,
        max_gap: 0,
        max_internal,
        seconds: 0.0,
    };
    let map = match Mapping::of(t) {
        Ok(m) => m,
        Err(Outside(why)) => {
            v.verdict = Verdict::Outside { event: None, why };
            return v;
        }
    };
    let cfg = map.config(t);
    if let Err(why) = cfg.validate() {
        v.verdict = Verdict::Outside { event: None, why };
        return v;
    }
    let (steps, counts) = observations::observations(t, &map);
    let epochs = match map.formed_epochs(t) {
        Ok(e) => e,
        Err(Outside(why)) => {
            v.verdict = Verdict::Outside { event: None, why };
            return v;
        }
    };
    let mut search = Search::new(&cfg, max_internal, &epochs, t.head.node_timeout_ms);
    // `ahead`: the candidates that took step k+1 before step k, when the
    // two may have happened the other way round (see `may_swap`).
    let mut ahead: Option<Search> = None;
    for k in 0..steps.len() {
        if k % 64 == 0 {
            progress(k, steps.len());
        }
        let s = &steps[k];
        if let Obs::Outside(why) = &s.obs {
            v.verdict = Verdict::Outside {
                event: Some(s.event),
                why: why.clone(),
            };
            break;
        }
        let next_ahead = steps
            .get(k + 1)
            .filter(|n| may_swap(s, n) && !matches!(n.obs, Obs::Outside(_)))
            .and_then(|n| {
                let mut early = search.clone();
                early.observe(&n.obs, n.t_us).ok().map(|()| early)
            });
        let caught_up = ahead.take().and_then(|mut early| {
            let prev = &steps[k - 1];
            early.observe(&prev.obs, prev.t_us).ok().map(|()| early)
        });
        let base = search.stats.visited;
        let in_order = search.observe(&s.obs, s.t_us);
        match (in_order, caught_up) {
            (Ok(()), Some(other)) => search.merge(other, base),
            (Ok(()), None) => {}
            (Err(_), Some(other)) => {
                let visited = search.stats.visited;
                search = other;
                search.stats.visited += visited.saturating_sub(base);
            }
            (Err(why), None) => {
                v.verdict = match why.bound.clone() {
                    Some(b) => Verdict::Undecided {
                        index: k,
                        event: s.event,
                        why: b,
                    },
                    None => Verdict::Rejected {
                        index: k,
                        event: s.event,
                        why,
                    },
                };
                break;
            }
        }
        ahead = next_ahead;
    }
    if let Some(best) = search.frontier.values().min_by_key(|m| m.internal) {
        v.internal = best.internal;
        v.max_gap = best.max_gap;
    }
    v.stats = search.stats.clone();
    v.steps = steps;
    v.counts = counts;
    v.cfg = Some(cfg);
    v.mapping = Some(map);
    v.seconds = started.elapsed().as_secs_f64();
    v
}
