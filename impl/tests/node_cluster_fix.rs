//! `redis-cli --cluster fix` of an uncovered slot on a clusterbus cluster:
//! it covers the slot with MULTI, CLUSTER ADDSLOTS, CLUSTER BUMPEPOCH and
//! EXEC (which stopped at "unknown command 'MULTI'" before transactions),
//! and `--cluster check` then passes.

mod procs;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use procs::{cli_output, cluster_create, require_redis_tools, wait_until, Kind, Proc};

#[test]
fn cluster_fix_covers_an_uncovered_slot() {
    require_redis_tools();
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().expect("dir")).collect();
    let nodes: Vec<Proc> = dirs
        .iter()
        .map(|d| Proc::start(Kind::Clusterbus, d.path(), 1000))
        .collect();
    let all: Vec<&Proc> = nodes.iter().collect();
    let out = cluster_create(&all, 0);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    wait_until("the cluster is ok", Duration::from_secs(20), &all, || {
        all.iter().all(|n| n.state_ok())
    });
    // Slot 100 is node 0's; it lets it go, and nobody serves it.
    assert_eq!(nodes[0].cli(&["CLUSTER", "DELSLOTS", "100"]).trim(), "OK");
    let check = cli_output(&["--cluster", "check", &nodes[0].addr()]);
    let text = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(text.contains("Not all 16384 slots are covered"), "{text}");

    // The uncovered-slot question is asked even with --cluster-yes.
    let mut fix = Command::new("timeout")
        .args(["60", "redis-cli", "--cluster", "fix", &nodes[0].addr()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run redis-cli --cluster fix");
    fix.stdin
        .take()
        .expect("stdin")
        .write_all(b"yes\n")
        .expect("answer yes");
    let out = fix
        .wait_with_output()
        .expect("redis-cli --cluster fix ends");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "fix failed: {text}");
    assert!(text.contains(">>> Covering slot 100"), "{text}");
    wait_until(
        "--cluster check passes",
        Duration::from_secs(20),
        &all,
        || {
            let c = cli_output(&["--cluster", "check", &nodes[1].addr()]);
            let t = String::from_utf8_lossy(&c.stdout).into_owned();
            c.status.success()
                && t.contains("[OK] All 16384 slots covered.")
                && t.contains("[OK] All nodes agree")
        },
    );
}
