//! Resharding a clusterbus cluster with the real `redis-cli --cluster`
//! tools, as an operator would: 3 masters and 3 replicas holding 10,000
//! keys, with a client writing and reading back throughout. `reshard` of
//! 1,000 slots, `rebalance`, `add-node` then `rebalance
//! --cluster-use-empty-masters`, emptying and `del-node`, and `fix` of a
//! migration left half done. After each, `--cluster check` must find every
//! slot covered, all nodes agreeing and no slot open; at the end every key
//! has its value and the client saw no error it could not follow
//! (`MOVED`, `ASK` and `TRYAGAIN` are followed, as cluster clients do).

mod common;
mod procs;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use clusterbus_node::slots::key_hash_slot;
use common::{Conn, Reply};
use procs::{cli_output, cluster_create, require_redis_tools, wait_until, Kind, Proc};

/// Keys loaded before the operations start.
const KEYS: usize = 10_000;
/// Keys the background client rewrites over and over.
const LIVE_KEYS: usize = 100;
/// Redirections one request may follow before it counts as failed.
const MAX_REDIRECTS: usize = 32;
/// How long one request may wait out TRYAGAIN and CLUSTERDOWN.
const RETRY_FOR: Duration = Duration::from_secs(10);

/// A minimal cluster client: it sends a keyed command to the node its slot
/// table names, learns from `MOVED`, follows `ASK` once with ASKING, and
/// waits out `TRYAGAIN` and `CLUSTERDOWN`.
struct RoutingClient {
    owner: HashMap<u16, u16>,
    default_port: u16,
    conns: HashMap<u16, Conn>,
}

impl RoutingClient {
    fn new(port: u16) -> RoutingClient {
        RoutingClient {
            owner: HashMap::new(),
            default_port: port,
            conns: HashMap::new(),
        }
    }

    fn conn(&mut self, port: u16) -> std::io::Result<&mut Conn> {
        match self.conns.entry(port) {
            std::collections::hash_map::Entry::Occupied(c) => Ok(c.into_mut()),
            std::collections::hash_map::Entry::Vacant(v) => Ok(v.insert(Conn::open(port)?)),
        }
    }

    /// `words` with `words[1]` as the key; the final reply, or why not.
    fn call(&mut self, words: &[&str]) -> Result<Reply, String> {
        let slot = key_hash_slot(words[1].as_bytes());
        let mut port = *self.owner.get(&slot).unwrap_or(&self.default_port);
        let mut asking = false;
        let (mut redirects, started) = (0, Instant::now());
        while redirects < MAX_REDIRECTS && started.elapsed() < RETRY_FOR {
            let reply = self.send(port, asking, words).map_err(|e| {
                self.conns.remove(&port);
                format!("{words:?} at {port}: {e}")
            })?;
            asking = false;
            let Reply::Error(text) = &reply else {
                return Ok(reply);
            };
            let redirect_port = || {
                text.rsplit(':')
                    .next()
                    .and_then(|p| p.parse::<u16>().ok())
                    .ok_or_else(|| format!("bad redirection {text:?}"))
            };
            if text.starts_with("MOVED ") {
                port = redirect_port()?;
                self.owner.insert(slot, port);
                redirects += 1;
            } else if text.starts_with("ASK ") {
                port = redirect_port()?;
                asking = true;
                redirects += 1;
            } else if text.starts_with("TRYAGAIN") || text.starts_with("CLUSTERDOWN") {
                thread::sleep(Duration::from_millis(20));
            } else {
                return Ok(reply);
            }
        }
        Err(format!(
            "{words:?}: {redirects} redirections, or no answer in {RETRY_FOR:?}"
        ))
    }

    fn send(&mut self, port: u16, asking: bool, words: &[&str]) -> std::io::Result<Reply> {
        let conn = self.conn(port)?;
        if asking {
            conn.call(&["ASKING"])?;
        }
        conn.call(words)
    }
}

