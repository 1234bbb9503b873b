//! The checker's results, pinned: unique state counts per configuration (a
//! change in the state space is a visible, reviewed change), and for every
//! seeded bug, the property it breaks and the length of the shortest
//! counterexample (BFS), so a checker upgrade that loses shortest paths shows.

use clusterbus_model::{Bug, ClusterModel, ModelCfg};
use stateright::{Checker, HasDiscoveries, Model};

fn check(cfg: ModelCfg) -> impl Checker<ClusterModel> {
    let depth = cfg.max_depth;
    ClusterModel::new(cfg)
        .checker()
        .target_max_depth(depth)
        .finish_when(HasDiscoveries::AnyFailures)
        .spawn_bfs()
        .join()
}

fn config(name: &str) -> ModelCfg {
    ModelCfg::named(name).unwrap_or_else(|| panic!("no configuration {name}"))
}

/// Every Always property holds, every Sometimes one is discovered, and the
/// number of unique states is `expected`.
fn assert_holds(name: &str, expected: usize) {
    let checker = check(config(name));
    let model = checker.model();
    for p in model.properties() {
        let found = checker.discovery(p.name).is_some();
        match p.expectation {
            stateright::Expectation::Sometimes => {
                assert!(found, "{name}: \"{}\" never happens", p.name)
            }
            _ => assert!(!found, "{name}: \"{}\" is violated", p.name),
        }
    }
    assert_eq!(
        checker.unique_state_count(),
        expected,
        "{name}: unique states"
    );
}

#[test]
fn handshake_3_holds() {
    assert_holds("handshake-3", 523_519);
}

#[test]
fn failover_3m1r_holds() {
    assert_holds("failover-3m1r", 397_285);
}

#[test]
fn failover_3m2r_holds() {
    assert_holds("failover-3m2r", 3_523_398);
}

#[test]
fn crash_restart_3m1r_holds() {
    assert_holds("crash-restart-3m1r", CRASH_RESTART_3M1R);
}

const CRASH_RESTART_3M1R: usize = 2_432_976;

/// The bug's own configuration breaks `property` with a shortest
/// counterexample of `steps` actions.
fn assert_caught(bug: Bug, property: &'static str, steps: usize) {
    let cfg = config(bug.config()).with_bug(Some(bug));
    let checker = check(cfg);
    let path = checker
        .discovery(property)
        .unwrap_or_else(|| panic!("{}: \"{property}\" not violated", bug.name()));
    assert_eq!(
        path.into_actions().len(),
        steps,
        "{}: counterexample length",
        bug.name()
    );
}

#[test]
fn vote_not_persisted_is_caught() {
    assert_caught(
        Bug::VoteNotPersisted,
        "at most one vote per master and epoch",
        13,
    );
}

#[test]
fn fail_on_minority_is_caught() {
    assert_caught(
        Bug::FailOnMinority,
        "FAIL only with a majority of reports",
        5,
    );
}

#[test]
fn vote_ignoring_last_vote_epoch_is_caught() {
    assert_caught(
        Bug::VoteIgnoresLastVoteEpoch,
        "at most one vote per master and epoch",
        14,
    );
}

#[test]
fn stale_ack_counted_is_caught() {
    assert_caught(Bug::StaleAckCounted, "a winner had a quorum of votes", 16);
}

#[test]
fn missing_collision_handling_is_caught() {
    assert_caught(
        Bug::NoCollisionHandling,
        "a quiet cluster is formed, with distinct configEpochs",
        21,
    );
}

#[test]
fn election_on_pfail_is_caught() {
    assert_caught(Bug::ElectionOnPfail, "elections only for FAIL masters", 3);
}
