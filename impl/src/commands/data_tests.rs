//! Data commands: replies as redis-server 7.0.15 gives them (captured on
//! loopback with the same requests), and the commands propagated to replicas.

use super::super::testkit::{Node, NOW_MS};
use crate::commands::Outcome;
use crate::db::Entry;
use crate::resp::Frame;

fn words(list: &[&str]) -> Vec<Vec<u8>> {
    list.iter().map(|w| w.as_bytes().to_vec()).collect()
}

fn write(reply: Frame, propagate: &[&str]) -> Outcome {
    Outcome::Write {
        reply,
        propagate: words(propagate),
    }
}

#[test]
fn set_option_errors() {
    let mut n = Node::master();
    let syntax = b"-ERR syntax error\r\n";
    let invalid = b"-ERR invalid expire time in 'set' command\r\n";
    for args in [
        &["set", "k", "v", "ex"][..],
        &["set", "k", "v", "nx", "xx"],
        &["set", "k", "v", "ex", "10", "px", "10"],
        &["set", "k", "v", "keepttl", "ex", "10"],
        &["set", "k", "v", "ex", "10", "keepttl"],
        &["set", "k", "v", "bogus"],
    ] {
        assert_eq!(n.bytes(args), syntax, "{args:?}");
    }
    for args in [
        &["set", "k", "v", "ex", "0"][..],
        &["set", "k", "v", "ex", "-1"],
        &["set", "k", "v", "px", "0"],
        &["set", "k", "v", "ex", "9223372036854775807"],
        &["set", "k", "v", "px", "9223372036854775807"],
        &["set", "k", "v", "ex", "9223372036854775"],
    ] {
        assert_eq!(n.bytes(args), invalid, "{args:?}");
    }
    assert_eq!(
        n.bytes(&["set", "k", "v", "ex", "x"]),
        b"-ERR value is not an integer or out of range\r\n"
    );
    assert!(n.db.is_empty(), "no failed SET wrote");
}

#[test]
fn set_nx_xx_get_and_their_replies() {
    let mut n = Node::master();
    assert_eq!(n.run(&["set", "k", "v", "xx"]), Outcome::Reply(Frame::Null));
    assert_eq!(n.bytes(&["set", "k", "v", "get"]), b"$-1\r\n");
    assert_eq!(n.bytes(&["set", "k", "w", "get", "nx"]), b"$1\r\nv\r\n");
    assert_eq!(n.bytes(&["set", "k", "v", "nx"]), b"$-1\r\n");
    assert_eq!(n.bytes(&["set", "k", "x", "xx", "get"]), b"$1\r\nv\r\n");
    assert_eq!(n.bytes(&["get", "k"]), b"$1\r\nx\r\n");
    assert_eq!(
        n.run(&["SET", "k", "y", "PX", "1", "PX", "2"]),
        write(Frame::ok(), &["SET", "k", "y", "PXAT", "1700000000002"])
    );
}

#[test]
fn set_propagates_absolute_expiry() {
    let mut n = Node::master();
    assert_eq!(
        n.run(&["set", "k", "v"]),
        write(Frame::ok(), &["SET", "k", "v"])
    );
    assert_eq!(
        n.run(&["set", "k", "v", "ex", "10"]),
        write(Frame::ok(), &["SET", "k", "v", "PXAT", "1700000010000"])
    );
    assert_eq!(
        n.run(&["set", "k", "w", "keepttl"]),
        write(Frame::ok(), &["SET", "k", "w", "PXAT", "1700000010000"])
    );
    assert_eq!(n.bytes(&["pttl", "k"]), b":10000\r\n");
    assert_eq!(
        n.run(&["set", "k", "v", "exat", "1"]),
        write(Frame::ok(), &["SET", "k", "v", "PXAT", "1000"])
    );
    assert_eq!(n.bytes(&["get", "k"]), b"$-1\r\n");
    assert_eq!(
        n.run(&["set", "k", "v", "pxat", "99999999999999"]),
        write(Frame::ok(), &["SET", "k", "v", "PXAT", "99999999999999"])
    );
    assert_eq!(n.bytes(&["ttl", "k"]), b":98300000000\r\n");
}

#[test]
fn incr_family() {
    let mut n = Node::master();
    let not_int = b"-ERR value is not an integer or out of range\r\n";
    assert_eq!(
        n.run(&["incr", "n"]),
        write(Frame::Integer(1), &["SET", "n", "1"])
    );
    assert_eq!(n.bytes(&["incrby", "n", "41"]), b":42\r\n");
    assert_eq!(n.bytes(&["decr", "n"]), b":41\r\n");
    assert_eq!(n.bytes(&["decrby", "n", "50"]), b":-9\r\n");
    assert_eq!(n.bytes(&["incrby", "n", "x"]), not_int);
    for bad in [" 1", "01", "-0", "1.5", "9223372036854775808", "v"] {
        n.db.set(
            b"s".to_vec(),
            Entry {
                value: bad.as_bytes().to_vec(),
                expires_at_ms: None,
            },
        );
        assert_eq!(n.bytes(&["incr", "s"]), not_int, "{bad:?}");
    }
    n.run(&["set", "n", "9223372036854775807"]);
    assert_eq!(
        n.bytes(&["incr", "n"]),
        b"-ERR increment or decrement would overflow\r\n"
    );
    assert_eq!(n.bytes(&["incrby", "n", "-1"]), b":9223372036854775806\r\n");
    assert_eq!(
        n.bytes(&["decrby", "n", "-9223372036854775808"]),
        b"-ERR decrement would overflow\r\n"
    );
    n.run(&["set", "t", "5", "px", "5000"]);
    assert_eq!(
        n.run(&["incr", "t"]),
        write(
            Frame::Integer(6),
            &["SET", "t", "6", "PXAT", "1700000005000"]
        )
    );
    assert_eq!(n.bytes(&["pttl", "t"]), b":5000\r\n", "INCR keeps the TTL");
}

