//! Live tests. The tap's own tests run it between two sockets of the test
//! and compare the bytes on both sides; the scenario tests run real
//! redis-server 7.0 and clusterbus-node clusters, one at a time (they are
//! timing-sensitive and the machine may have two cores), and assert each
//! scenario's milestones from the recorded frames.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Mutex;
use std::time::Duration;

use clusterbus_node::codec::{encode, Body, Message, SlotBitmap, NODE_NAME_LEN};

use super::milestones::{all_seen, frames};
use super::observe::{Event, Fate, Recorder};
use super::procs::Kind;
use super::rules::Nodes;
use super::scenarios::Setup;
use super::tap::Tap;
use clusterbus_node::codec::MessageType;

/// One live cluster at a time.
static ONE_CLUSTER: Mutex<()> = Mutex::new(());
/// The node timeout of the scenario tests, ms.
const NODE_TIMEOUT_MS: u64 = 1000;
const IO_LIMIT: Duration = Duration::from_secs(10);

fn id(c: u8) -> [u8; NODE_NAME_LEN] {
    [c; NODE_NAME_LEN]
}

fn frame(sender: u8, body: Body) -> Vec<u8> {
    let mut slots = SlotBitmap::empty();
    slots.insert(7);
    let header = super::cost::master_header(sender, slots);
    encode(&Message { header, body })
}

fn ping(sender: u8) -> Vec<u8> {
    let (gossip, extensions) = (vec![], vec![]);
    frame(sender, Body::Ping { gossip, extensions })
}

/// A tap for nodes `a` (index 0, behind a listener of the test) and `b`
/// (index 1), and the connection b -> tap -> listener.
fn tap_between() -> (Tap, Recorder, TcpStream, TcpStream) {
    let backend = TcpListener::bind("127.0.0.1:0").expect("bind a test listener");
    let port = backend.local_addr().expect("listener address").port();
    let rec = Recorder::new(2);
    rec.set_id(0, "a".repeat(40));
    rec.set_id(1, "b".repeat(40));
    let tap = Tap::start(vec![port, 1], rec.clone()).expect("start the tap");
    let client = TcpStream::connect(("127.0.0.1", tap.port(0))).expect("connect to the tap");
    let server = super::cost::accept_within(&backend, IO_LIMIT).expect("the tap connects on");
    for s in [&client, &server] {
        s.set_read_timeout(Some(IO_LIMIT)).expect("read timeout");
    }
    (tap, rec, client, server)
}

fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    s.read_exact(&mut buf).expect("read what the tap forwarded");
    buf
}

/// Nothing more arrives within `wait` (a bounded check of an absence).
fn assert_quiet(s: &mut TcpStream, wait: Duration) {
    s.set_read_timeout(Some(wait)).expect("read timeout");
    let mut b = [0u8; 1];
    match s.read(&mut b) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("expected nothing from the tap, got {other:?}"),
    }
    s.set_read_timeout(Some(IO_LIMIT)).expect("read timeout");
}

#[test]
fn tap_forwards_byte_exact_both_ways_and_records_what_it_cannot_decode() {
    let (_tap, rec, mut client, mut server) = tap_between();
    let mut unknown_type = ping(b'b');
    unknown_type[12..14].copy_from_slice(&99u16.to_be_bytes());
    let fail = frame(b'b', Body::Fail { nodename: id(b'a') });
    let mut sent = [ping(b'b'), unknown_type, fail].concat();
    sent.extend_from_slice(b"not a frame at all");
    client.write_all(&sent).expect("write to the tap");
    assert_eq!(
        read_n(&mut server, sent.len()),
        sent,
        "peer -> node bytes changed"
    );
    let mut back = frame(
        b'a',
        Body::Pong {
            gossip: vec![],
            extensions: vec![],
        },
    );
    back.extend_from_slice(&[0xff; 300]);
    server.write_all(&back).expect("write back through the tap");
    assert_eq!(
        read_n(&mut client, back.len()),
        back,
        "node -> peer bytes changed"
    );
    drop((client, server));
    let (events, _) = rec.events();
    let decoded: Vec<(&str, Option<usize>, Option<usize>)> = frames(&events)
        .map(|f| (f.msg_type, f.from, f.to))
        .collect();
    assert_eq!(
        decoded,
        vec![
            ("PING", Some(1), Some(0)),
            ("FAIL", Some(1), Some(0)),
            ("PONG", Some(0), Some(1))
        ]
    );
    let raw: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            Event::Raw { len, .. } => Some(*len),
            _ => None,
        })
        .collect();
    assert_eq!(
        raw,
        vec![2256, 18, 300],
        "the unknown type, the garbage, the garbage back"
    );
}