/// Writes and reads back its keys until told to stop; returns how many
/// round trips it made and every error it saw.
fn background_client(port: u16, stop: Arc<AtomicBool>) -> thread::JoinHandle<(usize, Vec<String>)> {
    thread::spawn(move || {
        let mut client = RoutingClient::new(port);
        let (mut done, mut errors) = (0usize, Vec::new());
        let mut round = 0u64;
        while !stop.load(Ordering::Relaxed) {
            round += 1;
            for k in 0..LIVE_KEYS {
                let key = format!("live:{k}");
                let value = format!("{round}");
                match client.call(&["SET", &key, &value]) {
                    Ok(Reply::Status(s)) if s == "OK" => {}
                    other => errors.push(format!("SET {key}: {other:?}")),
                }
                match client.call(&["GET", &key]) {
                    Ok(Reply::Bulk(Some(v))) if v == value.as_bytes() => {}
                    other => errors.push(format!("GET {key} (wrote {value}): {other:?}")),
                }
                done += 1;
                if errors.len() > 20 {
                    return (done, errors);
                }
            }
        }
        (done, errors)
    })
}

/// `redis-cli --cluster <args>`, which must succeed; its output.
fn cluster_tool(args: &[&str]) -> String {
    let mut all = vec!["--cluster"];
    all.extend(args);
    let out = cli_output(&all);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "redis-cli {all:?} failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// `--cluster check` passes: every slot covered, all nodes agree, no open
/// slot. Waits for gossip to settle.
fn check_passes(at: &Proc, all: &[&Proc]) {
    wait_until(
        "--cluster check passes",
        Duration::from_secs(30),
        all,
        || {
            let out = cli_output(&["--cluster", "check", &at.addr()]);
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            out.status.success()
                && text.contains("[OK] All nodes agree about slots configuration.")
                && text.contains("[OK] All 16384 slots covered.")
                && !text.contains("[WARNING]")
        },
    );
}

/// The masters' ids and the number of slots each serves, from `at`'s view.
fn masters(at: &Proc) -> Vec<(String, u16, usize)> {
    at.cli(&["CLUSTER", "NODES"])
        .lines()
        .filter(|l| l.split(' ').nth(2).is_some_and(|f| f.contains("master")))
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let port = f[1]
                .split(['@', ':'])
                .nth(1)
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            let slots = f[8..]
                .iter()
                .filter(|r| !r.starts_with('['))
                .map(|r| match r.split_once('-') {
                    Some((a, b)) => {
                        b.parse::<usize>().unwrap_or(0) - a.parse::<usize>().unwrap_or(0) + 1
                    }
                    None => 1,
                })
                .sum();
            (f[0].to_string(), port, slots)
        })
        .collect()
}

fn dbsize_of_masters(at: &Proc) -> i64 {
    masters(at)
        .iter()
        .filter(|(_, _, slots)| *slots > 0)
        .map(
            |(_, port, _)| match Conn::open(*port).and_then(|mut c| c.call(&["DBSIZE"])) {
                Ok(Reply::Int(n)) => n,
                other => panic!("DBSIZE at {port}: {other:?}"),
            },
        )
        .sum()
}

