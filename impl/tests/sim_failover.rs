//! Failover scenarios: a master crashes, its replica is elected; competing
//! replicas; a minority partition that must not fail over.

mod sim_common;

use clusterbus_node::core::{name_str, ClusterState, Role};
use clusterbus_node::sim::Sim;
use sim_common::{all_see_owner, fast_config, form_cluster, role};

#[test]
fn master_crash_replica_wins_and_old_master_rejoins_as_replica() {
    let mut sim = Sim::new(6, fast_config(), 2);
    let formed = form_cluster(&mut sim, 3, 30_000);
    let crash_at = sim.now_ms();
    sim.crash(0);
    let done = sim.run_until(crash_at + 30_000, |s| {
        role(s, 3) == Role::Master && all_see_owner(s, 0, 3) && s.all_ok()
    });
    let done = done.expect("replica 3 did not take over");
    // NT = 1000: PFAIL after > 1 s, FAIL, then 500..1000 ms election delay.
    assert!(
        done - crash_at > 1000,
        "failed over too early: {} ms",
        done - crash_at
    );
    let s3 = sim.summary(3).expect("up");
    assert_eq!(s3.current_epoch, 7, "the election bumped epoch 6 to 7");
    assert_eq!(s3.config_epoch, 7, "the winner takes the election epoch");
    for i in 1..6 {
        let s = sim.summary(i).expect("up");
        assert_eq!(s.current_epoch, 7, "node {i}");
        assert!(
            s.nodes[&name_str(&sim.id(0))].fail,
            "node {i} sees the old master FAIL"
        );
        assert_eq!(s.nodes[&name_str(&sim.id(3))].config_epoch, 7);
        assert_eq!(s.owner_of(5460), Some(name_str(&sim.id(3)).as_str()));
        assert_eq!(s.state, ClusterState::Ok);
    }
    // Two of the three masters with slots voted (the dead one could not).
    let voters = (1..3)
        .filter(|m| {
            sim.summary(*m)
                .map(|s| s.last_vote_epoch == 7)
                .unwrap_or(false)
        })
        .count();
    assert_eq!(voters, 2);
    eprintln!(
        "6 nodes: formed at {formed} ms, failover took {} ms",
        done - crash_at
    );

    restart_old_master_and_check_it_follows(&mut sim);
}

/// Node 0 restarts from nodes.conf believing it is master; it must end as
/// a replica of the winner, node 3.
fn restart_old_master_and_check_it_follows(sim: &mut Sim) {
    sim.restart(0).expect("restart from nodes.conf");
    let s0 = sim.summary(0).expect("up");
    assert_eq!(
        s0.role,
        Role::Master,
        "it restarts believing it is still master"
    );
    assert_eq!(s0.config_epoch, 1);
    let rejoined = sim.run_until(sim.now_ms() + 30_000, |s| {
        role(s, 0) == Role::Replica
            && s.summary(0).and_then(|v| v.master) == Some(name_str(&s.id(3)))
            && (1..6).all(|i| {
                s.summary(i)
                    .map(|v| {
                        !v.nodes[&name_str(&s.id(0))].fail && v.nodes[&name_str(&s.id(0))].replica
                    })
                    .unwrap_or(false)
            })
            && s.all_ok()
    });
    assert!(
        rejoined.is_some(),
        "old master did not rejoin as a replica of the winner"
    );
    let s0 = sim.summary(0).expect("up");
    assert_eq!(s0.current_epoch, 7);
    assert_eq!(s0.owner_of(0), Some(name_str(&sim.id(3)).as_str()));
    assert!(all_see_owner(sim, 0, 3));
}

