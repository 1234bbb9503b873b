//! A mixed cluster: three unmodified `redis-server` 7.0 masters and three
//! `clusterbus-node` masters, created together by `redis-cli --cluster
//! create`, each given one replica of its own kind with `redis-cli --cluster
//! add-node --cluster-slave --cluster-master-id`. All twelve must agree on
//! one CLUSTER NODES view; a killed clusterbus master is failed over and the
//! redis-server nodes see the new owner, and the other way round.

mod procs;

use procs::{add_replica, cli_output, cluster_create, require_redis_tools, wait_until, Kind, Proc};
use std::collections::BTreeSet;
use std::time::Duration;

const NODE_TIMEOUT_MS: u64 = 1000;
const LIMIT: Duration = Duration::from_secs(40);

/// What every node must agree on: (id, role, master, slots) of every node.
fn view(node: &Proc) -> BTreeSet<String> {
    node.cli(&["CLUSTER", "NODES"])
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let role = if f.get(2)?.contains("master") {
                "master"
            } else {
                "slave"
            };
            let slots = f.get(8..).map(|s| s.join(" ")).unwrap_or_default();
            Some(format!("{} {role} {} {slots}", f[0], f.get(3)?))
        })
        .collect()
}

fn agree(nodes: &[&Proc]) -> bool {
    let first = view(nodes[0]);
    first.len() == nodes.len() && nodes.iter().all(|n| view(n) == first)
}

/// Kills `masters[k]` and waits until its replica owns its slots in every
/// live node's view and every live node is ok.
fn fail_over(all: &mut [Proc], master: usize, replica: usize) {
    let replica_id = all[replica].id();
    let slots_before = all[master].view_of(&all[master].id()).unwrap_or_default();
    let first_range = slots_before.split(' ').nth(8).unwrap_or("").to_string();
    all[master].kill9();
    let live: Vec<&Proc> = all.iter().filter(|p| p.started()).collect();
    let took = wait_until(
        "the replica owns the shard everywhere and all ok",
        LIMIT,
        &live,
        || {
            live.iter().all(|n| {
                let line = n.view_of(&replica_id).unwrap_or_default();
                line.contains("master")
                    && line.split(' ').skip(8).any(|r| r == first_range)
                    && n.state_ok()
            })
        },
    );
    eprintln!(
        "{:?} master on port {} failed over in {:.2} s",
        all[master].kind,
        all[master].port,
        took.as_secs_f64()
    );
}

#[test]
fn redis_server_and_clusterbus_nodes_form_one_cluster_and_fail_over_each_other() {
    require_redis_tools();
    let root = tempfile::tempdir().expect("temp dir");
    let kinds = [
        Kind::Redis,
        Kind::Clusterbus,
        Kind::Redis,
        Kind::Clusterbus,
        Kind::Redis,
        Kind::Clusterbus,
    ];
    let mut all: Vec<Proc> = kinds
        .iter()
        .enumerate()
        .map(|(i, k)| Proc::start(*k, &root.path().join(format!("m{i}")), NODE_TIMEOUT_MS))
        .collect();
    let masters: Vec<&Proc> = all.iter().collect();
    let created = cluster_create(&masters, 0);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stdout)
    );
    for (i, k) in kinds.iter().enumerate() {
        let replica = Proc::start(*k, &root.path().join(format!("r{i}")), NODE_TIMEOUT_MS);
        add_replica(&replica, &all[i]);
        all.push(replica);
    }
    let refs: Vec<&Proc> = all.iter().collect();
    wait_until(
        "all twelve agree on one CLUSTER NODES view",
        LIMIT,
        &refs,
        || agree(&refs) && refs.iter().all(|n| n.state_ok()),
    );
    let check = cli_output(&["--cluster", "check", &all[0].addr()]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    // A clusterbus master (m1, replica r1 = index 7), then a redis-server one
    // (m0, replica r0 = index 6): each time every node, of both kinds, sees
    // the replica as the new owner.
    fail_over(&mut all, 1, 7);
    fail_over(&mut all, 0, 6);
}