#[test]
fn redis_cli_reshards_rebalances_adds_and_removes_nodes_under_load() {
    require_redis_tools();
    let dirs: Vec<tempfile::TempDir> = (0..7).map(|_| tempfile::tempdir().expect("dir")).collect();
    let mut nodes: Vec<Proc> = dirs[..6]
        .iter()
        .map(|d| Proc::start(Kind::Clusterbus, d.path(), 2000))
        .collect();
    {
        let all: Vec<&Proc> = nodes.iter().collect();
        let out = cluster_create(&all, 1);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        check_passes(&nodes[0], &all);
    }
    let entry = nodes[0].port;
    let mut loader = RoutingClient::new(entry);
    let started = Instant::now();
    for i in 0..KEYS {
        let (key, value) = (format!("key:{i}"), format!("value:{i}"));
        match loader.call(&["SET", &key, &value]) {
            Ok(Reply::Status(s)) if s == "OK" => {}
            other => panic!("loading {key}: {other:?}"),
        }
    }
    eprintln!("loaded {KEYS} keys in {:?}", started.elapsed());
    let stop = Arc::new(AtomicBool::new(false));
    let client = background_client(entry, stop.clone());

    // reshard: 1,000 slots from the first master to the second.
    let m = masters(&nodes[0]);
    let (from, to) = (&m[0].0, &m[1].0);
    let addr = nodes[0].addr();
    let out = cluster_tool(&[
        "reshard",
        &addr,
        "--cluster-from",
        from,
        "--cluster-to",
        to,
        "--cluster-slots",
        "1000",
        "--cluster-yes",
    ]);
    assert!(out.contains("Moving slot"), "{out}");
    {
        let all: Vec<&Proc> = nodes.iter().collect();
        check_passes(&nodes[0], &all);
    }
    let after = masters(&nodes[0]);
    let slots_of = |id: &str, list: &[(String, u16, usize)]| {
        list.iter()
            .find(|(i, _, _)| i == id)
            .map_or(0, |(_, _, s)| *s)
    };
    assert_eq!(slots_of(from, &after), slots_of(from, &m) - 1000);
    assert_eq!(slots_of(to, &after), slots_of(to, &m) + 1000);

    // rebalance: back to even shares.
    cluster_tool(&["rebalance", &addr]);
    {
        let all: Vec<&Proc> = nodes.iter().collect();
        check_passes(&nodes[0], &all);
    }
    let even = masters(&nodes[0]);
    assert!(
        even.iter().all(|(_, _, s)| s.abs_diff(16384 / 3) <= 110),
        "not rebalanced: {even:?}"
    );

    // add-node, then rebalance onto the empty master.
    nodes.push(Proc::start(Kind::Clusterbus, dirs[6].path(), 2000));
    let new = nodes[6].addr();
    let new_id = nodes[6].id();
    cluster_tool(&["add-node", &new, &addr]);
    {
        let all: Vec<&Proc> = nodes.iter().collect();
        wait_until(
            "every node knows the new one",
            Duration::from_secs(20),
            &all,
            || all.iter().all(|n| n.view_of(&new_id).is_some()),
        );
        check_passes(&nodes[0], &all);
    }
    let rebalanced = cluster_tool(&["rebalance", &addr, "--cluster-use-empty-masters"]);
    {
        let all: Vec<&Proc> = nodes.iter().collect();
        check_passes(&nodes[0], &all);
    }
    assert!(
        slots_of(&new_id, &masters(&nodes[0])) >= 4000,
        "the new master got no share: {:?}\n{rebalanced}\n{}",
        masters(&nodes[0]),
        nodes[0].cli(&["CLUSTER", "NODES"])
    );

    // Empty the new node and remove it.
    let slots = slots_of(&new_id, &masters(&nodes[0])).to_string();
    let first = masters(&nodes[0])
        .into_iter()
        .find(|(id, _, _)| *id != new_id)
        .map(|(id, _, _)| id)
        .expect("an old master");
    cluster_tool(&[
        "reshard",
        &addr,
        "--cluster-from",
        &new_id,
        "--cluster-to",
        &first,
        "--cluster-slots",
        &slots,
        "--cluster-yes",
    ]);
    cluster_tool(&["del-node", &addr, &new_id]);
    {
        let all: Vec<&Proc> = nodes[..6].iter().collect();
        check_passes(&nodes[0], &all);
        wait_until(
            "the removed node is forgotten",
            Duration::from_secs(10),
            &all,
            || all.iter().all(|n| n.view_of(&new_id).is_none()),
        );
    }

    // A migration left half done: slot of key:0 open on both sides, half of
    // its keys moved. `fix` finishes it.
    let slot = key_hash_slot(b"key:0");
    let m = masters(&nodes[0]);
    let owner = m
        .iter()
        .find(|(_, port, _)| {
            Conn::open(*port)
                .and_then(|mut c| c.call(&["GET", "key:0"]))
                .is_ok_and(|r| matches!(r, Reply::Bulk(Some(_))))
        })
        .cloned()
        .expect("a master holds key:0");
    let target = m
        .iter()
        .find(|(id, _, _)| *id != owner.0)
        .cloned()
        .expect("another master");
    let on = |port: u16, words: &[&str]| match Conn::open(port).and_then(|mut c| c.call(words)) {
        Ok(r) => r,
        Err(e) => panic!("{words:?} at {port}: {e}"),
    };
    let s = slot.to_string();
    assert_eq!(
        on(target.1, &["CLUSTER", "SETSLOT", &s, "IMPORTING", &owner.0]),
        Reply::Status("OK".into())
    );
    assert_eq!(
        on(owner.1, &["CLUSTER", "SETSLOT", &s, "MIGRATING", &target.0]),
        Reply::Status("OK".into())
    );
    let Reply::Array(keys) = on(owner.1, &["CLUSTER", "GETKEYSINSLOT", &s, "100"]) else {
        panic!("GETKEYSINSLOT is an array");
    };
    let keys: Vec<String> = keys.iter().map(Reply::text).collect();
    assert!(!keys.is_empty(), "slot {slot} holds keys");
    let half: Vec<&str> = keys
        .iter()
        .take(keys.len().div_ceil(2))
        .map(String::as_str)
        .collect();
    let port = target.1.to_string();
    let mut migrate = vec!["MIGRATE", "127.0.0.1", &port, "", "0", "5000", "KEYS"];
    migrate.extend(&half);
    assert_eq!(on(owner.1, &migrate), Reply::Status("OK".into()));
    let check = cli_output(&["--cluster", "check", &addr]);
    let text = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(text.contains("The following slots are open"), "{text}");
    cluster_tool(&["fix", &addr, "--cluster-yes"]);
    {
        let all: Vec<&Proc> = nodes[..6].iter().collect();
        check_passes(&nodes[0], &all);
    }

    stop.store(true, Ordering::Relaxed);
    let (done, errors) = client.join().expect("the client thread ends");
    assert!(errors.is_empty(), "the client saw errors: {errors:#?}");
    assert!(done > 0, "the client made no round trip");
    eprintln!("the client made {done} write-and-read round trips throughout");

    for i in 0..KEYS {
        let key = format!("key:{i}");
        match loader.call(&["GET", &key]) {
            Ok(Reply::Bulk(Some(v))) if v == format!("value:{i}").as_bytes() => {}
            other => panic!("{key} after resharding: {other:?}"),
        }
    }
    assert_eq!(dbsize_of_masters(&nodes[0]), (KEYS + LIVE_KEYS) as i64);
}

