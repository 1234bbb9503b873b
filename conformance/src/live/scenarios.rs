//! The scenarios: each starts its own cluster, injects its faults, waits
//! (bounded) until the nodes say the story is over, and reads its
//! milestones from the recorded frames. Each runs unchanged on both kinds.

use std::time::Duration;

use super::cluster::Cluster;
use super::error::LiveError;
use super::form::{form, master_with_slots, replica_in, slots_of};
use super::milestones::{self as ms, Milestone};
use super::rules::Nodes;

/// The scenario names `live record --scenario` takes.
pub const NAMES: [&str; 11] = [
    "form-3",
    "create-3m3r",
    "failover-3m1r",
    "rejoin",
    "contested-3m2r",
    "pause",
    "partition",
    "manual-failover",
    "lost-votes",
    "collision",
    "random",
];

/// What a scenario may use besides its cluster.
#[derive(Clone, Debug)]
pub struct Setup {
    pub seed: u64,
    pub masters: usize,
    pub replicas: usize,
}

/// How many nodes scenario `name` starts.
pub fn node_count(name: &str, setup: &Setup) -> Result<usize, LiveError> {
    Ok(match name {
        "form-3" => 3,
        "create-3m3r" => 6,
        "failover-3m1r" | "rejoin" | "pause" | "partition" | "manual-failover" | "lost-votes"
        | "collision" => 4,
        "contested-3m2r" => 5,
        "random" => setup.masters + setup.replicas,
        other => {
            return Err(LiveError::Usage(format!(
                "unknown scenario {other:?}; known: {}",
                NAMES.join(", ")
            )))
        }
    })
}

/// Runs scenario `name` on `c`; returns its milestones.
pub fn run(name: &str, c: &mut Cluster, setup: &Setup) -> Result<Vec<Milestone>, LiveError> {
    match name {
        "form-3" => form_3(c),
        "create-3m3r" => create_3m3r(c),
        "failover-3m1r" => failover_3m1r(c).map(|(m, _)| m),
        "rejoin" => rejoin(c),
        "contested-3m2r" => contested(c),
        "pause" => pause(c),
        "partition" => partition(c),
        "manual-failover" => super::manual::manual_failover(c),
        "lost-votes" => super::manual::lost_votes(c),
        "collision" => super::collision::collision(c),
        "random" => super::random::random(c, setup),
        other => Err(LiveError::Usage(format!("unknown scenario {other:?}"))),
    }
}

/// How long a failover may take: Redis needs about NT + 1 s + the election.
pub fn failover_limit(c: &Cluster) -> Duration {
    Duration::from_millis(20_000 + 10 * c.node_timeout_ms)
}

fn form_3(c: &mut Cluster) -> Result<Vec<Milestone>, LiveError> {
    form(c, 3, &[])?;
    Ok(with_events(c, |e| ms::formed(e, 3, &[0, 1, 2])))
}

fn create_3m3r(c: &mut Cluster) -> Result<Vec<Milestone>, LiveError> {
    c.cli_create(1)?;
    c.rec.note("redis-cli --cluster create done");
    let n = c.len();
    c.wait_until(
        "every node to say cluster_state:ok with 3 masters and 3 replicas",
        super::form::FORM_LIMIT,
        |c| {
            (0..n).all(|i| {
                c.view(i).is_some_and(|v| {
                    v.cluster_state == "ok"
                        && v.nodes.len() == n
                        && v.nodes
                            .iter()
                            .filter(|l| l.flags.iter().any(|f| f == "slave"))
                            .count()
                            == 3
                        && (v.role == "master" || v.master_link_status.as_deref() == Some("up"))
                })
            })
        },
    )?;
    c.snapshot_all();
    // redis-cli chooses which nodes are masters; read its choice.
    let masters = masters_now(c);
    Ok(with_events(c, |e| {
        let mut m = ms::formed(e, n, &masters);
        m.push(ms::replicas_announced(e, &masters, n));
        m
    }))
}

/// The nodes node 0 sees as masters now.
fn masters_now(c: &Cluster) -> Vec<usize> {
    let ids = c.ids();
    let Some(v) = c.view(0) else {
        return Vec::new();
    };
    (0..c.len())
        .filter(|i| {
            v.nodes
                .iter()
                .any(|l| l.id == ids[*i] && l.flags.iter().any(|f| f == "master"))
        })
        .collect()
}

fn with_events<T>(c: &Cluster, f: impl FnOnce(&[super::observe::Event]) -> T) -> T {
    let (events, _) = c.rec.events();
    f(&events)
}

/// Waits until `new` holds `old`'s slots in the view of every node in
/// `judges` and says it is a master itself.
pub fn wait_promoted(
    c: &Cluster,
    (old, new, after): (usize, usize, u64),
    masters: usize,
    slots: &[String],
    judges: &[usize],
) -> Result<(), LiveError> {
    let ids = c.ids();
    let what = format!("node {new} to hold node {old}'s slots {slots:?} in the view of {judges:?}");
    c.wait_until(&what, failover_limit(c), |c| {
        judges.iter().all(|j| {
            c.view(*j)
                .is_some_and(|v| master_with_slots(&v, &ids[new], slots))
        }) && c.view(new).is_some_and(|v| v.role == "master")
            && c.rec
                .scan(|e| claimed(e, old, new, masters, after))
                .unwrap_or(false)
    })?;
    c.rec.note(format!("node {new} promoted"));
    c.snapshot_all();
    Ok(())
}

