//! COMMAND and CONFIG GET, byte for byte against redis-server 7.0.15
//! (`redis-cli`-free raw RESP captures on loopback).

use super::super::testkit::Node;
use super::*;

/// `COMMAND INFO get` on redis-server 7.0.15 (the reply's single entry).
const GET_INFO: &[u8] = b"*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n\
*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n\
$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n\
$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n\
$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";

/// `COMMAND INFO mset nosuch` on redis-server 7.0.15.
const MSET_NOSUCH_INFO: &[u8] = b"*2\r\n*10\r\n$4\r\nmset\r\n:-3\r\n*2\r\n+write\r\n+denyoom\r\n\
:1\r\n:-1\r\n:2\r\n*3\r\n+@write\r\n+@string\r\n+@slow\r\n*2\r\n$26\r\nrequest_policy:multi_shard\r\n\
$29\r\nresponse_policy:all_succeeded\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+OW\r\n+update\r\n\
$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n\
$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:-1\r\n\
$7\r\nkeystep\r\n:2\r\n$5\r\nlimit\r\n:0\r\n*0\r\n$-1\r\n";

/// `COMMAND INFO config|get` on redis-server 7.0.15.
const CONFIG_GET_INFO: &[u8] = b"*1\r\n*10\r\n$10\r\nconfig|get\r\n:-3\r\n*4\r\n+admin\r\n\
+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n\
*0\r\n*0\r\n*0\r\n";

#[test]
fn command_info_matches_redis_byte_for_byte() {
    let mut n = Node::master();
    let mut one = b"*1\r\n".to_vec();
    one.extend_from_slice(GET_INFO);
    assert_eq!(n.bytes(&["COMMAND", "INFO", "get"]), one);
    assert_eq!(
        n.bytes(&["command", "info", "MSET", "nosuch"]),
        MSET_NOSUCH_INFO
    );
    assert_eq!(n.bytes(&["command", "info", "config|get"]), CONFIG_GET_INFO);
}

#[test]
fn command_lists_every_command_and_count_agrees() {
    let mut n = Node::master();
    let all = n.bytes(&["command"]);
    let count = COMMANDS.len();
    assert_eq!(count, 48);
    assert!(all.starts_with(format!("*{count}\r\n*10\r\n$4\r\nping\r\n").as_bytes()));
    assert_eq!(
        n.bytes(&["command", "count"]),
        format!(":{count}\r\n").into_bytes()
    );
    assert_eq!(n.bytes(&["command", "info"]), all);
    let list = n.bytes(&["command", "list"]);
    assert!(list.starts_with(b"*65\r\n$4\r\nping\r\n$4\r\necho\r\n"));
    let sub = b"$7\r\ncommand\r\n$13\r\ncommand|count\r\n$12\r\ncommand|docs\r\n";
    assert!(list.windows(sub.len()).any(|w| w == sub));
    assert_eq!(
        n.bytes(&["command", "list", "filterby"]),
        b"-ERR syntax error\r\n"
    );
}

#[test]
fn command_docs_is_a_flat_map_redis_cli_can_read() {
    let mut n = Node::master();
    assert_eq!(n.bytes(&["command", "docs", "nosuch"]), b"*0\r\n");
    assert_eq!(
        n.bytes(&["command", "docs", "ping"]),
        b"*2\r\n$4\r\nping\r\n*8\r\n$7\r\nsummary\r\n$15\r\nPing the server\r\n$5\r\nsince\r\n\
$5\r\n1.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n"
    );
    let Frame::Map(all) = docs(&[]) else {
        panic!("COMMAND DOCS is a map");
    };
    assert_eq!(all.len(), COMMANDS.len());
    let config = docs(&[b"config".to_vec()]).to_bytes();
    let sub = b"$11\r\nsubcommands\r\n*6\r\n$10\r\nconfig|get\r\n*8\r\n";
    assert!(config.windows(sub.len()).any(|w| w == sub));
}

#[test]
fn command_errors() {
    let mut n = Node::master();
    assert_eq!(
        n.bytes(&["command", "foo"]),
        b"-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n"
    );
    assert_eq!(
        n.bytes(&["command", "count", "x"]),
        b"-ERR wrong number of arguments for 'command|count' command\r\n"
    );
}

#[test]
fn config_get_names_and_patterns() {
    let mut n = Node::master();
    n.facts.cluster_config_file = "nodes.conf".into();
    assert_eq!(
        n.bytes(&["config", "get", "cluster-node-timeout"]),
        b"*2\r\n$20\r\ncluster-node-timeout\r\n$5\r\n15000\r\n"
    );
    assert_eq!(
        n.bytes(&["CONFIG", "GET", "port", "CLUSTER-ENABLED"]),
        b"*4\r\n$4\r\nport\r\n$4\r\n7000\r\n$15\r\ncluster-enabled\r\n$3\r\nyes\r\n"
    );
    assert_eq!(n.bytes(&["config", "get", "nosuch"]), b"*0\r\n");
    assert_eq!(
        n.bytes(&["config", "get", "cluster-*-file", "cluster-config-file"]),
        b"*2\r\n$19\r\ncluster-config-file\r\n$10\r\nnodes.conf\r\n"
    );
    let Frame::Map(cluster) = config_get_of(&mut n, "cluster-*") else {
        panic!("CONFIG GET is a map");
    };
    assert_eq!(cluster.len(), 13);
    assert_eq!(
        n.bytes(&["config", "get", "*validity*"]),
        b"*4\r\n$31\r\ncluster-replica-validity-factor\r\n$2\r\n10\r\n\
$29\r\ncluster-slave-validity-factor\r\n$2\r\n10\r\n"
    );
}

fn config_get_of(n: &mut Node, pattern: &str) -> Frame {
    let ctx = Context {
        core: &n.core,
        db: &mut n.db,
        now_ms: n.now_ms,
        entropy: 0,
        session: &mut n.session,
        facts: &n.facts,
    };
    config_get(&ctx, &[pattern.as_bytes().to_vec()])
}

#[test]
fn config_errors() {
    let mut n = Node::master();
    assert_eq!(
        n.bytes(&["config"]),
        b"-ERR wrong number of arguments for 'config' command\r\n"
    );
    assert_eq!(
        n.bytes(&["config", "get"]),
        b"-ERR wrong number of arguments for 'config|get' command\r\n"
    );
    assert_eq!(
        n.bytes(&["config", "rewrite"]),
        b"-ERR unknown subcommand 'rewrite'. Try CONFIG HELP.\r\n"
    );
    assert_eq!(
        n.bytes(&["config", "set", "port"]),
        b"-ERR wrong number of arguments for 'config|set' command\r\n"
    );
}

#[test]
fn glob_matching() {
    let m = |p: &str, t: &str| glob_match(p.as_bytes(), t.as_bytes());
    assert!(m("*", ""));
    assert!(m("cluster-*", "cluster-port"));
    assert!(!m("cluster-*", "port"));
    assert!(m("*port", "cluster-announce-bus-port"));
    assert!(m("p?rt", "port"));
    assert!(!m("p?rt", "prt"));
    assert!(m("*a*b*c", "xaxxbxxc"));
    assert!(!m("*a*b*c", "xaxxbxx"));
    assert!(m("[pb]ort", "bort"));
    assert!(!m("[^pb]ort", "port"));
    assert!(m("[a-z]ir", "dir"));
    assert!(m("\\*x", "*x"));
    assert!(!m("\\*x", "ax"));
}