/// Keys move between clusterbus-node and redis-server in both directions:
/// a cluster of one master of each kind, `--cluster reshard` of 500 slots
/// from redis-server to clusterbus-node and of 500 back the other way, each
/// followed by a passing `--cluster check` and every key in place.
#[test]
fn keys_move_between_clusterbus_and_redis_server_both_ways() {
    require_redis_tools();
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().expect("dir")).collect();
    let nodes = [
        Proc::start(Kind::Redis, dirs[0].path(), 2000),
        Proc::start(Kind::Clusterbus, dirs[1].path(), 2000),
    ];
    let all: Vec<&Proc> = nodes.iter().collect();
    let ok = |r: String| assert_eq!(r.trim(), "OK");
    ok(nodes[0].cli(&["CLUSTER", "ADDSLOTSRANGE", "0", "8191"]));
    ok(nodes[1].cli(&["CLUSTER", "ADDSLOTSRANGE", "8192", "16383"]));
    let (port0, bus0) = (nodes[0].port.to_string(), nodes[0].bus_port.to_string());
    ok(nodes[1].cli(&["CLUSTER", "MEET", "127.0.0.1", &port0, &bus0]));
    wait_until("both nodes are ok", Duration::from_secs(20), &all, || {
        all.iter().all(|n| n.state_ok())
    });
    check_passes(&nodes[0], &all);
    let mut client = RoutingClient::new(nodes[0].port);
    let total = 2_000;
    for i in 0..total {
        let (key, value) = (format!("key:{i}"), format!("value:{i}"));
        match client.call(&["SET", &key, &value]) {
            Ok(Reply::Status(s)) if s == "OK" => {}
            other => panic!("loading {key}: {other:?}"),
        }
    }
    let ids = [nodes[0].id(), nodes[1].id()];
    let addr = nodes[0].addr();
    for (from, to) in [(0, 1), (1, 0)] {
        cluster_tool(&[
            "reshard",
            &addr,
            "--cluster-from",
            &ids[from],
            "--cluster-to",
            &ids[to],
            "--cluster-slots",
            "500",
            "--cluster-yes",
        ]);
        check_passes(&nodes[0], &all);
        let m = masters(&nodes[0]);
        let slots = |id: &str| m.iter().find(|(i, _, _)| i == id).map_or(0, |(_, _, s)| *s);
        let expected = if to == 1 { 8192 + 500 } else { 8192 };
        assert_eq!(
            slots(&ids[1]),
            expected,
            "clusterbus-node's slots after {from}->{to}"
        );
        for i in 0..total {
            let key = format!("key:{i}");
            match client.call(&["GET", &key]) {
                Ok(Reply::Bulk(Some(v))) if v == format!("value:{i}").as_bytes() => {}
                other => panic!("{key} after moving slots {from}->{to}: {other:?}"),
            }
        }
        assert_eq!(dbsize_of_masters(&nodes[0]), total as i64);
    }
}
