//! The `random` scenario: a schedule of faults drawn from a seed (the
//! project's splitmix64), so a run that finds something can be repeated.
//! Each fault lasts three node timeouts (long enough for a failover), is
//! undone, and the run waits until the cluster is whole again before the
//! next one.

use std::thread::sleep;
use std::time::Duration;

use clusterbus_node::splitmix::SplitMix64;

use super::cluster::Cluster;
use super::error::LiveError;
use super::form::form;
use super::milestones::{self as ms, Milestone};
use super::rules::Nodes;
use super::scenarios::{failover_limit, Setup};

/// Faults per run.
pub const FAULTS: usize = 4;

/// The faults the schedule draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// kill -9, then restart on the same nodes.conf.
    KillRestart,
    /// SIGTERM, then restart.
    TermRestart,
    /// SIGSTOP, then SIGCONT.
    Pause,
    /// Cut off at the tap, then heal.
    Partition,
    /// Every frame the node sends delayed by 200 ms.
    SlowLink,
    /// Every frame the node sends held, then released in order.
    HeldLink,
}

const KINDS: [Fault; 6] = [
    Fault::KillRestart,
    Fault::TermRestart,
    Fault::Pause,
    Fault::Partition,
    Fault::SlowLink,
    Fault::HeldLink,
];

/// The schedule for `seed` over `n` nodes: (fault, node) pairs.
pub fn schedule(seed: u64, n: usize) -> Vec<(Fault, usize)> {
    let mut r = SplitMix64::new(seed);
    (0..FAULTS)
        .map(|_| {
            let f = KINDS[r.below(KINDS.len() as u64) as usize];
            (f, r.below(n as u64) as usize)
        })
        .collect()
}

/// Forms the cluster, then runs the seed's schedule.
pub fn random(c: &mut Cluster, s: &Setup) -> Result<Vec<Milestone>, LiveError> {
    if s.masters < 3 {
        return Err(LiveError::Usage(
            "random: at least 3 masters (a failover needs a majority)".into(),
        ));
    }
    let replica_of: Vec<usize> = (0..s.replicas).map(|k| k % s.masters).collect();
    form(c, s.masters, &replica_of)?;
    let mut m = Vec::new();
    for (k, (fault, node)) in schedule(s.seed, c.len()).into_iter().enumerate() {
        c.rec.note(format!("fault {k}: {fault:?} on node {node}"));
        inject(c, fault, node)?;
        let t = wait_whole(c, s.masters)?;
        m.push(all_report_ok(
            c,
            &format!("after fault {k} ({fault:?} on node {node})"),
            t,
        ));
    }
    Ok(m)
}

fn inject(c: &mut Cluster, fault: Fault, node: usize) -> Result<(), LiveError> {
    let hold = Duration::from_millis(3 * c.node_timeout_ms);
    match fault {
        Fault::KillRestart | Fault::TermRestart => {
            if fault == Fault::KillRestart {
                c.kill9(node)?;
            } else {
                c.term(node)?;
            }
            sleep(hold);
            c.restart(node)
        }
        Fault::Pause => {
            c.stop(node)?;
            sleep(hold);
            c.cont(node)
        }
        Fault::Partition => {
            let rules = c.tap.partition(Nodes::one(node), c.len());
            c.snapshot_all();
            sleep(hold);
            c.tap.heal(&rules);
            c.snapshot_all();
            Ok(())
        }
        Fault::SlowLink | Fault::HeldLink => {
            let (from, to) = (Nodes::one(node), Nodes::ALL);
            let rule = match fault {
                Fault::SlowLink => c.tap.delay(from, to, Duration::from_millis(200)),
                _ => c.tap.hold(from, to),
            };
            sleep(hold);
            c.tap.release(rule);
            Ok(())
        }
    }
}

/// Waits until every node answers, says `cluster_state:ok`, sees every node
/// without a failure flag and `masters` masters with slots, and every
/// replica's link is up. Returns the time it became whole.
fn wait_whole(c: &Cluster, masters: usize) -> Result<u64, LiveError> {
    let n = c.len();
    let limit = failover_limit(c) + Duration::from_millis(3 * c.node_timeout_ms);
    c.wait_until("the cluster to be whole again", limit, |c| {
        (0..n).all(|i| {
            c.view(i).is_some_and(|v| {
                let owners = v
                    .nodes
                    .iter()
                    .filter(|l| l.flags.iter().any(|f| f == "master") && !l.slots.is_empty())
                    .count();
                v.cluster_state == "ok"
                    && v.nodes.len() == n
                    && owners == masters
                    && v.nodes
                        .iter()
                        .all(|l| !l.flags.iter().any(|f| f == "fail" || f == "fail?"))
                    && (v.role == "master" || v.master_link_status.as_deref() == Some("up"))
            })
        })
    })?;
    c.snapshot_all();
    Ok(c.rec.now_us())
}

/// Every node's frames say `state: ok` after `t` (waits for one from each).
fn all_report_ok(c: &Cluster, what: &str, t: u64) -> Milestone {
    let n = c.len();
    let seen = |e: &[super::observe::Event]| {
        let mut last = 0;
        for i in 0..n {
            let f = ms::first_frame(e, String::new(), t, |f| {
                f.from == Some(i) && f.header.state == 0
            });
            match f.t_us {
                Some(x) => last = last.max(x),
                None => return None,
            }
        }
        Some(last)
    };
    let name = format!("{what}: every node's frames say cluster state ok");
    let ok = c.wait_until(&name, failover_limit(c), |c| {
        c.rec.scan(seen).flatten().is_some()
    });
    let t_us = ok.ok().and_then(|_| c.rec.scan(seen).flatten());
    Milestone { name, t_us }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_seed_gives_one_schedule() {
        assert_eq!(super::schedule(7, 4), super::schedule(7, 4));
        assert_ne!(super::schedule(7, 4), super::schedule(8, 4));
        assert!(super::schedule(7, 4).iter().all(|(_, n)| *n < 4));
    }
}
