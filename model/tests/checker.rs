//! The checker's results, pinned. The unique-state counts of the complete
//! checks are in `model/src/pins.rs`, which `clusterbus check --all` (run by
//! CI) compares against; these tests hold what `check --all` does not run:
//! for every seeded bug, the property it breaks and the length of its
//! shortest counterexample (breadth-first, one thread, so the first
//! violation found is a shortest one), that symmetry reduction changes no
//! verdict, and that the README's table agrees with the pins.

use clusterbus_model::{pins, Bug, ClusterModel, ModelCfg};
use stateright::{Checker, Expectation, HasDiscoveries, Model};

fn config(name: &str) -> ModelCfg {
    ModelCfg::named(name).unwrap_or_else(|| panic!("no configuration {name}"))
}

/// Breadth-first on one thread; properties checked on every state within
/// `steps` steps. (stateright counts the initial state as depth 1 and skips,
/// unchecked, the states at its target depth.)
fn bfs(cfg: ModelCfg, steps: usize) -> impl Checker<ClusterModel> {
    ClusterModel::new(cfg)
        .checker()
        .target_max_depth(steps + 2)
        .finish_when(HasDiscoveries::AnyFailures)
        .spawn_bfs()
        .join()
}

/// The bug's own configuration breaks `property` with a shortest
/// counterexample of `steps` actions.
fn assert_caught(bug: Bug, property: &'static str, steps: usize) {
    let cfg = config(bug.config()).with_bug(Some(bug));
    let checker = bfs(cfg, steps);
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
fn slot_import_without_bump_is_caught() {
    assert_caught(Bug::SetSlotNoBump, "a finished move sticks", 10);
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

/// The model once allowed this itself: n0 comes back and its FAIL is
/// cleared while n3's election runs, and n3 still takes over on its last vote.
#[test]
fn promotion_without_recheck_is_caught() {
    assert_caught(
        Bug::NoRecheckBeforePromotion,
        "a winner's master was FAIL in the winner's view",
        15,
    );
}

/// The FAIL property is computed apart from the rules (which nodes
/// reported, and whether each serves slots in the deciding node's view), so
/// each piece of the rule it mirrors can be broken alone and be seen.
#[test]
fn report_from_replica_is_caught() {
    assert_caught(
        Bug::ReportFromReplicaCounted,
        "FAIL only with a majority of reports",
        5,
    );
}

#[test]
fn replica_counting_itself_is_caught() {
    assert_caught(
        Bug::ReplicaCountsOwnReport,
        "FAIL only with a majority of reports",
        5,
    );
}

#[test]
fn fail_without_own_timeout_is_caught() {
    assert_caught(
        Bug::FailWithoutOwnTimeout,
        "FAIL only with a majority of reports",
        4,
    );
}

/// n1 learns epoch 4 from n3's AUTH_REQUEST and crashes before any
/// configEpoch 4 reaches it: without a saved currentEpoch it comes back at 3.
#[test]
fn current_epoch_not_persisted_is_caught() {
    assert_caught(
        Bug::CurrentEpochNotPersisted,
        "currentEpoch never decreases",
        11,
    );
}

/// Which properties a run discovered, by name.
fn verdicts(checker: &impl Checker<ClusterModel>) -> Vec<(&'static str, bool)> {
    checker
        .model()
        .properties()
        .iter()
        .map(|p| (p.name, checker.discovery(p.name).is_some()))
        .collect()
}

/// With and without symmetry reduction, the same properties hold and the
/// same are discovered, on every state within 11 steps of failover-3m2r
/// (whose two replicas are interchangeable), and the reduction saves states.
/// Also with a seeded bug, so a violation is among the verdicts compared.
#[test]
fn symmetry_changes_no_verdict() {
    for bug in [None, Some(Bug::VoteIgnoresLastVoteEpoch)] {
        let cfg = config("failover-3m2r").with_bug(bug);
        let reduced = bfs(cfg.clone(), 11);
        let full = bfs(cfg.without_symmetry(), 11);
        assert_eq!(verdicts(&reduced), verdicts(&full), "bug {bug:?}");
        if bug.is_none() {
            assert!(
                reduced.unique_state_count() * 3 < full.unique_state_count() * 2,
                "symmetry saves too little: {} of {}",
                reduced.unique_state_count(),
                full.unique_state_count()
            );
        }
    }
}

/// Every Always property holds and every Sometimes one is discovered in a
/// complete check of the smallest configuration, with its pinned count: the
/// pins and the checker agree without waiting for `check --all`.
#[test]
fn failover_3m1r_holds_with_its_pinned_count() {
    let checker = ClusterModel::new(config("failover-3m1r"))
        .checker()
        .threads(2)
        .finish_when(HasDiscoveries::AnyFailures)
        .spawn_dfs()
        .join();
    for p in checker.model().properties() {
        let found = checker.discovery(p.name).is_some();
        match p.expectation {
            Expectation::Sometimes => assert!(found, "\"{}\" never happens", p.name),
            _ => assert!(!found, "\"{}\" is violated", p.name),
        }
    }
    assert_eq!(
        Some(checker.unique_state_count()),
        pins::unique_states("failover-3m1r", false)
    );
}

/// The README's checker table shows the pinned counts: regenerating it
/// (`clusterbus check --all --write-tables`) and the pins go together.
#[test]
fn readme_table_matches_the_pins() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    for name in ModelCfg::NAMES {
        let pin = pins::unique_states(name, true)
            .unwrap_or_else(|| panic!("{name}: no pin in model/src/pins.rs"));
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| {name} | ")))
            .unwrap_or_else(|| panic!("README: no row for {name}"));
        let unique: Vec<&str> = row.split('|').map(str::trim).collect();
        assert_eq!(unique.get(5), Some(&pin.to_string().as_str()), "{row}");
    }
}
