//! The data set on disk: a clusterbus-node keeps its keys across SHUTDOWN
//! and a restart (dump.rdb, Redis's format), loses what came after its last
//! save on kill -9 as redis-server does, hands its dump.rdb to an
//! unmodified redis-server and starts from one redis-server wrote, and
//! refuses to start from a damaged one, leaving it as it was.

mod procs;

use std::time::Duration;

use procs::{
    failed_start, free_port, owning_every_slot, require_redis_tools, wait_until, Kind, Proc,
};

fn set_keys(node: &Proc, n: usize, tag: &str) {
    for i in 0..n {
        let (k, v) = (format!("{tag}:{i}"), format!("value-{i}-{}", "x".repeat(i)));
        assert_eq!(node.cli(&["SET", &k, &v]).trim(), "OK");
    }
}

#[test]
fn keys_survive_shutdown_and_kill_keeps_the_last_save() {
    require_redis_tools();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut node = owning_every_slot(Kind::Clusterbus, dir.path());
    set_keys(&node, 100, "a");
    assert_eq!(node.cli(&["SET", "ttl", "v", "PX", "3600000"]).trim(), "OK");
    assert_eq!(
        node.info_field("persistence", "rdb_changes_since_last_save")
            .as_deref(),
        Some("101")
    );
    assert_eq!(node.cli(&["SAVE"]).trim(), "OK");
    let lastsave: u64 = node
        .cli(&["LASTSAVE"])
        .trim()
        .parse()
        .expect("LASTSAVE is a number");
    assert!(lastsave > 1_700_000_000, "{lastsave}");
    assert_eq!(
        node.info_field("persistence", "rdb_changes_since_last_save")
            .as_deref(),
        Some("0")
    );
    assert!(dir.path().join("dump.rdb").exists());

    // SHUTDOWN with the default save points saves what came since.
    set_keys(&node, 10, "b");
    node.cli(&["SHUTDOWN"]);
    assert!(
        node.wait_exit(Duration::from_secs(10)).is_some(),
        "SHUTDOWN stops the node"
    );
    node.restart();
    assert_eq!(node.cli(&["DBSIZE"]).trim(), "111", "{}", node.log());
    assert_eq!(
        node.cli(&["GET", "a:42"]).trim(),
        format!("value-42-{}", "x".repeat(42))
    );
    let pttl: i64 = node.cli(&["PTTL", "ttl"]).trim().parse().expect("PTTL");
    assert!(pttl > 3_000_000, "the expiry came back: {pttl}");

    // BGSAVE, then a write and kill -9: the write is lost, the save is not.
    wait_until(
        "the cluster is ok again",
        Duration::from_secs(10),
        &[&node],
        || node.state_ok(),
    );
    set_keys(&node, 5, "c");
    assert_eq!(node.cli(&["BGSAVE"]).trim(), "Background saving started");
    wait_until(
        "the background save ends",
        Duration::from_secs(10),
        &[&node],
        || {
            node.info_field("persistence", "rdb_bgsave_in_progress")
                .as_deref()
                == Some("0")
        },
    );
    assert_eq!(
        node.info_field("persistence", "rdb_last_bgsave_status")
            .as_deref(),
        Some("ok")
    );
    assert_eq!(node.cli(&["SET", "after-the-save", "v"]).trim(), "OK");
    node.kill9();
    node.restart();
    assert_eq!(node.cli(&["DBSIZE"]).trim(), "116");
    assert_eq!(node.cli(&["EXISTS", "after-the-save"]).trim(), "0");
}

#[test]
fn the_data_file_crosses_to_redis_server_and_back() {
    require_redis_tools();
    let ours = tempfile::tempdir().expect("temp dir");
    let node = owning_every_slot(Kind::Clusterbus, ours.path());
    set_keys(&node, 50, "k");
    // An integer value and a long compressible one, in Redis's encodings.
    assert_eq!(node.cli(&["SET", "n", "12345"]).trim(), "OK");
    assert_eq!(node.cli(&["SAVE"]).trim(), "OK");

    // redis-server loads our file (a cluster node takes the slots of the
    // keys it loads, `verifyClusterConfigWithData`)...
    let theirs = tempfile::tempdir().expect("temp dir");
    std::fs::copy(ours.path().join("dump.rdb"), theirs.path().join("dump.rdb")).expect("copy");
    let redis = Proc::start_on(Kind::Redis, theirs.path(), free_port(), free_port(), 1000);
    assert_eq!(redis.cli(&["DBSIZE"]).trim(), "51", "{}", redis.log());
    assert_eq!(redis.cli(&["SAVE"]).trim(), "OK");
    drop(redis);

    // ... and writes its own, compressed, which a new node starts from.
    let plain = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        theirs.path().join("dump.rdb"),
        plain.path().join("dump.rdb"),
    )
    .expect("copy");
    let started = Proc::start(Kind::Clusterbus, plain.path(), 1000);
    assert_eq!(started.cli(&["DBSIZE"]).trim(), "51", "{}", started.log());
    assert_eq!(
        started
            .info_field("persistence", "rdb_last_load_keys_loaded")
            .as_deref(),
        Some("51")
    );
}

#[test]
fn a_damaged_data_file_stops_the_start_and_is_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("dump.rdb");
    let bytes = b"REDIS0010\xfe\x00\x00\x01k\x05va".to_vec();
    std::fs::write(&path, &bytes).expect("write dump.rdb");
    let (code, stderr) = failed_start(dir.path());
    assert_eq!(code, Some(1), "the start must fail");
    assert!(
        stderr.contains(&format!("{}: at byte", path.display())),
        "the error names the file and the byte: {stderr}"
    );
    assert_eq!(
        std::fs::read(&path).expect("read"),
        bytes,
        "dump.rdb must not be overwritten"
    );
}
