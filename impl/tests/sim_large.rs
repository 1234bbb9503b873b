//! A 100-node cluster (50 masters, 50 replicas, NT = 15 s) forms and
//! survives a master crash. Prints the virtual times.

mod sim_common;

use clusterbus_node::core::{CoreConfig, Role};
use clusterbus_node::sim::Sim;
use sim_common::{all_see_owner, form_cluster, role};

#[test]
fn hundred_nodes_form_and_survive_a_master_crash() {
    let cfg = CoreConfig {
        node_timeout_ms: 15_000,
        ..CoreConfig::default()
    };
    let mut sim = Sim::new(100, cfg, 100);
    let formed = form_cluster(&mut sim, 50, 120_000);
    // Idle traffic, for comparison with redis-server (DESIGN.md anchors).
    let sent_before = sim.stats.messages_sent;
    sim.run_for(30_000);
    let idle_rate = (sim.stats.messages_sent - sent_before) as f64 / 100.0 / 30.0;
    assert!(sim.all_ok());
    let crash_at = sim.now_ms();
    sim.crash(7);
    let replica = 57;
    let done = sim
        .run_until(crash_at + 120_000, |s| {
            role(s, replica) == Role::Master && all_see_owner(s, 7 * 327, replica) && s.all_ok()
        })
        .expect("replica 57 did not take over master 7");
    let failover_ms = done - crash_at;
    // PFAIL needs > NT of silence; the election then waits 500..1000 ms.
    assert!(
        failover_ms > 15_000,
        "failover after {failover_ms} ms is faster than NT allows"
    );
    let c = sim.core(replica).expect("up");
    assert_eq!(
        c.current_epoch(),
        101,
        "one election on top of epochs 1..=100"
    );
    assert_eq!(c.config_epoch(), 101);
    for i in (0..100).filter(|i| *i != 7) {
        let c = sim.core(i).expect("up");
        assert_eq!(c.current_epoch(), 101, "node {i}");
        assert!(
            c.node(&sim.id(7)).map(|n| n.failed()).unwrap_or(false),
            "node {i} sees 7 FAIL"
        );
    }
    eprintln!(
        "100 nodes (50 masters + 50 replicas, NT 15000 ms): formed (all cluster_state:ok) at {formed} ms virtual, \
         failover to cluster_state:ok {failover_ms} ms after the crash; idle: {idle_rate:.1} messages sent/node/s"

    );
}
