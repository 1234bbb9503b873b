//! The testing mode of the node binary (`--cluster-test-control yes`): its
//! clock and timers stand still, a client injects one core event at a time
//! and gets the answer once its effects are written (nodes.conf synced,
//! frames on their sockets), and reads the whole core back. Two real
//! processes meet this way, one step at a time, over real TCP.

mod procs;

use std::process::Command;
use std::thread::sleep;
use std::time::Duration;

use clusterbus_node::codec::flags;
use clusterbus_node::core::{name_from_str, Core};
use procs::{free_port, require_redis_tools, Kind, Proc};
use serde_json::Value;

const CLOCK_START: u64 = 1_000_000;

fn testing_node(dir: &std::path::Path) -> Proc {
    let start = CLOCK_START.to_string();
    let extra = [
        "--cluster-test-control",
        "yes",
        "--cluster-test-clock-ms",
        &start,
    ];
    Proc::start_with(
        Kind::Clusterbus,
        dir,
        (free_port(), free_port()),
        1000,
        &extra,
    )
}

/// `CLUSTERBUS.TEST STATE`, parsed.
fn state(p: &Proc) -> (Value, Core) {
    let text = p.cli(&["CLUSTERBUS.TEST", "STATE"]);
    let v: Value = serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!("STATE is not JSON ({e}): {text:?}\n{}", p.log());
    });
    let core = Core::from_json(&v["core"].to_string()).expect("the core parses back");
    (v, core)
}

fn event(p: &Proc, json: &str) -> String {
    p.cli(&["CLUSTERBUS.TEST", "EVENT", json])
        .trim()
        .to_string()
}

