//! Helpers shared by the simulator scenarios.
#![allow(dead_code)]

use clusterbus_node::core::{ClusterCommand, CoreConfig, Reply, Role};
use clusterbus_node::sim::Sim;

/// The slot ranges `redis-cli --cluster create` gives `masters` masters.
pub fn slot_split(masters: usize) -> Vec<(u16, u16)> {
    let per = 16384 / masters;
    (0..masters)
        .map(|i| {
            let start = i * per;
            let end = if i + 1 == masters {
                16383
            } else {
                (i + 1) * per - 1
            };
            (start as u16, end as u16)
        })
        .collect()
}

/// Builds a cluster as `redis-cli --cluster create` does: nodes `0..masters`
/// get the slots and distinct config epochs (1..=masters), everyone meets
/// node 0, then replica `masters + k` replicates master `k % masters`.
/// Returns the virtual time at which every node said `cluster_state:ok`.
pub fn form_cluster(sim: &mut Sim, masters: usize, deadline_ms: u64) -> u64 {
    let n = sim.len();
    for (i, (s, e)) in slot_split(masters).into_iter().enumerate() {
        assert_eq!(sim.add_slots(i, s, e), Reply::Ok);
    }
    for i in 0..n {
        assert_eq!(
            sim.command(i, ClusterCommand::SetConfigEpoch(i as u64 + 1)),
            Reply::Ok
        );
    }
    for i in 1..n {
        assert_eq!(sim.meet(i, 0), Reply::Ok);
    }
    let all_known = sim.run_until(deadline_ms, |s| {
        (0..n).all(|i| {
            s.core(i)
                .map(|c| c.nodes().filter(|e| !e.in_handshake()).count() == n)
                .unwrap_or(false)
        })
    });
    assert!(
        all_known.is_some(),
        "nodes did not all meet by {deadline_ms} ms"
    );
    for r in masters..n {
        assert_eq!(sim.replicate(r, (r - masters) % masters), Reply::Ok);
    }
    let ok = sim.run_until(deadline_ms, |s| {
        s.all_ok()
            && (masters..n).all(|r| {
                let want = s.id((r - masters) % masters);
                let rid = s.id(r);
                (0..n).all(|i| {
                    s.core(i)
                        .and_then(|c| c.node(&rid))
                        .map(|e| e.master == Some(want))
                        .unwrap_or(false)
                })
            })
    });
    ok.expect("cluster did not reach cluster_state:ok")
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