#[test]
fn hold_releases_in_order_and_drop_by_type_spares_the_rest() {
    let (tap, rec, mut client, mut server) = tap_between();
    let hold = tap.hold(Nodes::one(1), Nodes::one(0));
    let held: Vec<Vec<u8>> = (0..3u8)
        .map(|k| {
            let mut f = ping(b'b');
            f[32..40].copy_from_slice(&u64::from(k).to_be_bytes());
            f
        })
        .collect();
    client.write_all(&held.concat()).expect("write to the tap");
    assert_quiet(&mut server, Duration::from_millis(300));
    tap.release(hold);
    assert_eq!(
        read_n(&mut server, 3 * held[0].len()),
        held.concat(),
        "released out of order"
    );
    tap.drop_frames(
        Nodes::ALL,
        Nodes::one(0),
        vec![MessageType::FailoverAuthAck],
    );
    let ack = frame(b'b', Body::FailoverAuthAck);
    let pong = frame(
        b'b',
        Body::Pong {
            gossip: vec![],
            extensions: vec![],
        },
    );
    client
        .write_all(&[ack, pong.clone()].concat())
        .expect("write to the tap");
    assert_eq!(
        read_n(&mut server, pong.len()),
        pong,
        "the PONG after a dropped AUTH_ACK"
    );
    let cut = tap.cut(Nodes::one(0), Nodes::ALL);
    assert_eq!(cut, 1);
    let mut b = [0u8; 1];
    assert_eq!(
        server.read(&mut b).ok(),
        Some(0),
        "a cut closes the node's side"
    );
    let fates: Vec<Fate> = frames(&rec.events().0).map(|f| f.fate).collect();
    use Fate::*;
    assert_eq!(fates, vec![Held, Held, Held, Dropped, Forwarded]);
}

/// Runs a scenario and checks what every scenario must show.
fn scenario(kind: Kind, name: &str) -> super::Outcome {
    let _one = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let setup = Setup {
        seed: 1,
        masters: 3,
        replicas: 1,
    };
    let o = super::run(kind, name, NODE_TIMEOUT_MS, setup, dir.path())
        .unwrap_or_else(|e| panic!("{name} on {}: {e}", kind.name()));
    let summary = super::output::summary(&o);
    if o.error.is_some() || !all_seen(&o.milestones) {
        let kept = dir.keep();
        panic!(
            "{name} on {} did not finish:\n{summary}node logs in {}",
            kind.name(),
            kept.display()
        );
    }
    assert!(
        o.events.windows(2).all(|w| w[0].t_us() <= w[1].t_us()),
        "events are in time order"
    );
    let raw = o
        .events
        .iter()
        .filter(|e| matches!(e, Event::Raw { .. }))
        .count();
    assert_eq!(raw, 0, "every frame of {} decodes:\n{summary}", kind.name());
    let lines = super::output::trace_lines(&o).expect("trace");
    assert!(lines.starts_with("{\"format\":\"clusterbus-observed\",\"version\":1"));
    o
}

/// The model's verdict on what the scenario recorded (`crate::validate`),
/// read back from the trace's JSON lines as `live validate` reads a file.
fn verdict(o: &super::Outcome) -> crate::validate::Verdict {
    let lines = super::output::trace_lines(o).expect("trace");
    let t = crate::validate::observed::parse(&lines).expect("the trace reads back");
    crate::validate::validate(&t, crate::validate::MAX_INTERNAL, |_, _| {}).verdict
}

fn assert_validated(o: &super::Outcome) {
    let v = verdict(o);
    assert!(
        matches!(v, crate::validate::Verdict::Validated),
        "{} on {}: {v:?}",
        o.scenario,
        o.kind.name()
    );
}

