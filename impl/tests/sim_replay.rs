//! A core is a function of its events: replaying the events a simulated run
//! fed to each node, on fresh cores, reproduces every node's state. This is
//! what lets conformance drive cores with a model's actions.

mod sim_common;

use clusterbus_node::core::Core;
use clusterbus_node::sim::Sim;
use sim_common::{fast_config, form_cluster};

#[test]
fn replaying_recorded_events_reproduces_every_node() {
    let mut sim = Sim::new(6, fast_config(), 21);
    sim.record_events = true;
    form_cluster(&mut sim, 3, 30_000);
    // A failover without crashes: isolate master 2, then heal.
    sim.isolate(2);
    sim.run_for(8_000);
    sim.heal();
    sim.run_for(8_000);
    assert!(
        sim.core(5).map(|c| c.is_master()).unwrap_or(false),
        "replica 5 took over"
    );
    let mut cores: Vec<Core> = (0..6)
        .map(|i| Core::new(sim.identity(i).clone(), sim.core_config(), 0))
        .collect();
    for (now, i, event) in sim.events.clone() {
        cores[i].handle(now, event);
    }
    for (i, replayed) in cores.iter().enumerate() {
        let live = sim.summary(i).expect("up");
        assert_eq!(replayed.summary(), live, "node {i}");
        assert_eq!(
            replayed.persisted(),
            sim.core(i).map(|c| c.persisted()).expect("up"),
            "node {i}"
        );
    }
}