/// Whether the frames show `new` claiming `old`'s slots after `after`.
pub fn claimed(
    e: &[super::observe::Event],
    old: usize,
    new: usize,
    masters: usize,
    after: u64,
) -> bool {
    let (m, _) = ms::failover(e, old, new, masters, after);
    m.last().is_some_and(|m| m.t_us.is_some())
}

/// Waits until `old` says it is a replica of `new` with its link up, and
/// its frames since `after` say so too.
pub fn wait_replica_of(c: &Cluster, old: usize, new: usize, after: u64) -> Result<(), LiveError> {
    let ids = c.ids();
    let what = format!("node {old} to replicate node {new}");
    c.wait_until(&what, failover_limit(c), |c| {
        c.view(old).is_some_and(|v| {
            replica_in(&v, &ids[old], &ids[new]) && v.master_link_status.as_deref() == Some("up")
        }) && c
            .rec
            .scan(|e| ms::steps_down(e, old, new, after).t_us.is_some())
            .unwrap_or(false)
    })?;
    c.rec.note(format!("node {old} replicates node {new}"));
    c.snapshot_all();
    Ok(())
}

/// Node `i`'s slots as node `i` prints them.
pub fn own_slots(c: &Cluster, i: usize) -> Result<Vec<String>, LiveError> {
    let ids = c.ids();
    let v = c.view(i).ok_or_else(|| LiveError::Node {
        node: i,
        problem: "does not answer CLUSTER NODES".into(),
    })?;
    Ok(slots_of(&v, &ids[i]))
}

/// 3 masters, node 3 a replica of node 0; kill -9 node 0.
fn failover_3m1r(c: &mut Cluster) -> Result<(Vec<Milestone>, u64), LiveError> {
    form(c, 3, &[0])?;
    let slots = own_slots(c, 0)?;
    c.kill9(0)?;
    let t = c.rec.now_us();
    wait_promoted(c, (0, 3, t), 3, &slots, &[1, 2])?;
    let (m, _) = with_events(c, |e| ms::failover(e, 0, 3, 3, t));
    Ok((m, t))
}

fn rejoin(c: &mut Cluster) -> Result<Vec<Milestone>, LiveError> {
    let (mut m, _) = failover_3m1r(c)?;
    c.restart(0)?;
    let t = c.rec.now_us();
    wait_replica_of(c, 0, 3, t)?;
    m.push(with_events(c, |e| ms::steps_down(e, 0, 3, t)));
    Ok(m)
}

/// Two replicas (3, 4) of node 0; kill -9 node 0; one wins, the other follows it.
fn contested(c: &mut Cluster) -> Result<Vec<Milestone>, LiveError> {
    form(c, 3, &[0, 0])?;
    let slots = own_slots(c, 0)?;
    c.kill9(0)?;
    let t = c.rec.now_us();
    let ids = c.ids();
    let mut winner = 3;
    c.wait_until(
        "node 3 or node 4 to hold node 0's slots",
        failover_limit(c),
        |c| {
            for w in [3, 4] {
                if [1, 2].iter().all(|j| {
                    c.view(*j)
                        .is_some_and(|v| master_with_slots(&v, &ids[w], &slots))
                }) {
                    winner = w;
                    return true;
                }
            }
            false
        },
    )?;
    let loser = 7 - winner;
    c.snapshot_all();
    wait_replica_of(c, loser, winner, t)?;
    let (mut m, _) = with_events(c, |e| ms::failover(e, 0, winner, 3, t));
    m.push(with_events(c, |e| ms::steps_down(e, loser, winner, t)));
    Ok(m)
}

/// SIGSTOP node 0 until its replica has taken over, then SIGCONT.
fn pause(c: &mut Cluster) -> Result<Vec<Milestone>, LiveError> {
    form(c, 3, &[0])?;
    let slots = own_slots(c, 0)?;
    c.stop(0)?;
    let t = c.rec.now_us();
    wait_promoted(c, (0, 3, t), 3, &slots, &[1, 2])?;
    c.cont(0)?;
    let t_cont = c.rec.now_us();
    wait_replica_of(c, 0, 3, t_cont)?;
    let (mut m, _) = with_events(c, |e| ms::failover(e, 0, 3, 3, t));
    m.push(with_events(c, |e| ms::steps_down(e, 0, 3, t_cont)));
    Ok(m)
}

/// Cut node 0 off at the tap until its replica has taken over, then heal.
fn partition(c: &mut Cluster) -> Result<Vec<Milestone>, LiveError> {
    form(c, 3, &[0])?;
    let slots = own_slots(c, 0)?;
    let n = c.len();
    let rules = c.tap.partition(Nodes::one(0), n);
    c.snapshot_all();
    let t = c.rec.now_us();
    wait_promoted(c, (0, 3, t), 3, &slots, &[1, 2])?;
    c.tap.heal(&rules);
    c.snapshot_all();
    let t_heal = c.rec.now_us();
    wait_replica_of(c, 0, 3, t_heal)?;
    let (mut m, _) = with_events(c, |e| ms::failover(e, 0, 3, 3, t));
    m.push(with_events(c, |e| ms::partition_held(e, &[0], t, t_heal)));
    m.push(with_events(c, |e| ms::steps_down(e, 0, 3, t_heal)));
    Ok(m)
}
