//! The dispatcher: lookup, arity, AUTH, routing and the replica checks, in
//! the order redis-server 7.0.15 applies them (observed on loopback).

use super::testkit::{two_shards, Node};
use super::*;

#[test]
fn unknown_command_quotes_name_and_arguments_with_a_trailing_blank() {
    let mut n = Node::master();
    assert_eq!(
        n.bytes(&["foo", "a", "b"]),
        b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
    );
    assert_eq!(
        n.bytes(&["foo"]),
        b"-ERR unknown command 'foo', with args beginning with: \r\n"
    );
    assert_eq!(
        n.bytes(&[""]),
        b"-ERR unknown command '', with args beginning with: \r\n"
    );
    // Line breaks in arguments become blanks on the wire.
    assert_eq!(
        n.bytes(&["foo", "a\r\nb"]),
        b"-ERR unknown command 'foo', with args beginning with: 'a  b' \r\n"
    );
}

#[test]
fn unknown_command_text_is_clipped_at_128_bytes() {
    let long = "x".repeat(200);
    let args = vec![
        long.as_bytes().to_vec(),
        vec![b'y'; 100],
        vec![b'z'; 100],
        b"w".to_vec(),
    ];
    let Frame::Error(text) = unknown_command(&args) else {
        panic!("an error reply");
    };
    let name = "x".repeat(128);
    let quoted = format!("'{}' '{}' ", "y".repeat(100), "z".repeat(25));
    assert_eq!(
        text,
        format!("ERR unknown command '{name}', with args beginning with: {quoted}")
    );
}

#[test]
fn arity_errors_name_the_command_in_lowercase() {
    let mut n = Node::master();
    assert_eq!(
        n.bytes(&["GET"]),
        b"-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(
        n.bytes(&["echo", "a", "b"]),
        b"-ERR wrong number of arguments for 'echo' command\r\n"
    );
    assert_eq!(
        n.bytes(&["cluster"]),
        b"-ERR wrong number of arguments for 'cluster' command\r\n"
    );
}

#[test]
fn noauth_comes_after_lookup_and_arity() {
    let mut n = Node::master();
    n.facts.requirepass = Some("secret".into());
    let noauth = b"-NOAUTH Authentication required.\r\n";
    assert_eq!(n.bytes(&["ping"]), noauth);
    assert_eq!(n.bytes(&["get", "k"]), noauth);
    assert_eq!(n.bytes(&["cluster", "info"]), noauth);
    assert_eq!(
        n.bytes(&["foo", "a"]),
        b"-ERR unknown command 'foo', with args beginning with: 'a' \r\n"
    );
    assert_eq!(
        n.bytes(&["get"]),
        b"-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(n.run(&["quit"]), Outcome::ReplyAndClose(Frame::ok()));
    assert_eq!(n.bytes(&["auth", "secret"]), b"+OK\r\n");
    assert_eq!(n.bytes(&["ping"]), b"+PONG\r\n");
}

#[test]
fn keyed_commands_are_routed_before_their_own_checks() {
    let (m0, _, _) = two_shards();
    let mut n = Node::with_core(m0);
    // "foo" is in slot 12182, served by master 1 on port 30001; the syntax
    // error of the SET is never looked at, as in Redis.
    assert_eq!(
        n.bytes(&["set", "foo", "v", "bogus"]),
        b"-MOVED 12182 127.0.0.1:30001\r\n"
    );
    assert_eq!(
        n.bytes(&["set", "b", "v", "bogus"]),
        b"-ERR syntax error\r\n"
    );
    assert_eq!(
        n.run(&["set", "b", "v"]),
        Outcome::Write {
            reply: Frame::ok(),
            propagate: vec![b"SET".to_vec(), b"b".to_vec(), b"v".to_vec()],
        }
    );
}

#[test]
fn an_unserved_slot_and_a_failed_cluster() {
    let mut n = Node::with_core(super::testkit::lone_master(0..=8191));
    assert_eq!(
        n.bytes(&["get", "foo"]),
        b"-CLUSTERDOWN Hash slot not served\r\n"
    );
    assert_eq!(
        n.bytes(&["get", "b"]),
        b"-CLUSTERDOWN The cluster is down\r\n"
    );
    assert_eq!(
        n.bytes(&["dbsize"]),
        b":0\r\n",
        "keyless commands are not routed"
    );
}

#[test]
fn a_replica_redirects_writes_and_serves_reads_after_readonly() {
    let mut n = Node::replica();
    n.set_key("b");
    let moved = b"-MOVED 3300 127.0.0.1:30000\r\n";
    assert_eq!(n.bytes(&["get", "b"]), moved);
    assert_eq!(n.bytes(&["readonly"]), b"+OK\r\n");
    assert_eq!(n.bytes(&["get", "b"]), b"$1\r\nv\r\n");
    assert_eq!(n.bytes(&["set", "b", "w"]), moved);
    assert_eq!(
        n.bytes(&["get", "foo"]),
        b"-MOVED 12182 127.0.0.1:30001\r\n"
    );
    assert_eq!(
        n.bytes(&["flushdb"]),
        b"-READONLY You can't write against a read only replica.\r\n"
    );
}

#[test]
fn the_replication_stream_is_applied_without_checks() {
    let mut n = Node::replica();
    let req = Request {
        args: vec![
            b"SET".to_vec(),
            b"b".to_vec(),
            b"v".to_vec(),
            b"PXAT".to_vec(),
            b"1800000000000".to_vec(),
        ],
    };
    let mut ctx = Context {
        core: &n.core,
        db: &mut n.db,
        now_ms: n.now_ms,
        entropy: 0,
        session: &mut n.session,
        facts: &n.facts,
    };
    let out = execute_replicated(&mut ctx, &req);
    assert!(matches!(out, Outcome::Write { .. }), "{out:?}");
    let expire = Request {
        args: vec![b"PEXPIREAT".to_vec(), b"b".to_vec(), b"5".to_vec()],
    };
    let out = execute_replicated(&mut ctx, &expire);
    let propagate = vec![b"PEXPIREAT".to_vec(), b"b".to_vec(), b"5".to_vec()];
    assert_eq!(
        out,
        Outcome::Write {
            reply: Frame::Integer(1),
            propagate
        }
    );
    assert_eq!(
        n.db.len(),
        1,
        "a replica does not delete: it waits for its master's DEL"
    );
}

#[test]
fn an_empty_request_is_an_error_if_it_ever_gets_here() {
    let mut n = Node::master();
    assert_eq!(n.bytes(&[]), b"-ERR empty request\r\n");
}
