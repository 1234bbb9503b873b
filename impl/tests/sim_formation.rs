//! A cluster forms through CLUSTER MEET and REPLICATE and reaches `ok`.

mod sim_common;

use clusterbus_node::core::{name_str, ClusterState, Role};
use clusterbus_node::sim::Sim;
use sim_common::{fast_config, form_cluster, slot_split};

#[test]
fn six_nodes_meet_replicate_and_reach_ok() {
    let mut sim = Sim::new(6, fast_config(), 1);
    let t = form_cluster(&mut sim, 3, 30_000);
    assert!(t > 0);
    // Every message went through the real codec and was read back.
    assert!(sim.wire_errors.is_empty(), "{:?}", sim.wire_errors);
    assert!(sim.stats.messages_delivered > 50);
    let ranges = slot_split(3);
    for i in 0..6 {
        let s = sim.summary(i).expect("node is up");
        assert_eq!(s.state, ClusterState::Ok, "node {i}");
        assert_eq!(s.nodes.len(), 6, "node {i} knows everyone");
        assert!(s
            .nodes
            .values()
            .all(|p| !p.handshake && !p.pfail && !p.fail));
        for (m, (start, end)) in ranges.iter().enumerate() {
            let owner = name_str(&sim.id(m));
            assert_eq!(s.owner_of(*start), Some(owner.as_str()));
            assert_eq!(s.owner_of(*end), Some(owner.as_str()));
            assert_eq!(s.nodes[&owner].config_epoch, m as u64 + 1);
        }
        // The highest config epoch set (6) has reached everyone.
        assert_eq!(s.current_epoch, 6, "node {i}");
        assert_eq!(s.last_vote_epoch, 0);
        if i < 3 {
            assert_eq!(s.role, Role::Master);
            assert_eq!(s.master, None);
        } else {
            assert_eq!(s.role, Role::Replica);
            assert_eq!(s.master, Some(name_str(&sim.id(i - 3))));
        }
    }
}
