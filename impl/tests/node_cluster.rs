//! Acceptance with Redis's own tools: six `clusterbus-node` processes on
//! loopback, made a cluster by `redis-cli --cluster create`, checked by
//! `redis-cli --cluster check`, used through `redis-cli -c` (MOVED), then a
//! master is killed with SIGKILL: its replica must be promoted, every node
//! must report `cluster_state:ok`, and the old master, restarted from its
//! nodes.conf, must come back as a replica of the new one.

mod procs;

use procs::{
    cli_output, cluster_create, master_with_replica, require_redis_tools, wait_until, Kind, Proc,
};
use std::time::Duration;

const NODE_TIMEOUT_MS: u64 = 1000;
const LIMIT: Duration = Duration::from_secs(30);

fn start_six(root: &std::path::Path) -> Vec<Proc> {
    (0..6)
        .map(|i| {
            Proc::start(
                Kind::Clusterbus,
                &root.join(format!("n{i}")),
                NODE_TIMEOUT_MS,
            )
        })
        .collect()
}

fn all_ok(nodes: &[&Proc]) -> bool {
    nodes.iter().all(|n| n.state_ok())
}

#[test]
fn six_nodes_created_checked_redirected_failed_over_and_rejoined() {
    require_redis_tools();
    let root = tempfile::tempdir().expect("temp dir");
    let mut nodes = start_six(root.path());
    let refs: Vec<&Proc> = nodes.iter().collect();

    let created = cluster_create(&refs, 1);
    let text = String::from_utf8_lossy(&created.stdout).into_owned();
    assert!(created.status.success(), "--cluster create failed:\n{text}");
    assert!(text.contains("[OK] All 16384 slots covered."), "{text}");
    let formed = wait_until("cluster_state:ok on all six", LIMIT, &refs, || {
        all_ok(&refs)
    });
    eprintln!(
        "formed: every node ok {:.2} s after --cluster create returned",
        formed.as_secs_f64()
    );

    let check = cli_output(&["--cluster", "check", &nodes[0].addr()]);
    let check_text = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(
        check.status.success(),
        "--cluster check failed:\n{check_text}"
    );
    assert!(
        check_text.contains("[OK] All nodes agree about slots configuration."),
        "{check_text}"
    );
    assert!(
        check_text.contains("[OK] All 16384 slots covered."),
        "{check_text}"
    );

    // Keys in all three shards, written and read through MOVED.
    let port0 = nodes[0].port.to_string();
    for key in ["alpha", "bravo", "charlie", "delta", "echo"] {
        let set = cli_output(&["-c", "-p", &port0, "SET", key, &format!("v-{key}")]);
        assert_eq!(
            String::from_utf8_lossy(&set.stdout).trim(),
            "OK",
            "SET {key}"
        );
    }
    let port3 = nodes[3].port.to_string();
    for key in ["alpha", "bravo", "charlie", "delta", "echo"] {
        let get = cli_output(&["-c", "-p", &port3, "GET", key]);
        assert_eq!(
            String::from_utf8_lossy(&get.stdout).trim(),
            format!("v-{key}")
        );
    }
    let moved = nodes[0].cli(&["GET", "x"]);
    let slot = nodes[0]
        .cli(&["CLUSTER", "KEYSLOT", "x"])
        .trim()
        .to_string();
    let owner_serves_x = moved.trim().is_empty();
    assert!(
        owner_serves_x || moved.starts_with(&format!("MOVED {slot} 127.0.0.1:")),
        "GET x on a non-owner: {moved:?}"
    );

    // SIGKILL a master once its replica has every write; the replica takes
    // over, with the data.
    let (m, r) = master_with_replica(&nodes);
    let replica_id = nodes[r].id();
    let master_id = nodes[m].id();
    wait_until(
        "the replica caught up with its master",
        LIMIT,
        &refs,
        || {
            let master_offset = nodes[m].info_field("replication", "master_repl_offset");
            nodes[r]
                .info_field("replication", "master_link_status")
                .as_deref()
                == Some("up")
                && master_offset.is_some()
                && nodes[r].info_field("replication", "slave_repl_offset") == master_offset
        },
    );
    nodes[m].kill9();
    let live: Vec<&Proc> = nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != m)
        .map(|(_, p)| p)
        .collect();
    let took = wait_until(
        "the replica promoted and every live node ok",
        LIMIT,
        &live,
        || nodes[r].flags_of(&replica_id).contains("master") && all_ok(&live),
    );
    eprintln!(
        "failover: kill -9 to cluster_state:ok everywhere in {:.2} s",
        took.as_secs_f64()
    );
    for n in &live {
        assert!(
            n.flags_of(&master_id).contains("fail"),
            "{} sees the old master as {}",
            n.port,
            n.flags_of(&master_id)
        );
    }

    // The old master comes back from its nodes.conf, as a replica of the new one.
    nodes[m].restart();
    let all: Vec<&Proc> = nodes.iter().collect();
    wait_until("the old master rejoined as a replica", LIMIT, &all, || {
        let line = nodes[m].view_of(&master_id).unwrap_or_default();
        let f: Vec<&str> = line.split(' ').collect();
        f.get(2).is_some_and(|x| x.contains("slave")) && f.get(3) == Some(&replica_id.as_str())
    });
    wait_until("every node ok after the rejoin", LIMIT, &all, || {
        all_ok(&all)
    });
    let check = cli_output(&["--cluster", "check", &nodes[0].addr()]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}