#[test]
fn two_replicas_of_one_master_exactly_one_wins() {
    // 3 masters, replicas 3 and 4 both of master 0.
    let mut sim = Sim::new(5, fast_config(), 3);
    form_two_replica_cluster(&mut sim);
    let crash_at = sim.now_ms();
    sim.crash(0);
    let done = sim.run_until(crash_at + 30_000, |s| {
        (role(s, 3) == Role::Master || role(s, 4) == Role::Master) && s.all_ok()
    });
    assert!(done.is_some(), "no replica took over");
    sim.run_for(10_000);
    let winners: Vec<usize> = [3, 4]
        .into_iter()
        .filter(|i| role(&sim, *i) == Role::Master)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one replica wins");
    let (w, l) = (winners[0], 7 - winners[0]);
    assert_eq!(
        sim.summary(l).and_then(|s| s.master),
        Some(name_str(&sim.id(w))),
        "the loser follows the winner"
    );
    assert!(all_see_owner(&sim, 0, w));
    let sw = sim.summary(w).expect("up");
    assert_eq!(sw.config_epoch, sw.current_epoch);
    assert!(sw.config_epoch > 5);
}

fn form_two_replica_cluster(sim: &mut Sim) {
    use clusterbus_node::core::{ClusterCommand, Reply};
    for (i, (s, e)) in sim_common::slot_split(3).into_iter().enumerate() {
        assert_eq!(sim.add_slots(i, s, e), Reply::Ok);
    }
    for i in 0..5 {
        assert_eq!(
            sim.command(i, ClusterCommand::SetConfigEpoch(i as u64 + 1)),
            Reply::Ok
        );
    }
    for i in 1..5 {
        sim.meet(i, 0);
    }
    sim.run_for(5_000);
    assert_eq!(sim.replicate(3, 0), Reply::Ok);
    assert_eq!(sim.replicate(4, 0), Reply::Ok);
    assert!(sim
        .run_until(sim.now_ms() + 20_000, |s| s.all_ok())
        .is_some());
}

#[test]
fn minority_side_of_a_partition_does_not_fail_over() {
    let mut sim = Sim::new(6, fast_config(), 4);
    form_cluster(&mut sim, 3, 30_000);
    // Master 0 and its replica 3 on one side, masters 1, 2 and replicas 4, 5 on the other.
    sim.partition(&[0, 3], &[1, 2, 4, 5]);
    sim.run_for(20_000);
    // Minority: replica 3 must not be promoted (its master is reachable, and
    // it could never get a majority of votes anyway).
    assert_eq!(role(&sim, 3), Role::Replica);
    assert_eq!(role(&sim, 0), Role::Master);
    let s3 = sim.summary(3).expect("up");
    assert_eq!(
        s3.current_epoch, 6,
        "no election epoch was taken on the minority side"
    );
    assert_eq!(
        sim.state(0),
        ClusterState::Fail,
        "minority master sees the cluster down"
    );
    // Majority: masters 1 and 2 flag 0 FAIL, and keep their slots.
    let s1 = sim.summary(1).expect("up");
    assert!(s1.nodes[&name_str(&sim.id(0))].fail);
    assert_eq!(
        s1.owner_of(0),
        Some(name_str(&sim.id(0)).as_str()),
        "no one took master 0's slots"
    );
    assert_eq!(
        s1.state,
        ClusterState::Fail,
        "full coverage lost: slots of a FAIL master"
    );
    // Heal: everything returns to ok with the same owners.
    sim.heal();
    let healed = sim.run_until(sim.now_ms() + 30_000, |s| s.all_ok());
    assert!(healed.is_some(), "cluster did not recover after heal");
    assert!(all_see_owner(&sim, 0, 0));
}