fn assert_outside(o: &super::Outcome, why: &str) {
    match verdict(o) {
        crate::validate::Verdict::Outside { why: w, .. } => assert!(w.contains(why), "{w}"),
        other => panic!("expected outside the model ({why}), got {other:?}"),
    }
}

fn count(o: &super::Outcome, t: &str) -> usize {
    frames(&o.events).filter(|f| f.msg_type == t).count()
}

macro_rules! both_kinds {
    ($($redis:ident, $cb:ident, $name:literal, $check:expr;)*) => {$(
        #[test]
        fn $redis() {
            let o = scenario(Kind::Redis, $name);
            ($check)(&o);
        }
        #[test]
        fn $cb() {
            let o = scenario(Kind::Clusterbus, $name);
            ($check)(&o);
        }
    )*};
}

both_kinds! {
    form_3_redis, form_3_clusterbus, "form-3", |o: &super::Outcome| {
        assert!(count(o, "MEET") >= 2 && count(o, "FAIL") == 0);
        assert_validated(o);
    };
    create_3m3r_redis, create_3m3r_clusterbus, "create-3m3r", |o: &super::Outcome| {
        assert!(count(o, "MEET") >= 5);
        assert_outside(o, "6 nodes: the model holds at most 5");
    };
    failover_3m1r_redis, failover_3m1r_clusterbus, "failover-3m1r", |o: &super::Outcome| {
        assert!(count(o, "AUTH_ACK") >= 2, "a majority of 3 masters voted");
        assert_validated(o);
    };
    rejoin_redis, rejoin_clusterbus, "rejoin", |_o: &super::Outcome| {};
    pause_redis, pause_clusterbus, "pause", |_o: &super::Outcome| {};
    partition_redis, partition_clusterbus, "partition", |o: &super::Outcome| {
        assert!(frames(&o.events).any(|f| f.fate == Fate::Dropped));
    };
    contested_redis, contested_clusterbus, "contested-3m2r", |_o: &super::Outcome| {};
    manual_redis, manual_clusterbus, "manual-failover", |o: &super::Outcome| {
        assert_eq!(count(o, "MFSTART"), 1, "only the plain FAILOVER sends MFSTART");
        assert_outside(o, "manual failover is not in the model");
    };
    random_redis, random_clusterbus, "random", |o: &super::Outcome| {
        assert_eq!(o.milestones.len(), super::random::FAULTS);
    };
    lost_votes_redis, lost_votes_clusterbus, "lost-votes", |o: &super::Outcome| {
        assert!(frames(&o.events).any(|f| f.msg_type == "AUTH_ACK" && f.fate == Fate::Dropped));
    };
    collision_redis, collision_clusterbus, "collision", |o: &super::Outcome| {
        // Its milestones (all seen) are the double claim and its end.
        assert_outside(o, "two masters claim slots with configEpoch");
    };
}

#[test]
fn a_failing_run_leaves_no_process_behind_even_a_stopped_one() {
    let _one = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    super::procs::require_redis_tools().expect("redis-server 7.0");
    let dir = tempfile::tempdir().expect("temp dir");
    let pids = Mutex::new(Vec::new());
    let run = std::panic::catch_unwind(|| {
        let mut c = super::cluster::Cluster::start(Kind::Redis, 2, 1000, dir.path())
            .expect("start 2 nodes");
        c.stop(1).expect("SIGSTOP node 1");
        if let Ok(mut p) = pids.lock() {
            p.extend(c.nodes.iter().filter_map(|n| n.pid()));
        }
        panic!("a scenario fails here");
    });
    assert!(run.is_err());
    let pids = pids.into_inner().unwrap_or_default();
    assert_eq!(pids.len(), 2);
    for pid in pids {
        let alive = std::path::Path::new(&format!("/proc/{pid}")).exists();
        assert!(!alive, "process {pid} survived its cluster");
    }
}

