//! Bad input never takes a node down: random bytes, a bad signature, an
//! oversized totlen and a truncated frame on the bus port, and garbage on
//! the RESP port. Each time the node closes that connection (with one log
//! line for the bus) and keeps serving: a follow-up PING and CLUSTER INFO
//! are answered.

mod procs;

use procs::{require_redis_tools, Kind, Proc};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// Sends `bytes` to `port`, half-closes when `eof`, and returns what the node
/// answered before it closed the connection (None: it did not close it in 5 s).
fn send_and_wait_close(port: u16, bytes: &[u8], eof: bool) -> Option<Vec<u8>> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(bytes).expect("write");
    if eof {
        s.shutdown(Shutdown::Write).expect("half-close");
    }
    let mut got = Vec::new();
    match s.read_to_end(&mut got) {
        Ok(_) => Some(got),
        Err(_) => None,
    }
}

fn still_serving(node: &Proc) {
    assert_eq!(node.cli(&["PING"]).trim(), "PONG");
    let known = node.info_field("cluster-info", "cluster_known_nodes");
    assert_eq!(known.as_deref(), Some("1"), "CLUSTER INFO after bad input");
}

fn header(totlen: u32) -> Vec<u8> {
    let mut h = b"RCmb".to_vec();
    h.extend_from_slice(&totlen.to_be_bytes());
    h
}

#[test]
fn bad_bus_frames_close_the_link_and_the_node_keeps_serving() {
    require_redis_tools();
    let dir = tempfile::tempdir().expect("temp dir");
    let node = Proc::start(Kind::Clusterbus, dir.path(), 1000);
    let mut noise = vec![0u8; 4096];
    let mut x: u32 = 12345;
    for b in noise.iter_mut() {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        *b = (x >> 16) as u8;
    }
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("random bytes", noise, false),
        (
            "bad signature",
            [b"XXmb".as_slice(), &2256u32.to_be_bytes(), &[0u8; 2248]].concat(),
            false,
        ),
        ("totlen over the cap", header(u32::MAX), false),
        ("totlen below a header", header(100), false),
        (
            "truncated frame",
            [header(2256).as_slice(), &[0u8; 500]].concat(),
            true,
        ),
    ];
    for (what, bytes, eof) in cases {
        let answer = send_and_wait_close(node.bus_port, &bytes, eof);
        assert_eq!(
            answer,
            Some(Vec::new()),
            "{what}: the bus link must be closed, with nothing sent"
        );
        still_serving(&node);
    }
    let log = node.log();
    let closes = log.lines().filter(|l| l.contains("closing it")).count();
    assert_eq!(closes, 5, "one log line per closed link:\n{log}");
}

#[test]
fn garbage_on_the_client_port_gets_an_error_and_the_node_keeps_serving() {
    require_redis_tools();
    let dir = tempfile::tempdir().expect("temp dir");
    let node = Proc::start(Kind::Clusterbus, dir.path(), 1000);
    let answer = send_and_wait_close(node.port, b"*2\r\n$3\r\nGET\r\n:12\r\n", false);
    let text = String::from_utf8_lossy(&answer.expect("closed")).into_owned();
    assert!(text.starts_with("-ERR Protocol error"), "{text:?}");
    still_serving(&node);
    let answer = send_and_wait_close(node.port, b"*-5x\r\n", false);
    assert!(String::from_utf8_lossy(&answer.expect("closed")).starts_with("-ERR Protocol error"));
    still_serving(&node);
    // A command error is only a reply: the connection stays.
    let mut s = TcpStream::connect(("127.0.0.1", node.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(b"*1\r\n$7\r\nNOSUCHC\r\n*1\r\n$4\r\nPING\r\n")
        .expect("write");
    let mut buf = vec![0u8; 256];
    let mut got = Vec::new();
    while !got.ends_with(b"+PONG\r\n") {
        let n = s.read(&mut buf).expect("read");
        assert!(
            n > 0,
            "connection closed after a command error: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    assert!(
        got.starts_with(b"-ERR unknown command"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
}
