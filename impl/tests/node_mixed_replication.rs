//! Replication across kinds: a clusterbus-node replica of an unmodified
//! redis-server 7.0 master, and a redis-server replica of a clusterbus-node
//! master, in one cluster. Each replica takes its master's data set from the
//! full resync (an RDB file either way) and then its write stream, serves
//! it after READONLY, and, when its master is killed, is promoted with it.

mod procs;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use procs::{add_replica, cluster_create, require_redis_tools, wait_until, Kind, Proc};

const LIMIT: Duration = Duration::from_secs(30);

/// GET on a replica after READONLY, over one connection (inline commands).
fn readonly_get(replica: &Proc, key: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", replica.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(s, "READONLY\r\nGET {key}\r\n").expect("send");
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).expect("READONLY's reply");
    assert_eq!(line, "+OK\r\n");
    line.clear();
    r.read_line(&mut line).expect("GET's reply");
    if line.starts_with('$') && line != "$-1\r\n" {
        let mut value = String::new();
        r.read_line(&mut value).expect("the value");
        return value.trim_end().to_string();
    }
    line.trim_end().to_string()
}

/// Keys written through `redis-cli -c` on `node`, all in its own slots
/// (hash tag `{tag}`).
fn write_keys(node: &Proc, tag: &str, from: usize, to: usize) {
    for i in from..to {
        let key = format!("{{{tag}}}:{i}");
        let out = node.cli(&["SET", &key, &format!("v{i}-{}", "z".repeat(i % 64))]);
        assert_eq!(out.trim(), "OK", "SET {key} on {}: {out}", node.port);
    }
}

/// A hash tag whose slot `master` serves.
fn tag_of(master: &Proc) -> String {
    (0..10_000)
        .map(|i| format!("t{i}"))
        .find(|t| {
            let slot = master.cli(&["CLUSTER", "KEYSLOT", t]);
            let slot: u16 = slot.trim().parse().unwrap_or(u16::MAX);
            master
                .view_of(&master.id())
                .unwrap_or_default()
                .split(' ')
                .skip(8)
                .any(|r| match r.split_once('-') {
                    Some((a, b)) => {
                        a.parse().is_ok_and(|a: u16| a <= slot)
                            && b.parse().is_ok_and(|b: u16| slot <= b)
                    }
                    None => r.parse() == Ok(slot),
                })
        })
        .expect("a tag in the master's slots")
}

/// `replica` is linked and holds its master's keys but `left_out`.
fn synced(replica: &Proc, master: &Proc, left_out: usize) -> bool {
    let size = |n: &Proc| n.cli(&["DBSIZE"]).trim().parse::<usize>().ok();
    replica
        .info_field("replication", "master_link_status")
        .as_deref()
        == Some("up")
        && size(replica).is_some_and(|r| Some(r + left_out) == size(master))
}

#[test]
fn replicas_of_the_other_kind_take_the_data_and_the_stream() {
    require_redis_tools();
    let dirs: Vec<tempfile::TempDir> = (0..5).map(|_| tempfile::tempdir().expect("dir")).collect();
    let kinds = [
        Kind::Redis,
        Kind::Clusterbus,
        Kind::Redis,
        Kind::Clusterbus,
        Kind::Redis,
    ];
    let nodes: Vec<Proc> = kinds
        .iter()
        .zip(&dirs)
        .map(|(k, d)| Proc::start(*k, d.path(), 1000))
        .collect();
    let masters: Vec<&Proc> = nodes[..3].iter().collect();
    let out = cluster_create(&masters, 0);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let all: Vec<&Proc> = nodes.iter().collect();
    wait_until("the three masters are ok", LIMIT, &all[..3], || {
        all[..3].iter().all(|n| n.state_ok())
    });
    let (redis_master, cb_master) = (&nodes[0], &nodes[1]);
    let (cb_replica, redis_replica) = (&nodes[3], &nodes[4]);
    let (rt, ct) = (tag_of(redis_master), tag_of(cb_master));
    // Data before the replicas exist: it must come with the full resync.
    write_keys(redis_master, &rt, 0, 200);
    write_keys(cb_master, &ct, 0, 200);
    // A list and a hash, which the clusterbus replica does not store: left
    // out of its copy and reported.
    let (list, hash) = (format!("{{{rt}}}:list"), format!("{{{rt}}}:hash"));
    assert_eq!(redis_master.cli(&["RPUSH", &list, "a", "b"]).trim(), "2");
    assert_eq!(redis_master.cli(&["HSET", &hash, "f", "v"]).trim(), "1");
    add_replica(cb_replica, redis_master);
    add_replica(redis_replica, cb_master);
    wait_until(
        "both replicas hold their master's data set",
        LIMIT,
        &all,
        || synced(cb_replica, redis_master, 2) && synced(redis_replica, cb_master, 0),
    );
    assert_eq!(
        readonly_get(cb_replica, &format!("{{{rt}}}:7")),
        format!("v7-{}", "z".repeat(7))
    );
    assert!(
        cb_replica
            .log()
            .contains("left out keys of types this node does not store: 1 hash, 1 list"),
        "{}",
        cb_replica.log()
    );
    assert_eq!(
        readonly_get(redis_replica, &format!("{{{ct}}}:9")),
        format!("v9-{}", "z".repeat(9))
    );
    // Writes after: they come with the stream.
    write_keys(redis_master, &rt, 200, 300);
    write_keys(cb_master, &ct, 200, 300);
    assert_eq!(
        redis_master.cli(&["DEL", &format!("{{{rt}}}:0")]).trim(),
        "1"
    );
    wait_until("both replicas follow the stream", LIMIT, &all, || {
        synced(cb_replica, redis_master, 2) && synced(redis_replica, cb_master, 0)
    });
    assert_eq!(cb_replica.cli(&["DBSIZE"]).trim(), "299");
    assert_eq!(
        readonly_get(redis_replica, &format!("{{{ct}}}:250")),
        format!("v250-{}", "z".repeat(250 % 64))
    );
    assert_eq!(readonly_get(cb_replica, &format!("{{{rt}}}:0")), "$-1");
    drop(all);

    // Each kind of master killed in turn: its replica of the other kind
    // takes over with the data.
    let mut nodes = nodes;
    for (master, replica, tag, keys) in [(0, 3, &rt, "299"), (1, 4, &ct, "300")] {
        let replica_id = nodes[replica].id();
        nodes[master].kill9();
        let live: Vec<&Proc> = nodes.iter().filter(|n| n.started()).collect();
        wait_until(
            "the replica of the other kind is promoted",
            LIMIT,
            &live,
            || {
                live.iter().all(|n| {
                    n.view_of(&replica_id).is_some_and(|l| l.contains("master")) && n.state_ok()
                })
            },
        );
        let promoted = &nodes[replica];
        assert_eq!(promoted.cli(&["DBSIZE"]).trim(), keys, "{}", promoted.log());
        let key = format!("{{{tag}}}:250");
        let want = format!("v250-{}", "z".repeat(250 % 64));
        assert_eq!(promoted.cli(&["GET", &key]).trim(), want);
    }
}
