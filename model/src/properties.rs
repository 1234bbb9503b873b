//! What the checker proves. Every Always property has a Sometimes partner that
//! shows the situation it guards does arise, so "held" is never vacuous.

use crate::config::Start;
use crate::message::{NodeIx, MAX_NODES};
use crate::state::{initial_epoch, State, EPOCH_SLOTS};
use crate::step;
use crate::Action;
use crate::ClusterModel;
use stateright::Property;

/// The properties of a model, by configuration. A property is listed only
/// where its situation can arise, and each Always property comes with the
/// Sometimes partner that shows the situation is reached there (the checker
/// fails a configuration where a Sometimes property is never discovered).
pub fn properties(model: &ClusterModel) -> Vec<Property<ClusterModel>> {
    let cfg = &model.cfg;
    let mut props = vec![
        Property::always("configEpoch at most currentEpoch", config_epoch_bounded),
        Property::sometimes("a configEpoch grows", config_epoch_grew),
    ];
    // currentEpoch can only go back across a restart, and only matters
    // where a node can crash after its currentEpoch grew: where a second
    // crash can follow the first failover.
    if cfg.max_crashes >= 2 {
        props.extend([
            Property::always("currentEpoch never decreases", epochs_never_decrease),
            Property::sometimes(
                "a node is down after its currentEpoch grew",
                down_after_epoch_grew,
            ),
        ]);
    }
    match cfg.start {
        Start::Strangers => props.extend([
            Property::always(
                "a quiet cluster is formed, with distinct configEpochs",
                quiet_means_formed,
            ),
            Property::sometimes("handshake completes", handshake_complete),
            Property::sometimes("a configEpoch collision is resolved", collision_resolved),
            Property::sometimes("a node is PFAIL", some_pfail),
        ]),
        Start::Formed => props.extend([
            Property::always("at most one winner per epoch", one_winner_per_epoch),
            Property::always("at most one vote per master and epoch", one_vote_per_epoch),
            Property::always("a winner had a quorum of votes", winners_had_quorum),
            Property::always(
                "no shard claimed twice with one configEpoch",
                distinct_shard_claims,
            ),
            Property::always(
                "a winner's master was FAIL in the winner's view",
                winners_master_was_fail,
            ),
            Property::sometimes("a failover is won", failover_won),
            Property::always("elections only for FAIL masters", elections_only_for_fail),
            Property::sometimes("an election starts", election_started),
            Property::always("FAIL only with a majority of reports", fail_needs_majority),
            Property::sometimes("a node is FAIL", some_fail),
            Property::sometimes("a node is PFAIL", some_pfail),
        ]),
    }
    if cfg.start == Start::Formed && cfg.quiet_in_reach {
        props.extend([
            Property::always("quiet cluster has failed over", quiet_means_failed_over),
            Property::sometimes("a cluster is quiet after a failover", quiet_after_failover),
        ]);
    }
    if cfg.reshard.is_some() {
        props.extend([
            Property::always(
                "quiet cluster agrees on every shard's owner",
                quiet_means_one_owner,
            ),
            Property::always("a finished move sticks", move_sticks),
            Property::always(
                "a shared claim's configEpoch was taken without consensus",
                shared_claims_only_after_a_bump,
            ),
            Property::sometimes("a cluster is quiet after a shard move", quiet_after_move),
        ]);
    }
    if cfg.rejoin_in_reach {
        props.push(Property::sometimes(
            "old master rejoins as replica",
            rejoined,
        ));
    }
    match cfg.focus {
        Some(only) => props.retain(|p| p.name == only),
        None => props.retain(|p| !cfg.findings.iter().any(|f| f.property == p.name)),
    }
    props
}

fn one_winner_per_epoch(_: &ClusterModel, s: &State) -> bool {
    s.ghost.wins.iter().all(|w| w.count_ones() <= 1)
}

/// No master's bit is set for two candidates of one epoch.
fn one_vote_per_epoch(_: &ClusterModel, s: &State) -> bool {
    (0..EPOCH_SLOTS).all(|e| {
        let mut voted = 0u8;
        s.ghost.votes.iter().all(|per_epoch| {
            let twice = voted & per_epoch[e] != 0;
            voted |= per_epoch[e];
            !twice
        })
    })
}

fn winners_had_quorum(m: &ClusterModel, s: &State) -> bool {
    (0..EPOCH_SLOTS).all(|e| {
        (0..MAX_NODES)
            .filter(|&w| s.ghost.wins[e] & (1 << w) != 0)
            .all(|w| s.ghost.votes[w][e].count_ones() as usize >= m.cfg.quorum())
    })
}

fn fail_needs_majority(_: &ClusterModel, s: &State) -> bool {
    !s.ghost.fail_without_majority
}

fn distinct_shard_claims(_: &ClusterModel, s: &State) -> bool {
    shared_claim_epochs(s) == 0
}

