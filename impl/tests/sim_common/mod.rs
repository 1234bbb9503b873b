//! Helpers shared by the simulator scenarios.
#![allow(dead_code)]

use clusterbus_node::core::{CoreConfig, Role};
use clusterbus_node::sim::Sim;

#[allow(unused_imports)]
pub use clusterbus_node::sim::cluster::slot_split;

/// Builds a cluster with [`Sim::create_cluster`] and returns the virtual
/// time at which it reached `cluster_state:ok`.
pub fn form_cluster(sim: &mut Sim, masters: usize, deadline_ms: u64) -> u64 {
    match sim.create_cluster(masters, deadline_ms) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    }
}

/// A short node timeout so scenarios run in little virtual time.
pub fn fast_config() -> CoreConfig {
    CoreConfig {
        node_timeout_ms: 1000,
        ..CoreConfig::default()
    }
}

/// The role node `i` has in its own view.
pub fn role(sim: &Sim, i: usize) -> Role {
    match sim.core(i).map(|c| c.is_master()) {
        Some(true) => Role::Master,
        _ => Role::Replica,
    }
}

/// Whether every live node sees `slot` owned by node `owner`.
pub fn all_see_owner(sim: &Sim, slot: u16, owner: usize) -> bool {
    let want = sim.id(owner);
    (0..sim.len())
        .filter(|i| sim.is_up(*i))
        .all(|i| sim.core(i).and_then(|c| c.slot_owner(slot)) == Some(want))
}