#[test]
fn multi_key_commands() {
    let mut n = Node::master();
    assert_eq!(
        n.run(&["mset", "{a}1", "x", "{a}2", "y"]),
        write(Frame::ok(), &["MSET", "{a}1", "x", "{a}2", "y"])
    );
    assert_eq!(
        n.bytes(&["mget", "{a}1", "{a}2", "{a}3"]),
        b"*3\r\n$1\r\nx\r\n$1\r\ny\r\n$-1\r\n"
    );
    assert_eq!(n.bytes(&["exists", "{a}1", "{a}1", "{a}3"]), b":2\r\n");
    assert_eq!(
        n.bytes(&["mset", "{a}1", "x", "{a}2"]),
        b"-ERR wrong number of arguments for 'mset' command\r\n"
    );
    assert_eq!(
        n.run(&["del", "{a}1", "{a}3", "{a}1"]),
        write(Frame::Integer(1), &["DEL", "{a}1"])
    );
    assert_eq!(n.run(&["del", "{a}9"]), Outcome::Reply(Frame::Integer(0)));
    let crossslot = b"-CROSSSLOT Keys in request don't hash to the same slot\r\n";
    assert_eq!(n.bytes(&["mget", "a", "b"]), crossslot);
    assert_eq!(n.bytes(&["mset", "a", "1", "b", "2"]), crossslot);
    assert_eq!(n.bytes(&["mset", "a", "b", "c"]), crossslot);
    assert_eq!(n.bytes(&["del", "a", "b"]), crossslot);
}

#[test]
fn ttl_and_expire() {
    let mut n = Node::master();
    assert_eq!(n.bytes(&["ttl", "nokey"]), b":-2\r\n");
    assert_eq!(n.bytes(&["pttl", "nokey"]), b":-2\r\n");
    assert_eq!(n.bytes(&["expire", "nokey", "10"]), b":0\r\n");
    n.set_key("n");
    assert_eq!(n.bytes(&["ttl", "n"]), b":-1\r\n");
    assert_eq!(
        n.bytes(&["expire", "n", "x"]),
        b"-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        n.bytes(&["expire", "n", "10", "nx", "xx"]),
        b"-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        n.bytes(&["expire", "n", "10", "gt", "lt"]),
        b"-ERR GT and LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        n.bytes(&["expire", "n", "10", "bogus"]),
        b"-ERR Unsupported option bogus\r\n"
    );
    assert_eq!(
        n.bytes(&["expire", "n", "9223372036854775807"]),
        b"-ERR invalid expire time in 'expire' command\r\n"
    );
    assert_eq!(n.bytes(&["expire", "n", "10", "gt"]), b":0\r\n");
    assert_eq!(
        n.run(&["expire", "n", "10", "nx"]),
        write(Frame::Integer(1), &["PEXPIREAT", "n", "1700000010000"])
    );
    assert_eq!(n.bytes(&["expire", "n", "20", "lt"]), b":0\r\n");
    assert_eq!(n.bytes(&["pexpire", "n", "9500", "lt"]), b":1\r\n");
    assert_eq!(n.bytes(&["ttl", "n"]), b":10\r\n", "9.5 s rounds to 10");
    assert_eq!(n.bytes(&["pttl", "n"]), b":9500\r\n");
    assert_eq!(
        n.run(&["expireat", "n", "1800000000"]),
        write(Frame::Integer(1), &["PEXPIREAT", "n", "1800000000000"])
    );
    assert_eq!(
        n.run(&["persist", "n"]),
        write(Frame::Integer(1), &["PERSIST", "n"])
    );
    assert_eq!(n.run(&["persist", "n"]), Outcome::Reply(Frame::Integer(0)));
    assert_eq!(
        n.run(&["pexpireat", "n", "1"]),
        write(Frame::Integer(1), &["DEL", "n"])
    );
    assert_eq!(n.bytes(&["exists", "n"]), b":0\r\n");
}

#[test]
fn keys_expire_with_the_clock() {
    let mut n = Node::master();
    n.run(&["set", "k", "v", "px", "100"]);
    n.now_ms = NOW_MS + 99;
    assert_eq!(n.bytes(&["get", "k"]), b"$1\r\nv\r\n");
    n.now_ms = NOW_MS + 100;
    assert_eq!(n.bytes(&["get", "k"]), b"$-1\r\n");
    assert_eq!(n.bytes(&["dbsize"]), b":0\r\n");
}
