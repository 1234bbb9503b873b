//! CLUSTER FAILOVER, FAILOVER FORCE and FAILOVER TAKEOVER on a healthy cluster.

mod sim_common;

use clusterbus_node::codec::MessageType;
use clusterbus_node::core::{ClusterCommand, FailoverMode, Reply, Role};
use clusterbus_node::sim::Sim;
use sim_common::{all_see_owner, fast_config, form_cluster, role};

/// Runs a manual failover of replica 3 (of master 0) and returns the sim
/// once roles have swapped everywhere.
fn manual_failover(mode: FailoverMode, seed: u64) -> Sim {
    let mut sim = Sim::new(6, fast_config(), seed);
    form_cluster(&mut sim, 3, 30_000);
    sim.sent_by_type.clear();
    let t = sim.now_ms();
    assert_eq!(sim.command(3, ClusterCommand::Failover { mode }), Reply::Ok);
    let swapped = sim.run_until(t + 10_000, |s| {
        role(s, 3) == Role::Master
            && role(s, 0) == Role::Replica
            && s.core(0).and_then(|c| c.master()) == Some(s.id(3))
            && all_see_owner(s, 0, 3)
            && s.all_ok()
    });
    let swapped = swapped.unwrap_or_else(|| panic!("{mode:?} failover did not complete"));
    // Well within the 5 s manual failover timeout; no node was ever FAIL.
    assert!(swapped - t < 5_000, "{mode:?} took {} ms", swapped - t);
    for i in 0..6 {
        let c = sim.core(i).expect("up");
        assert!(c.nodes().all(|n| !n.failed()), "node {i} saw a FAIL");
        assert_eq!(c.current_epoch(), 7, "node {i}");
    }
    assert_eq!(sim.core(3).map(|c| c.config_epoch()), Some(7));
    sim
}

#[test]
fn default_failover_coordinates_with_the_master() {
    let sim = manual_failover(FailoverMode::Default, 11);
    assert_eq!(sim.sent_by_type.get(&MessageType::MfStart), Some(&1));
    assert!(
        sim.sent_by_type
            .get(&MessageType::FailoverAuthAck)
            .copied()
            .unwrap_or(0)
            >= 2
    );
}

#[test]
fn forced_failover_runs_an_election_without_the_master() {
    let sim = manual_failover(FailoverMode::Force, 12);
    assert_eq!(sim.sent_by_type.get(&MessageType::MfStart), None);
    assert!(
        sim.sent_by_type
            .get(&MessageType::FailoverAuthRequest)
            .copied()
            .unwrap_or(0)
            >= 5
    );
}

#[test]
fn takeover_needs_no_votes() {
    let sim = manual_failover(FailoverMode::Takeover, 13);
    assert_eq!(
        sim.sent_by_type.get(&MessageType::FailoverAuthRequest),
        None
    );
    assert_eq!(sim.sent_by_type.get(&MessageType::FailoverAuthAck), None);
}

#[test]
fn failover_is_refused_on_a_master() {
    let mut sim = Sim::new(6, fast_config(), 14);
    form_cluster(&mut sim, 3, 30_000);
    let r = sim.command(
        0,
        ClusterCommand::Failover {
            mode: FailoverMode::Default,
        },
    );
    assert_eq!(
        r,
        Reply::Error("ERR You should send CLUSTER FAILOVER to a replica".into())
    );
}

#[test]
fn default_failover_waits_for_the_replica_to_reach_the_paused_masters_offset() {
    let mut sim = Sim::new(6, fast_config(), 15);
    form_cluster(&mut sim, 3, 30_000);
    // Master 0 has produced 500 bytes of stream; its replica 3 applied 400.
    sim.set_repl_offset(0, 500);
    sim.set_repl_offset(3, 400);
    let t = sim.now_ms();
    let failover = ClusterCommand::Failover {
        mode: FailoverMode::Default,
    };
    assert_eq!(sim.command(3, failover), Reply::Ok);
    sim.run_for(2_000);
    let mf = sim.core(3).map(|c| c.manual_failover().clone());
    let mf = mf.expect("replica is up");
    assert_eq!(mf.master_offset, Some(500), "the paused master's offset");
    assert!(!mf.can_start, "400 of 500 applied: no election yet");
    assert_eq!(role(&sim, 3), Role::Replica);
    // The rest of the stream arrives: the election starts, and wins.
    sim.set_repl_offset(3, 500);
    let swapped = sim.run_until(t + 5_000, |s| {
        role(s, 3) == Role::Master && role(s, 0) == Role::Replica && s.all_ok()
    });
    assert!(swapped.is_some(), "no failover once the offsets matched");
}