#[test]
fn delayed_frames_arrive_whole_and_in_order() {
    let (tap, rec, mut client, mut server) = tap_between();
    tap.delay(Nodes::one(1), Nodes::ALL, Duration::from_millis(100));
    let sent = [ping(b'b'), frame(b'b', Body::FailoverAuthRequest)].concat();
    client.write_all(&sent).expect("write to the tap");
    assert_eq!(read_n(&mut server, sent.len()), sent);
    let events = rec.events().0;
    let seen: Vec<(&str, Fate)> = frames(&events).map(|f| (f.msg_type, f.fate)).collect();
    assert_eq!(
        seen,
        vec![("PING", Fate::Delayed), ("AUTH_REQUEST", Fate::Delayed)]
    );
}

/// Two clusterbus-node processes in the testing mode, behind a tap that
/// holds every frame, meet one step at a time: a frame moves only when the
/// stepper lets it through, and each node's state is read back after each
/// step.
#[test]
fn stepped_nodes_meet_one_frame_at_a_time() {
    use clusterbus_node::codec::flags;
    use clusterbus_node::core::{name_from_str, ClusterCommand, Event, GossipChoice};
    let _one = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("temp dir");
    let mut s = super::stepper::Stepper::start(2, dir.path(), 1000, 1_000_000).expect("start");
    let hs = name_from_str(&"e".repeat(40)).expect("an id");
    let meet = ClusterCommand::Meet {
        ip: "127.0.0.1".into(),
        port: s.port(1),
        cport: s.bus_port(1),
        handshake_id: hs,
    };
    assert_eq!(s.event(0, &Event::Command(meet)), Ok("OK".into()));
    s.event(0, &Event::Reconnect(hs)).expect("reconnect");
    let up = Event::LinkUp {
        peer: hs,
        gossip: GossipChoice::Explicit(vec![]),
    };
    s.event(0, &up).expect("link up");

    // The MEET waits in the tap; n1 has seen nothing.
    let held = s.in_flight(0, 1);
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0].msg.body.message_type(), MessageType::Meet);
    assert!(!held[0].held.on_receivers_outbound_link());
    std::thread::sleep(Duration::from_millis(200));
    s.read(1).expect("n1's state");
    assert_eq!(s.core(1).map(|c| c.nodes().count()), Some(1), "only itself");

    s.deliver(&held[0].held).expect("deliver the MEET");
    let n1 = s.core(1).expect("n1 is up");
    assert!(
        n1.nodes()
            .any(|e| e.has(flags::HANDSHAKE) && e.cport == s.bus_port(0)),
        "n1 met n0"
    );
    let pong = s.in_flight(1, 0);
    assert_eq!(pong.len(), 1, "{pong:?}");
    assert_eq!(pong[0].msg.body.message_type(), MessageType::Pong);
    assert!(pong[0].held.on_receivers_outbound_link(), "a reply");
    assert!(s.in_flight(0, 1).is_empty());

    s.deliver(&pong[0].held).expect("deliver the PONG");
    let n1_id = name_from_str(s.id(1)).expect("n1's id");
    let entry = s.core(0).and_then(|c| c.node(&n1_id)).expect("n0 knows n1");
    assert!(!entry.has(flags::HANDSHAKE), "n0's handshake is done");
    assert!(s.in_flight(1, 0).is_empty() && s.in_flight(0, 1).is_empty());
    // Delivering it again is refused: it is gone from the tap.
    assert!(s.deliver(&pong[0].held).is_err());

    // The clock a node sees is the stepper's.
    let later = s.clock(0) + 5_000;
    s.advance(0, later);
    let ping = Event::PingDue {
        peer: n1_id,
        gossip: vec![],
    };
    s.event(0, &ping).expect("ping");
    let entry = s.core(0).and_then(|c| c.node(&n1_id)).expect("n0 knows n1");
    assert_eq!(entry.ping_sent_ms, Some(later));
    assert_eq!(s.in_flight(0, 1).len(), 1, "the PING waits in the tap");

    // A crash and a restart from nodes.conf keep what n0 saved.
    s.crash(0);
    assert!(s.core(0).is_none());
    s.restart(0).expect("restart n0");
    assert!(
        s.core(0).and_then(|c| c.node(&n1_id)).is_some(),
        "n0 still knows n1"
    );
}
