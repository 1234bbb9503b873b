//! CLIENT PAUSE and UNPAUSE on real processes, redis-server 7.0 and
//! clusterbus-node side by side, each a one-node cluster owning every slot.
//! The same behaviour is asserted of both: during `PAUSE ms WRITE` reads are
//! served and a write waits, until `CLIENT UNPAUSE` from another connection
//! lets it through; during `PAUSE ms ALL` every request waits (UNPAUSE
//! too) until the pause ends by itself.

mod common;
mod procs;

use std::thread;
use std::time::{Duration, Instant};

use common::{Conn, Reply};
use procs::{side_by_side, Proc};

/// How long a pause lasts: long enough that "answered before it ended" and
/// "held until it ended" cannot be confused on a loaded machine.
const PAUSE_MS: u64 = 1500;

fn conn(node: &Proc) -> Conn {
    Conn::open(node.port).expect("connect")
}

fn ok(reply: std::io::Result<Reply>) {
    assert_eq!(reply.expect("a reply"), Reply::Status("OK".into()));
}

/// Runs `words` on a new connection in a thread; its reply and how long it took.
fn timed(node: &Proc, words: &'static [&'static str]) -> thread::JoinHandle<(Reply, Duration)> {
    let mut c = conn(node);
    thread::spawn(move || {
        let start = Instant::now();
        let reply = c.call(words).expect("a reply");
        (reply, start.elapsed())
    })
}

fn write_pause_holds_writes_until_unpause(node: &Proc) {
    let kind = node.kind;
    let mut admin = conn(node);
    ok(admin.call(&["SET", "k", "before"]));
    let paused = Instant::now();
    let ms = PAUSE_MS.to_string();
    ok(admin.call(&["CLIENT", "PAUSE", &ms, "WRITE"]));
    let read = timed(node, &["GET", "k"]);
    let write = timed(node, &["SET", "k", "during"]);
    let (reply, took) = read.join().expect("reader");
    assert_eq!(reply, Reply::Bulk(Some(b"before".to_vec())), "{kind:?}");
    assert!(
        took < Duration::from_millis(PAUSE_MS),
        "{kind:?}: a read waited {took:?}"
    );
    thread::sleep(Duration::from_millis(PAUSE_MS / 3));
    assert!(
        !write.is_finished(),
        "{kind:?}: a write went through the pause"
    );
    ok(conn(node).call(&["CLIENT", "UNPAUSE"]));
    let (reply, _) = write.join().expect("writer");
    assert_eq!(reply, Reply::Status("OK".into()), "{kind:?}");
    assert!(
        paused.elapsed() < Duration::from_millis(PAUSE_MS),
        "{kind:?}: the write waited for the pause's end, not for UNPAUSE"
    );
    assert_eq!(
        conn(node).call(&["GET", "k"]).expect("a reply"),
        Reply::Bulk(Some(b"during".to_vec()))
    );
}

fn all_pause_holds_everything_until_it_ends(node: &Proc) {
    let kind = node.kind;
    let ms = PAUSE_MS.to_string();
    let paused = Instant::now();
    ok(conn(node).call(&["CLIENT", "PAUSE", &ms, "ALL"]));
    let ping = timed(node, &["PING"]);
    let unpause = timed(node, &["CLIENT", "UNPAUSE"]);
    let (reply, _) = ping.join().expect("pinger");
    let answered = paused.elapsed();
    assert_eq!(reply, Reply::Status("PONG".into()), "{kind:?}");
    assert!(
        answered >= Duration::from_millis(PAUSE_MS),
        "{kind:?}: PING answered {answered:?} after the pause began, within it"
    );
    let (reply, _) = unpause.join().expect("unpauser");
    assert_eq!(reply, Reply::Status("OK".into()), "{kind:?}");
}

#[test]
fn client_pause_holds_what_redis_holds() {
    let nodes = side_by_side();
    for node in [&nodes.redis, &nodes.ours] {
        write_pause_holds_writes_until_unpause(node);
        all_pause_holds_everything_until_it_ends(node);
    }
}
