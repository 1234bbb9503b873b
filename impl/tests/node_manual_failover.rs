//! CLUSTER FAILOVER under writes, on real processes: six `clusterbus-node`
//! processes made a cluster by `redis-cli --cluster create`; a client keeps
//! writing keys of one master's slots (following MOVED as a cluster client
//! does) while that master's replica is sent CLUSTER FAILOVER. The replica
//! must take over (the master pauses writes, the replica reaches the
//! master's offset, wins the election), the writer must be sent on to it,
//! and every write that was acknowledged must be readable there.

mod common;
mod procs;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{Conn, Reply};
use procs::{cluster_create, master_with_replica, require_redis_tools, wait_until, Kind, Proc};

const NODE_TIMEOUT_MS: u64 = 1000;
const LIMIT: Duration = Duration::from_secs(30);
/// The writer stops after this many writes whatever happens.
const MAX_WRITES: usize = 20_000;
/// Tries of one write (MOVED, CLUSTERDOWN, a closed connection) before the
/// writer gives up on it.
const MAX_TRIES: usize = 50;

/// What the writer did.
#[derive(Default)]
struct Written {
    /// Keys whose SET was acknowledged with +OK, with their values.
    acked: Vec<(String, String)>,
    /// MOVED redirections followed.
    moved: usize,
}

/// Writes `{tag}:i = v-i` for i = 0, 1, ... at `port`, following MOVED,
/// until `stop` is set or MAX_WRITES. `count` tracks the acknowledged writes.
fn write_until(port: u16, tag: &str, stop: &AtomicBool, count: &AtomicUsize) -> Written {
    let mut out = Written::default();
    let mut conn = Conn::open(port).ok();
    let mut port = port;
    for i in 0..MAX_WRITES {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let (key, value) = (format!("{{{tag}}}:{i}"), format!("v-{i}"));
        for _ in 0..MAX_TRIES {
            let reply = match conn.as_mut() {
                Some(c) => c.call(&["SET", &key, &value]),
                None => Err(std::io::ErrorKind::NotConnected.into()),
            };
            match reply {
                Ok(Reply::Status(s)) if s == "OK" => {
                    out.acked.push((key.clone(), value.clone()));
                    count.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Ok(Reply::Error(e)) if e.starts_with("MOVED ") => {
                    out.moved += 1;
                    let to = e.rsplit(':').next().and_then(|p| p.parse().ok());
                    port = to.unwrap_or(port);
                    conn = Conn::open(port).ok();
                }
                _ => {
                    // Not yet served (CLUSTERDOWN while the roles settle)
                    // or the connection failed: reconnect and try again.
                    sleep(Duration::from_millis(20));
                    conn = Conn::open(port).ok();
                }
            }
        }
        sleep(Duration::from_millis(1));
    }
    out
}

/// A hash tag whose slot `master` serves (GET answers, no MOVED).
fn tag_served_by(master: &Proc) -> String {
    (0..1000)
        .map(|t| format!("t{t}"))
        .find(|tag| {
            master
                .cli(&["GET", &format!("{{{tag}}}")])
                .trim()
                .is_empty()
        })
        .expect("one of 1000 tags hashes to a third of the slots")
}

#[test]
fn manual_failover_completes_under_writes_and_keeps_every_acknowledged_write() {
    require_redis_tools();
    let root = tempfile::tempdir().expect("temp dir");
    let nodes: Vec<Proc> = (0..6)
        .map(|i| {
            let dir = root.path().join(format!("n{i}"));
            Proc::start(Kind::Clusterbus, &dir, NODE_TIMEOUT_MS)
        })
        .collect();
    let refs: Vec<&Proc> = nodes.iter().collect();
    let created = cluster_create(&refs, 1);
    assert!(
        created.status.success(),
        "--cluster create failed:\n{}",
        String::from_utf8_lossy(&created.stdout)
    );
    wait_until("cluster_state:ok on all six", LIMIT, &refs, || {
        refs.iter().all(|n| n.state_ok())
    });
    let (m, r) = master_with_replica(&nodes);
    let (master, replica) = (&nodes[m], &nodes[r]);
    wait_until(
        "the replica's link to its master is up",
        LIMIT,
        &refs,
        || {
            replica
                .info_field("replication", "master_link_status")
                .as_deref()
                == Some("up")
        },
    );
    // The master ignores MFSTART from a node it does not know as its
    // replica yet (as Redis does): wait until its view says so.
    let (master_id, replica_id) = (master.id(), replica.id());
    wait_until("the master knows its replica", LIMIT, &refs, || {
        let line = master.view_of(&replica_id).unwrap_or_default();
        line.contains(&format!(" slave {master_id} "))
    });
    let tag = tag_served_by(master);

    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (stop, count, tag, port) = (stop.clone(), count.clone(), tag.clone(), master.port);
        std::thread::spawn(move || write_until(port, &tag, &stop, &count))
    };
    let stop_writer = || stop.store(true, Ordering::Relaxed);
    wait_until(
        "100 writes acknowledged by the master",
        LIMIT,
        &refs,
        || count.load(Ordering::Relaxed) >= 100 || writer.is_finished(),
    );

    let started = Instant::now();
    let before = count.load(Ordering::Relaxed);
    assert_eq!(replica.cli(&["CLUSTER", "FAILOVER"]).trim(), "OK");
    let took = wait_until(
        "the replica took over by CLUSTER FAILOVER",
        LIMIT,
        &refs,
        || {
            let done = replica.flags_of(&replica_id).contains("master")
                && master.flags_of(&master_id).contains("slave");
            if writer.is_finished() {
                stop_writer();
            }
            done
        },
    );
    eprintln!(
        "manual failover under writes: promoted {:.0} ms after CLUSTER FAILOVER \
         ({} writes before it)",
        took.as_secs_f64() * 1000.0,
        before
    );
    wait_until("writes go on at the new master", LIMIT, &refs, || {
        count.load(Ordering::Relaxed) >= before + 200 || writer.is_finished()
    });
    stop_writer();
    let written = writer.join().expect("the writer thread ran to its end");
    assert!(started.elapsed() < 2 * LIMIT);
    assert!(
        written.acked.len() >= before + 200,
        "the writer stalled after {} writes",
        written.acked.len()
    );
    assert!(
        written.moved >= 1,
        "the writer was never sent to the new master"
    );
    assert!(
        !master.log().contains("manual failover timed out"),
        "{}",
        master.log()
    );

    let mut conn = Conn::open(replica.port).expect("connect to the new master");
    for (key, value) in &written.acked {
        let got = conn.call(&["GET", key]).expect("GET on the new master");
        assert_eq!(
            got,
            Reply::Bulk(Some(value.clone().into_bytes())),
            "acknowledged write {key}={value} on port {}",
            conn.port
        );
    }
}