/// The finding "no shard claimed twice with one configEpoch" has one known
/// cause (`specs/divergences.md`): a configEpoch taken without consensus,
/// which a won election can take too. Any other shared claim breaks this.
fn shared_claims_only_after_a_bump(_: &ClusterModel, s: &State) -> bool {
    shared_claim_epochs(s) & !s.ghost.taken_alone == 0
}

/// Bit `e`: two up masters claim one shard with configEpoch `e`.
fn shared_claim_epochs(s: &State) -> u8 {
    let claims: Vec<_> = s
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.up)
        .flat_map(|(i, n)| {
            let shards = n.my_shards(i as NodeIx);
            shards
                .iter()
                .map(|sh| (sh, n.config_epoch))
                .collect::<Vec<_>>()
        })
        .collect();
    claims
        .iter()
        .filter(|a| claims.iter().filter(|b| b == a).count() > 1)
        .fold(0, |bits, (_, e)| bits | 1 << e)
}

fn epochs_never_decrease(_: &ClusterModel, s: &State) -> bool {
    s.nodes
        .iter()
        .zip(&s.ghost.epoch_high)
        .all(|(n, h)| !n.up || n.current_epoch >= *h)
}

fn config_epoch_bounded(_: &ClusterModel, s: &State) -> bool {
    s.nodes.iter().all(|n| n.config_epoch <= n.current_epoch)
}

fn elections_only_for_fail(_: &ClusterModel, s: &State) -> bool {
    !s.ghost.election_without_fail
}

fn winners_master_was_fail(_: &ClusterModel, s: &State) -> bool {
    !s.ghost.won_without_fail
}

/// Quiet: nothing in flight and no protocol step left to take — no
/// operator command (MEET, a migration step) whose node is up,
/// no PING that would tell anyone anything, no timeout of a node that is down,
/// no election to start or to give up. Only faults and timer noise remain.
fn quiet(m: &ClusterModel, s: &State) -> bool {
    if s.in_flight() > 0 {
        return false;
    }
    let mut actions = Vec::new();
    step::enabled(&m.cfg, s, &mut actions);
    !actions.iter().any(|a| {
        matches!(
            a,
            Action::Meet { .. }
                | Action::SetSlotImporting { .. }
                | Action::SetSlotNode { .. }
                | Action::SendPing { .. }
                | Action::Deliver { .. }
                | Action::NodeTimeout { .. }
                | Action::ElectionDue { .. }
                | Action::AuthTimeout { .. }
        )
    })
}

/// Bounded liveness of the handshake and of `clusterHandleConfigEpochCollision`:
/// once a timely cluster is quiet, everyone knows everyone and no two masters
/// share a configEpoch.
fn quiet_means_formed(m: &ClusterModel, s: &State) -> bool {
    if s.ghost.untimely || !quiet(m, s) {
        return true;
    }
    let epochs: Vec<_> = s
        .nodes
        .iter()
        .filter(|n| n.up && n.master.is_none())
        .map(|n| n.config_epoch)
        .collect();
    handshake_complete(m, s)
        && epochs
            .iter()
            .all(|e| epochs.iter().filter(|f| *f == e).count() == 1)
}

/// Bounded liveness of failover: once a timely cluster is quiet with a master
/// down, a majority of masters up and one of its replicas up, one of its
/// replicas serves its shard in every up node's view.
fn quiet_means_failed_over(m: &ClusterModel, s: &State) -> bool {
    if s.ghost.untimely || !quiet(m, s) {
        return true;
    }
    let cfg = &m.cfg;
    let up = |i: NodeIx| s.nodes[i as usize].up;
    let masters_up = (0..cfg.masters).filter(|&i| up(i)).count();
    (0..cfg.masters).filter(|&f| !up(f)).all(|failed| {
        let replicas: Vec<NodeIx> = (cfg.masters..cfg.node_count() as NodeIx)
            .filter(|&r| cfg.initial_master(r) == Some(failed))
            .collect();
        if masters_up < cfg.quorum() || !replicas.iter().any(|&r| up(r)) {
            return true;
        }
        let shard = failed as usize;
        let owner = s.nodes.iter().find(|n| n.up).and_then(|n| n.owners[shard]);
        let failed_over = owner.is_some_and(|o| up(o) && replicas.contains(&o))
            && s.nodes
                .iter()
                .filter(|n| n.up)
                .all(|n| n.owners[shard] == owner);
        // A replica that spent the configuration's epochs cannot try again:
        // that is the bound, not the protocol.
        let out_of_epochs = replicas.iter().any(|&r| {
            let n = &s.nodes[r as usize];
            n.up && n.master.is_some() && n.current_epoch >= cfg.max_epoch
        });
        failed_over || out_of_epochs
    })
}

