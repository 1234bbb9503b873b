//! WATCH and UNWATCH on real processes: the same script of two clients run
//! against a redis-server 7.0 and a clusterbus-node side by side (each a
//! one-node cluster owning every slot), every reply compared. A change to
//! a watched key by another client, its expiry or FLUSHALL make EXEC answer
//! a null array; UNWATCH, an untouched key, a DEL of a missing key or a
//! FLUSHALL while the watched key does not exist do not.

mod common;
mod procs;

use std::thread;
use std::time::Duration;

use common::{Conn, Reply};
use procs::{side_by_side, Proc};

/// One step: which client (0 or 1) sends what, or a pause.
enum Step {
    Send(usize, &'static [&'static str]),
    Sleep(u64),
}
use Step::{Send, Sleep};

/// The script; `{t}` keeps every key in one slot.
const SCRIPT: &[Step] = &[
    Send(0, &["SET", "{t}k", "1"]),
    Send(0, &["WATCH", "{t}k"]),
    Send(1, &["SET", "{t}k", "2"]),
    Send(0, &["MULTI"]),
    Send(0, &["SET", "{t}k", "3"]),
    Send(0, &["EXEC"]),
    Send(0, &["GET", "{t}k"]),
    // Untouched: EXEC runs.
    Send(0, &["WATCH", "{t}k", "{t}other"]),
    Send(1, &["GET", "{t}k"]),
    Send(1, &["DEL", "{t}missing"]),
    Send(0, &["MULTI"]),
    Send(0, &["SET", "{t}k", "4"]),
    Send(0, &["EXEC"]),
    // UNWATCH: a later change does not count.
    Send(0, &["WATCH", "{t}k"]),
    Send(0, &["UNWATCH"]),
    Send(1, &["SET", "{t}k", "5"]),
    Send(0, &["MULTI"]),
    Send(0, &["INCR", "{t}k"]),
    Send(0, &["EXEC"]),
    // WATCH inside MULTI is refused and leaves the transaction clean.
    Send(0, &["MULTI"]),
    Send(0, &["WATCH", "{t}k"]),
    Send(0, &["EXEC"]),
    // A watched key that expires breaks the watch.
    Send(0, &["SET", "{t}short", "x", "PX", "100"]),
    Send(0, &["WATCH", "{t}short"]),
    Sleep(300),
    Send(0, &["MULTI"]),
    Send(0, &["SET", "{t}k", "6"]),
    Send(0, &["EXEC"]),
    // DISCARD ends the watch.
    Send(0, &["WATCH", "{t}k"]),
    Send(0, &["MULTI"]),
    Send(0, &["DISCARD"]),
    Send(1, &["SET", "{t}k", "7"]),
    Send(0, &["MULTI"]),
    Send(0, &["GET", "{t}k"]),
    Send(0, &["EXEC"]),
    // A change by the watching client itself counts too.
    Send(0, &["WATCH", "{t}k"]),
    Send(0, &["SET", "{t}k", "8"]),
    Send(0, &["MULTI"]),
    Send(0, &["GET", "{t}k"]),
    Send(0, &["EXEC"]),
    // FLUSHALL breaks the watches on the keys it removes, only those.
    Send(0, &["WATCH", "{t}k"]),
    Send(1, &["FLUSHALL"]),
    Send(0, &["MULTI"]),
    Send(0, &["SET", "{t}k", "9"]),
    Send(0, &["EXEC"]),
    Send(0, &["WATCH", "{t}other"]),
    Send(1, &["FLUSHALL"]),
    Send(0, &["MULTI"]),
    Send(0, &["SET", "{t}k", "10"]),
    Send(0, &["EXEC"]),
    // Keys of one WATCH must share a slot.
    Send(0, &["WATCH", "a", "b"]),
    Send(0, &["WATCH"]),
    Send(0, &["UNWATCH", "x"]),
];

fn run(node: &Proc) -> Vec<Reply> {
    let mut clients = [Conn::open(node.port), Conn::open(node.port)].map(|c| c.expect("connect"));
    let mut replies = Vec::new();
    for step in SCRIPT {
        match step {
            Send(c, words) => replies.push(clients[*c].call(words).expect("a reply")),
            Sleep(ms) => thread::sleep(Duration::from_millis(*ms)),
        }
    }
    replies
}

#[test]
fn watch_breaks_exec_where_redis_does() {
    let nodes = side_by_side();
    let (theirs, ours) = (run(&nodes.redis), run(&nodes.ours));
    let sent: Vec<&[&str]> = SCRIPT
        .iter()
        .filter_map(|s| match s {
            Send(_, w) => Some(*w),
            Sleep(_) => None,
        })
        .collect();
    for (k, ((words, r), o)) in sent.iter().zip(&theirs).zip(&ours).enumerate() {
        assert_eq!(
            o, r,
            "step {k}, {words:?}: clusterbus-node against redis-server"
        );
    }
    // The script does what it says: the first EXEC is refused, the second
    // runs.
    assert_eq!(ours[5], Reply::NullArray);
    assert_eq!(ours[12], Reply::Array(vec![Reply::Status("OK".into())]));
    let refused = ours.iter().filter(|r| **r == Reply::NullArray).count();
    assert_eq!(refused, 4, "EXECs refused: {ours:?}");
}