#[test]
fn two_nodes_meet_one_injected_step_at_a_time() {
    require_redis_tools();
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let a = testing_node(dirs[0].path());
    let b = testing_node(dirs[1].path());
    let (a_id, b_id) = (a.id(), b.id());

    let (s, _) = state(&a);
    assert_eq!(s["clock_ms"], CLOCK_START);
    assert_eq!(s["frames_in"], 0);

    // The reply to ADDSLOTS comes after nodes.conf is written and synced.
    assert_eq!(event(&a, r#"{"Command":{"AddSlots":[0,1,2]}}"#), "OK");
    let conf = std::fs::read_to_string(dirs[0].path().join("nodes.conf")).unwrap();
    assert!(
        conf.contains(" 0-2"),
        "nodes.conf has the slots at the reply: {conf}"
    );

    // MEET: a handshake node with the id the driver chose. Cron would
    // open its link; here the driver does (Reconnect), and the first MEET
    // on it waits for the driver's LinkUp.
    let hs = "f".repeat(40);
    let meet = format!(
        r#"{{"Command":{{"Meet":{{"ip":"127.0.0.1","port":{},"cport":{},"handshake_id":"{hs}"}}}}}}"#,
        b.port, b.bus_port
    );
    assert_eq!(event(&a, &meet), "OK");
    let (_, core) = state(&a);
    let entry = core
        .node(&name_from_str(&hs).unwrap())
        .expect("the handshake node");
    assert!(entry.has(flags::HANDSHAKE) && entry.cport == b.bus_port);
    let reconnect = format!(r#"{{"Reconnect":"{hs}"}}"#);
    assert_eq!(event(&a, &reconnect), "OK");
    sleep(Duration::from_millis(300));
    let (s, _) = state(&b);
    assert_eq!(s["frames_in"], 0, "nothing is sent before LinkUp");

    let link_up = format!(r#"{{"LinkUp":{{"peer":"{hs}","gossip":{{"Explicit":[]}}}}}}"#);
    assert_eq!(event(&a, &link_up), "OK");
    // B handles the MEET and its PONG is written; then A handles the PONG.
    assert_eq!(b.cli(&["CLUSTERBUS.TEST", "SYNC", "1"]).trim(), "OK");
    assert_eq!(a.cli(&["CLUSTERBUS.TEST", "SYNC", "1"]).trim(), "OK");
    let (s, core) = state(&a);
    assert_eq!(s["frames_in"], 1);
    assert_eq!(s["frames_written"], 1, "A wrote one MEET");
    let b_entry = core
        .node(&name_from_str(&b_id).unwrap())
        .expect("A knows B");
    assert!(!b_entry.has(flags::HANDSHAKE), "the handshake is done in A");
    let (s, core) = state(&b);
    assert_eq!(s["frames_written"], 1, "B wrote one PONG");
    assert!(
        core.nodes()
            .any(|e| e.has(flags::HANDSHAKE) && e.cport == a.bus_port),
        "B met A and holds it in handshake"
    );

    // The clock and the timers stand still: no ping, no timeout.
    sleep(Duration::from_millis(1500));
    for (p, frames) in [(&a, 1), (&b, 1)] {
        let (s, _) = state(p);
        assert_eq!(s["clock_ms"], CLOCK_START);
        assert_eq!(s["frames_in"], frames, "{}", p.log());
    }
    // CLOCK moves it forward, never back.
    let later = (CLOCK_START + 5_000).to_string();
    assert_eq!(a.cli(&["CLUSTERBUS.TEST", "CLOCK", &later]).trim(), "OK");
    assert_eq!(a.cli(&["CLUSTERBUS.TEST", "CLOCK", "5"]).trim(), "OK");
    assert_eq!(state(&a).0["clock_ms"], CLOCK_START + 5_000);

    // A ping the driver asks for reaches B and is answered.
    let ping = format!(r#"{{"PingDue":{{"peer":"{b_id}","gossip":[]}}}}"#);
    assert_eq!(event(&a, &ping), "OK");
    assert_eq!(b.cli(&["CLUSTERBUS.TEST", "SYNC", "2"]).trim(), "OK");
    assert_eq!(a.cli(&["CLUSTERBUS.TEST", "SYNC", "2"]).trim(), "OK");
    assert_eq!(state(&a).0["frames_written"], 2, "the MEET and the PING");

    // B finishes its side: it links to the handshake node it holds for A
    // (named from the mode's counter) and learns A's id from the PONG.
    let (_, core) = state(&b);
    let hs_b = core
        .nodes()
        .find(|e| e.has(flags::HANDSHAKE))
        .map(|e| clusterbus_node::core::name_str(&e.name))
        .expect("B's handshake node");
    assert_eq!(event(&b, &format!(r#"{{"Reconnect":"{hs_b}"}}"#)), "OK");
    let link_up = format!(r#"{{"LinkUp":{{"peer":"{hs_b}","gossip":{{"Explicit":[]}}}}}}"#);
    assert_eq!(event(&b, &link_up), "OK");
    assert_eq!(a.cli(&["CLUSTERBUS.TEST", "SYNC", "3"]).trim(), "OK");
    assert_eq!(b.cli(&["CLUSTERBUS.TEST", "SYNC", "3"]).trim(), "OK");
    let (_, core) = state(&b);
    let a_in_b = core
        .node(&name_from_str(&a_id).unwrap())
        .expect("B knows A");
    assert!(
        !a_in_b.has(flags::HANDSHAKE),
        "B's handshake with A is done"
    );
    // Slots come with the next header of a known sender.
    assert!(!a_in_b.slots.contains(1));
    assert_eq!(event(&a, &ping), "OK");
    assert_eq!(b.cli(&["CLUSTERBUS.TEST", "SYNC", "4"]).trim(), "OK");
    let (_, core) = state(&b);
    let a_in_b = core
        .node(&name_from_str(&a_id).unwrap())
        .expect("B knows A");
    assert!(a_in_b.slots.contains(1), "B learnt A's slots");
}

#[test]
fn bad_requests_get_errors_and_the_mode_is_off_by_default() {
    require_redis_tools();
    let dir = tempfile::tempdir().unwrap();
    let a = testing_node(dir.path());
    for (args, expect) in [
        (
            vec!["CLUSTERBUS.TEST", "EVENT", "{not json"],
            "does not parse",
        ),
        (vec!["CLUSTERBUS.TEST", "CLOCK", "soon"], "not a number"),
        (vec!["CLUSTERBUS.TEST", "FLY"], "unknown verb"),
        (vec!["CLUSTERBUS.TEST"], "unknown verb"),
    ] {
        let out = a.cli(&args);
        assert!(out.contains(expect), "{args:?}: {out:?}");
    }
    // A SYNC for frames that never come answers with an error in time.
    let out = a.cli(&["CLUSTERBUS.TEST", "SYNC", "1"]);
    assert!(out.contains("0 of 1 frames arrived"), "{out:?}");
    assert_eq!(a.cli(&["PING"]).trim(), "PONG", "the node still serves");

    let plain_dir = tempfile::tempdir().unwrap();
    let plain = Proc::start(Kind::Clusterbus, plain_dir.path(), 1000);
    let out = plain.cli(&["CLUSTERBUS.TEST", "STATE"]);
    assert!(out.contains("unknown command"), "{out:?}");
}

#[test]
fn the_testing_mode_is_refused_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("timeout")
        .arg("20")
        .arg(env!("CARGO_BIN_EXE_clusterbus-node"))
        .args(["--bind", "0.0.0.0", "--port", &free_port().to_string()])
        .args(["--cluster-test-control", "yes", "--dir"])
        .arg(dir.path())
        .output()
        .expect("run clusterbus-node");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // A setting that is refused exits 2, as a bad flag does.
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("only a loopback address"), "{stderr}");
    assert!(
        !dir.path().join("nodes.conf").exists(),
        "a refused start writes nothing"
    );
}