/// Bounded liveness of slot migration: once a timely cluster is quiet,
/// every shard that a master that is up claims has one such claimant, and
/// every up node's view names it. (A shard whose owner is down is left out:
/// nobody spreads its claim until it is back or replaced.)
fn quiet_means_one_owner(m: &ClusterModel, s: &State) -> bool {
    if s.ghost.untimely || !quiet(m, s) {
        return true;
    }
    (0..m.cfg.masters).all(|shard| {
        let mut claimants = (0..s.n() as NodeIx)
            .filter(|&i| s.nodes[i as usize].up)
            .filter(|&i| s.nodes[i as usize].my_shards(i).contains(shard));
        let Some(owner) = claimants.next() else {
            return true;
        };
        claimants.next().is_none()
            && s.nodes
                .iter()
                .filter(|n| n.up)
                .all(|n| n.owners[shard as usize] == Some(owner))
    })
}

/// The operator's intent holds: in a timely quiet cluster after the last
/// migration step, with the target up, the moved shard is claimed by the
/// target or by a replica of the target that took its place. (With the
/// target down, its claim waits for its return.)
fn move_sticks(m: &ClusterModel, s: &State) -> bool {
    let Some(r) = m.cfg.reshard else {
        return true;
    };
    if s.ghost.untimely || !move_finished(m, s) || !s.nodes[r.to as usize].up || !quiet(m, s) {
        return true;
    }
    let heir = |i: NodeIx| i == r.to || m.cfg.initial_master(i) == Some(r.to);
    (0..s.n() as NodeIx)
        .filter(|&i| s.nodes[i as usize].up)
        .filter(|&i| s.nodes[i as usize].my_shards(i).contains(r.shard))
        .all(heir)
}

/// Whether the operator ran every migration step and none was refused.
fn move_finished(m: &ClusterModel, s: &State) -> bool {
    let steps = m.cfg.reshard.map_or(0, |r| r.steps(m.cfg.masters).len());
    s.operator as usize == steps
}

/// The situation `quiet_means_one_owner` is for: a timely quiet cluster
/// after the operator's every migration step succeeded.
fn quiet_after_move(m: &ClusterModel, s: &State) -> bool {
    !s.ghost.untimely && move_finished(m, s) && quiet(m, s)
}

fn handshake_complete(m: &ClusterModel, s: &State) -> bool {
    let n = m.cfg.node_count();
    s.nodes.iter().all(|node| {
        node.known_peers().count() == n - 1 && node.peers.iter().all(|p| p.handshake.is_none())
    })
}

fn some_pfail(_: &ClusterModel, s: &State) -> bool {
    s.nodes
        .iter()
        .any(|n| n.up && n.peers.iter().any(|p| p.pfail))
}

fn some_fail(_: &ClusterModel, s: &State) -> bool {
    s.nodes
        .iter()
        .any(|n| n.up && n.peers.iter().any(|p| p.fail))
}

/// All masters know each other and hold distinct, non-zero configEpochs.
fn collision_resolved(m: &ClusterModel, s: &State) -> bool {
    let epochs: Vec<_> = s
        .nodes
        .iter()
        .filter(|n| n.master.is_none())
        .map(|n| n.config_epoch)
        .collect();
    handshake_complete(m, s)
        && epochs
            .iter()
            .all(|e| epochs.iter().filter(|f| *f == e).count() == 1)
}

/// Used by `ClusterModel::within_boundary`.
pub fn within_bounds(m: &ClusterModel, s: &State) -> bool {
    s.in_flight() <= m.cfg.max_in_flight
        && !s.net.overflowed()
        && s.net.longest_queue() <= m.cfg.max_queue
        && s.nodes.iter().all(|n| n.current_epoch <= m.cfg.max_epoch)
}

fn failover_won(_: &ClusterModel, s: &State) -> bool {
    s.ghost.wins.iter().any(|&w| w != 0)
}

/// A configEpoch above any the configuration starts with: a collision was
/// resolved, or a failover was won.
fn config_epoch_grew(m: &ClusterModel, s: &State) -> bool {
    let start = initial_epoch(&m.cfg);
    s.nodes.iter().any(|n| n.config_epoch > start)
}

/// A node is down holding a currentEpoch above the one the cluster started
/// with: its restart must bring that epoch back.
fn down_after_epoch_grew(m: &ClusterModel, s: &State) -> bool {
    let start = initial_epoch(&m.cfg);
    s.nodes.iter().any(|n| !n.up && n.current_epoch > start)
}

fn election_started(_: &ClusterModel, s: &State) -> bool {
    s.nodes.iter().any(|n| n.up && n.election.is_some())
}

/// The situation `quiet_means_failed_over` judges, reached with a failover
/// behind it: a timely quiet cluster after a won election.
fn quiet_after_failover(m: &ClusterModel, s: &State) -> bool {
    !s.ghost.untimely && failover_won(m, s) && quiet(m, s)
}

fn rejoined(_: &ClusterModel, s: &State) -> bool {
    s.ghost.rejoined_as_replica
}