#[test]
fn votes_and_election_epochs_are_synced_before_they_are_sent() {
    use clusterbus_node::codec::Body;
    use clusterbus_node::core::{split_at_sync, Effect};
    let mut sim = Sim::new(6, fast_config(), 5);
    form_cluster(&mut sim, 3, 30_000);
    sim.record_batches = true;
    sim.crash(1);
    let t = sim.now_ms();
    assert!(sim
        .run_until(t + 30_000, |s| role(s, 4) == Role::Master)
        .is_some());
    let mut checked = 0;
    for (_, _, batch) in &sim.batches {
        let (durable, after) = split_at_sync(batch.clone());
        for e in batch {
            let Effect::Send { msg, .. } = e else {
                continue;
            };
            let needs_sync = matches!(msg.body, Body::FailoverAuthAck | Body::FailoverAuthRequest);
            if !needs_sync {
                continue;
            }
            checked += 1;
            assert!(
                after.contains(e),
                "{:?} may leave before the sync",
                msg.body.message_type()
            );
            let synced = durable.iter().rev().find_map(|d| match d {
                Effect::Persist { conf, fsync: true } => Some(conf.clone()),
                _ => None,
            });
            let synced = synced.expect("a durable Persist precedes the message");
            assert_eq!(
                synced.current_epoch, msg.header.current_epoch,
                "the epoch sent is on disk"
            );
            if matches!(msg.body, Body::FailoverAuthAck) {
                assert_eq!(
                    synced.last_vote_epoch, msg.header.current_epoch,
                    "the vote is on disk"
                );
            }
        }
    }
    // 1 election: requests to the 4 live peers + 2 acks.
    assert!(checked >= 6, "only {checked} vote messages seen");
}

#[test]
fn isolated_old_master_learns_it_was_replaced_and_follows_the_winner() {
    use clusterbus_node::codec::MessageType;
    let mut sim = Sim::new(6, fast_config(), 6);
    form_cluster(&mut sim, 3, 30_000);
    sim.isolate(0);
    let t = sim.now_ms();
    let won = sim.run_until(t + 30_000, |s| {
        role(s, 3) == Role::Master && all_see_owner_except(s, 0, 3, 0)
    });
    assert!(won.is_some(), "replica 3 did not take over");
    assert_eq!(
        role(&sim, 0),
        Role::Master,
        "the isolated node still believes it is master"
    );
    assert_eq!(sim.core(0).map(|c| c.config_epoch()), Some(1));
    sim.heal();
    let t = sim.now_ms();
    let rejoined = sim.run_until(t + 30_000, |s| {
        role(s, 0) == Role::Replica
            && s.core(0).and_then(|c| c.master()) == Some(s.id(3))
            && s.all_ok()
    });
    assert!(rejoined.is_some(), "old master did not step down");
    assert!(all_see_owner(&sim, 0, 3));
    assert!(
        sim.sent_by_type
            .get(&MessageType::Update)
            .copied()
            .unwrap_or(0)
            >= 1,
        "a stale claim was answered with UPDATE"
    );
    assert_eq!(sim.core(0).map(|c| c.current_epoch()), Some(7));
}

fn all_see_owner_except(sim: &Sim, slot: u16, owner: usize, except: usize) -> bool {
    let want = sim.id(owner);
    (0..sim.len())
        .filter(|i| *i != except)
        .all(|i| sim.core(i).and_then(|c| c.slot_owner(slot)) == Some(want))
}

#[test]
fn an_election_without_votes_expires_and_is_retried_in_a_new_epoch() {
    use clusterbus_node::codec::MessageType;
    let mut sim = Sim::new(6, fast_config(), 8);
    form_cluster(&mut sim, 3, 30_000);
    sim.ignore(MessageType::FailoverAuthAck);
    sim.crash(2);
    let t = sim.now_ms();
    // The first election (epoch 7) gets no votes.
    let started = sim.run_until(t + 10_000, |s| {
        s.core(5).map(|c| c.current_epoch()) == Some(7)
    });
    let started = started.expect("replica 5 started an election");
    // Auth timeout max(2·NT, 2000) = 2 s, retry after twice that (4 s)
    // from the planned start: no new election before then.
    sim.run_for(1_000);
    sim.heal();
    sim.run_for(2_900);
    assert_eq!(role(&sim, 5), Role::Replica);
    assert_eq!(sim.core(5).map(|c| c.current_epoch()), Some(7));
    let won = sim.run_until(started + 10_000, |s| {
        role(s, 5) == Role::Master && s.all_ok()
    });
    let won = won.expect("the retried election was won");
    assert!(won - started > 4_000, "retried after {} ms", won - started);
    let c = sim.core(5).expect("up");
    assert_eq!(
        (c.current_epoch(), c.config_epoch()),
        (8, 8),
        "the second election used a new epoch"
    );
    assert!(all_see_owner(&sim, 16383, 5));
}
