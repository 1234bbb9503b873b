//! The race the model found in a slot migration (`specs/divergences.md`,
//! "Two masters claim a shard with one configEpoch"), on a live cluster:
//! node 0 imports node 1's last slot while the tap cuts it off, so the
//! configEpoch it takes without consensus reaches nobody; its replica,
//! node 3, fails it over and wins the same epoch; when the cut heals, both
//! claim slots with that one configEpoch until collision handling
//! (`clusterHandleConfigEpochCollision`) gives one of them a new one.

use super::cluster::Cluster;
use super::error::LiveError;
use super::form::{form, slot_ranges};
use super::milestones::{self as ms, frames, Milestone, F};
use super::observe::{Event, Fate};
use super::rules::Nodes;
use super::scenarios::{failover_limit, own_slots, wait_promoted};
use super::snapshot::{slot_field_range, Snapshot};

/// The scenario `collision`: 3 masters, node 3 a replica of node 0.
pub fn collision(c: &mut Cluster) -> Result<Vec<Milestone>, LiveError> {
    form(c, 3, &[0])?;
    let ids = c.ids();
    let old_slots = own_slots(c, 0)?;
    let moved_slot = slot_ranges(3)[1].1;
    let moved = moved_slot.to_string();
    let n = c.len();
    let cut = c.tap.partition(Nodes::one(0), n);
    c.rec.note("node 0 cut off at the tap");
    c.snapshot_all();
    let t_cut = c.rec.now_us();
    c.cmd(0, &["CLUSTER", "SETSLOT", &moved, "IMPORTING", &ids[1]])?;
    c.cmd(0, &["CLUSTER", "SETSLOT", &moved, "NODE", &ids[0]])?;
    c.rec.note(format!(
        "node 0 took slot {moved} by CLUSTER SETSLOT IMPORTING, then NODE"
    ));
    c.snapshot_all();
    wait_promoted(c, (0, 3, t_cut), 3, &old_slots, &[1, 2])?;
    c.tap.heal(&cut);
    c.rec.note("the cut healed");
    c.snapshot_all();
    let slots = [moved_slot, slot_ranges(3)[0].0];
    c.wait_until(
        "every node to agree on one owner per slot, with distinct configEpochs",
        failover_limit(c),
        |c| {
            let views: Vec<Option<Snapshot>> = (0..n).map(|i| c.view(i)).collect();
            let Some(Some(first)) = views.first() else {
                return false;
            };
            views.iter().all(|v| {
                v.as_ref().is_some_and(|v| {
                    distinct_epochs(v)
                        && slots.iter().all(|s| {
                            owner_of(v, *s).is_some() && owner_of(v, *s) == owner_of(first, *s)
                        })
                })
            })
        },
    )?;
    c.snapshot_all();
    let (events, _) = c.rec.events();
    let (mut m, _) = ms::failover(&events, 0, 3, 3, t_cut);
    // Node 0's frames are dropped until the heal, so the first double
    // claim the receivers see comes after it.
    let (claim, shared) = double_claim(&events, 0, 3, t_cut);
    let t_claim = claim.t_us;
    m.push(claim);
    m.push(resolved(&events, 0, 3, t_claim.zip(shared)));
    Ok(m)
}

/// The masters with slots in view `v` have distinct configEpochs.
fn distinct_epochs(v: &Snapshot) -> bool {
    let mut epochs: Vec<u64> = v
        .nodes
        .iter()
        .filter(|l| l.flags.iter().any(|f| f == "master") && !l.slots.is_empty())
        .map(|l| l.config_epoch)
        .collect();
    let all = epochs.len();
    epochs.sort_unstable();
    epochs.dedup();
    epochs.len() == all
}

/// The node whose slot fields in view `v` cover `slot`.
fn owner_of(v: &Snapshot, slot: u16) -> Option<String> {
    let covers = |field: &str| slot_field_range(field).is_some_and(|[a, b]| a <= slot && slot <= b);
    v.nodes
        .iter()
        .find(|l| l.slots.iter().any(|s| covers(s)))
        .map(|l| l.id.clone())
}

/// A master's claim as its frame carries it.
fn claim_of(f: &F) -> Option<(u64, Vec<[u16; 2]>)> {
    let speaks = f.fate == Fate::Forwarded && matches!(f.msg_type, "PING" | "PONG" | "MEET");
    (speaks && f.header.flags.contains(&"master") && !f.header.slots.is_empty())
        .then(|| (f.header.config_epoch, f.header.slots.clone()))
}

fn overlap(a: &[[u16; 2]], b: &[[u16; 2]]) -> bool {
    a.iter()
        .any(|x| b.iter().any(|y| x[0] <= y[1] && y[0] <= x[1]))
}

/// After `after`, the first frame at which the latest forwarded claims of
/// `a` and `b` share a slot and a configEpoch; with that epoch.
fn double_claim(events: &[Event], a: usize, b: usize, after: u64) -> (Milestone, Option<u64>) {
    let mut last: [Option<(u64, Vec<[u16; 2]>)>; 2] = [None, None];
    let mut found = None;
    for f in frames(events).filter(|f| f.t_us > after) {
        let side = match f.from {
            Some(x) if x == a => 0,
            Some(x) if x == b => 1,
            _ => continue,
        };
        let Some(claim) = claim_of(&f) else { continue };
        last[side] = Some(claim);
        if let [Some((ea, sa)), Some((eb, sb))] = &last {
            if ea == eb && overlap(sa, sb) {
                found = Some((f.t_us, *ea));
                break;
            }
        }
    }
    let name = format!("nodes {a} and {b} claim one slot with one configEpoch");
    (
        Milestone {
            name,
            t_us: found.map(|(t, _)| t),
        },
        found.map(|(_, e)| e),
    )
}

/// After the double claim (its time and shared epoch), `a` or `b` claims
/// slots with a configEpoch above the one they shared.
fn resolved(events: &[Event], a: usize, b: usize, claim: Option<(u64, u64)>) -> Milestone {
    let t = claim.and_then(|(after, e)| {
        frames(events)
            .find(|f| {
                f.t_us > after
                    && (f.from == Some(a) || f.from == Some(b))
                    && claim_of(f).is_some_and(|(epoch, _)| epoch > e)
            })
            .map(|f| f.t_us)
    });
    Milestone {
        name: format!("node {a} or {b} takes a new configEpoch (collision handling)"),
        t_us: t,
    }
}
