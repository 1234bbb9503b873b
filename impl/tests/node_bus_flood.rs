//! A peer that floods a node's bus port and never reads: the node must not
//! queue answers for it without limit. It frees the link once
//! `CLUSTER_LINK_SENDBUF_LIMIT_BYTES` are waiting (the flooder's writes then
//! fail), logs why, and goes on serving clients. (The RSS this saves is
//! measured by `benches/cluster/bus_flood.sh`.)

mod procs;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use procs::{require_redis_tools, Kind, Proc};

/// The flooder gives up after this many frames (225 MB): far more than the
/// node may queue (16 MiB of PONGs, about 7,000, plus the sockets' buffers).
const MAX_FRAMES: usize = 100_000;

/// A 2256-byte PING (Redis 7.0's clusterMsg) from an unknown sender.
fn ping_frame() -> Vec<u8> {
    let mut h = b"RCmb".to_vec();
    h.extend_from_slice(&2256u32.to_be_bytes());
    for v in [1u16, 7000, 0, 0] {
        h.extend_from_slice(&v.to_be_bytes());
    }
    for v in [1u64, 1, 0] {
        h.extend_from_slice(&v.to_be_bytes());
    }
    h.extend_from_slice(&[b'f'; 40]);
    h.extend_from_slice(&[0; 2048 + 40]);
    let mut ip = b"127.0.0.1".to_vec();
    ip.resize(46, 0);
    h.extend_from_slice(&ip);
    h.extend_from_slice(&[0; 32]);
    for v in [0u16, 17000, 1] {
        h.extend_from_slice(&v.to_be_bytes());
    }
    h.extend_from_slice(&[0; 4]);
    assert_eq!(h.len(), 2256);
    h
}

#[test]
fn a_peer_that_never_reads_gets_its_link_freed() {
    require_redis_tools();
    let root = tempfile::tempdir().expect("temp dir");
    let node = Proc::start(Kind::Clusterbus, &root.path().join("n0"), 15_000);
    let mut bus = TcpStream::connect(("127.0.0.1", node.bus_port)).expect("connect to the bus");
    bus.set_write_timeout(Some(Duration::from_secs(30)))
        .expect("write timeout");
    let batch = ping_frame().repeat(100);
    let mut sent = 0;
    while sent < MAX_FRAMES && bus.write_all(&batch).is_ok() {
        sent += 100;
    }
    assert!(
        sent < MAX_FRAMES,
        "the node took {sent} PINGs without reading its answers away: {}",
        node.log()
    );
    assert_eq!(node.cli(&["PING"]).trim(), "PONG", "{}", node.log());
    assert!(
        node.log().contains("the peer is not reading"),
        "{}",
        node.log()
    );
}
