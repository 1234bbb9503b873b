//! CLUSTER replies of this node against an unmodified redis-server 7.0, as
//! raw RESP bytes. `redis-cli --cluster create/check` and cluster clients
//! parse these replies, so their shape must be Redis's to the byte.
//!
//! Scenario: a lone redis-server (announcing 127.0.0.1) takes all 16384
//! slots; a lone core with the same id, address and slots does the same.
//! Both answer SLOTS, SHARDS, INFO, NODES and MYID, the same argument errors,
//! SET-CONFIG-EPOCH / BUMPEPOCH, and the key commands once each holds one
//! key. Each pair of replies must have the same shape (RESP types, lengths,
//! field names, in order) and, as nothing here differs between the two
//! nodes (no peers, so no times or message counters), the same bytes.
//!
//! The same again in RESP3, after `HELLO 3` on both sides: HELLO itself
//! (its errors too), the CLUSTER replies (verbatim strings, maps), and the
//! data, CONFIG GET and COMMAND INFO replies whose RESP3 form differs from
//! their RESP2 one (nulls, maps, sets). These are compared byte for byte.

mod common;

use std::io::{BufRead, BufReader, Cursor, Write};
use std::net::TcpStream;
use std::thread::sleep;
use std::time::{Duration, Instant};

use clusterbus_node::commands::client::{self, ClientView};
use clusterbus_node::commands::{
    cluster, core_reply, execute, Context, Outcome, Request, ServerFacts, Session,
};
use clusterbus_node::core::{name_from_str, Core, CoreConfig, Effect, Event, NodeIdentity};
use clusterbus_node::db::{Db, Entry};
use clusterbus_node::resp::Frame;
use common::{read_reply, Redis, Reply, WAIT};

/// A RESP connection to redis-server that hands back each reply's bytes.
struct Raw {
    reader: BufReader<TcpStream>,
}

impl Raw {
    fn connect(port: u16) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to redis-server");
        stream.set_read_timeout(Some(WAIT)).expect("read timeout");
        Raw {
            reader: BufReader::new(stream),
        }
    }

    /// Sends one command and returns the reply exactly as it came.
    fn call(&mut self, words: &[&str]) -> Vec<u8> {
        let mut req = format!("*{}\r\n", words.len()).into_bytes();
        for w in words {
            req.extend_from_slice(format!("${}\r\n{w}\r\n", w.len()).as_bytes());
        }
        self.reader
            .get_mut()
            .write_all(&req)
            .expect("send to redis-server");
        let mut out = Vec::new();
        read_raw(&mut self.reader, &mut out);
        out
    }
}

/// Copies one RESP2 or RESP3 value from `r` to `out`, byte for byte.
fn read_raw(r: &mut impl BufRead, out: &mut Vec<u8>) {
    let start = out.len();
    r.read_until(b'\n', out).expect("read a RESP line");
    let line = String::from_utf8_lossy(&out[start..]).into_owned();
    let len = || -> i64 {
        line[1..]
            .trim_end()
            .parse()
            .unwrap_or_else(|_| panic!("bad RESP length line {line:?}"))
    };
    match line.as_bytes().first() {
        Some(b'$' | b'=' | b'!') if len() >= 0 => {
            let mut body = vec![0u8; len() as usize + 2];
            r.read_exact(&mut body).expect("read a bulk string");
            out.extend_from_slice(&body);
        }
        Some(b'*' | b'~' | b'>') => (0..len().max(0)).for_each(|_| read_raw(r, out)),
        Some(b'%') => (0..2 * len().max(0)).for_each(|_| read_raw(r, out)),
        Some(b'+' | b'-' | b':' | b'$' | b'_' | b',' | b'#' | b'(') => {}
        _ => panic!("unexpected RESP line {line:?}"),
    }
}

/// A lone core with a data set: our side of the comparison.
struct Ours {
    core: Core,
    db: Db,
    session: Session,
    facts: ServerFacts,
    now_ms: u64,
}

impl Ours {
    /// The command context a request runs in, as the runtime builds it.
    fn context(&mut self) -> Context<'_> {
        Context {
            core: &self.core,
            db: &mut self.db,
            now_ms: self.now_ms,
            entropy: 7,
            session: &mut self.session,
            facts: &self.facts,
        }
    }

    /// Runs `CLUSTER <words...>` as the runtime does and returns the reply bytes.
    fn call(&mut self, words: &[&str]) -> Vec<u8> {
        assert!(words[0].eq_ignore_ascii_case("CLUSTER"), "{words:?}");
        let args: Vec<Vec<u8>> = words[1..].iter().map(|w| w.as_bytes().to_vec()).collect();
        let outcome = cluster::execute(&mut self.context(), &args);
        let frame = match outcome {
            Outcome::Reply(f) => f,
            Outcome::Cluster(cmd) => {
                let effects = self.core.handle(self.now_ms, Event::Command(cmd));
                effects
                    .iter()
                    .find_map(|e| match e {
                        Effect::Reply(r) => Some(core_reply(r)),
                        _ => None,
                    })
                    .unwrap_or_else(|| panic!("the core did not reply to {words:?}"))
            }
            other => panic!("unexpected outcome for {words:?}: {other:?}"),
        };
        frame.to_bytes_as(self.session.protocol)
    }

    /// This session as CLIENT LIST shows it.
    fn client_view(&self) -> ClientView {
        ClientView {
            id: self.session.id,
            addr: "127.0.0.1:1".into(),
            laddr: "127.0.0.1:2".into(),
            fd: 8,
            name: self.session.name.clone(),
            last_cmd: "client|info".into(),
            resp: self.session.protocol.version(),
            ..ClientView::default()
        }
    }

    /// Runs any request as the runtime does (dispatch, AUTH, routing), and
    /// returns the reply bytes in the session's protocol after it.
    fn request(&mut self, words: &[&str]) -> Vec<u8> {
        if words[0].eq_ignore_ascii_case("CLUSTER") {
            return self.call(words);
        }
        let req = Request {
            args: words.iter().map(|w| w.as_bytes().to_vec()).collect(),
        };
        let outcome = execute(&mut self.context(), &req);
        let frame = match outcome {
            Outcome::Reply(f) | Outcome::ReplyAndClose(f) | Outcome::Write { reply: f, .. } => f,
            // As the node task answers them, for a node whose one client
            // is this session.
            Outcome::Clients(q) => client::answer(&q, &[self.client_view()], self.session.id).reply,
            Outcome::Config(changes) => {
                let mut cfg = *self.core.config();
                changes.iter().for_each(|c| c.apply(&mut cfg));
                self.core.set_config(cfg);
                Frame::ok()
            }
            Outcome::ResetStats | Outcome::ClientPause { .. } | Outcome::ClientUnpause => {
                Frame::ok()
            }
            other => panic!("unexpected outcome for {words:?}: {other:?}"),
        };
        frame.to_bytes_as(self.session.protocol)
    }
}

fn parse(bytes: &[u8]) -> Reply {
    read_reply(&mut Cursor::new(bytes)).expect("a reply we read or wrote parses")
}

/// The shape of a reply: RESP types and lengths, with the text of every
/// bulk string that is a field name or a fixed word (lowercase letters and
/// dashes: `slots`, `replication-offset`, `master`, `online`), and the field
/// names of `name:value` text (CLUSTER INFO).
fn shape(r: &Reply) -> String {
    match r {
        Reply::Status(s) => format!("+{s}"),
        Reply::Error(e) => format!("-{e}"),
        Reply::Int(_) => ":".into(),
        Reply::Bulk(None) => "$-1".into(),
        Reply::NullArray => "*-1".into(),
        Reply::Bulk(Some(b)) => {
            let text = String::from_utf8_lossy(b);
            if !text.is_empty() && text.bytes().all(|c| c.is_ascii_lowercase() || c == b'-') {
                format!("${text}")
            } else if text.contains(":") && text.contains("\r\n") {
                let names: Vec<&str> = text.lines().filter_map(|l| l.split(':').next()).collect();
                format!("$[{}]", names.join(","))
            } else {
                "$".into()
            }
        }
        Reply::Array(items) => {
            let inner: Vec<String> = items.iter().map(shape).collect();
            format!("*{}[{}]", items.len(), inner.join(","))
        }
    }
}

/// Same shape, then same bytes.
fn assert_same(words: &[&str], ours: &[u8], redis: &[u8]) {
    let (o, r) = (parse(ours), parse(redis));
    assert_eq!(shape(&o), shape(&r), "shape of {words:?}");
    assert_eq!(
        String::from_utf8_lossy(ours),
        String::from_utf8_lossy(redis),
        "bytes of {words:?}"
    );
}

fn compare(ours: &mut Ours, raw: &mut Raw, words: &[&str]) {
    let (o, r) = (ours.request(words), raw.call(words));
    assert_same(words, &o, &r);
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Redis holds `cluster_state:fail` for a while after it starts
/// (`CLUSTER_WRITABLE_DELAY`); wait until it is ok.
fn wait_state_ok(raw: &mut Raw) {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        let info = raw.call(&["CLUSTER", "INFO"]);
        if String::from_utf8_lossy(&info).contains("cluster_state:ok\r\n") {
            return;
        }
        sleep(Duration::from_millis(100));
    }
    panic!("redis-server did not reach cluster_state:ok within {WAIT:?}");
}

/// Our core with redis's id, address and ports.
fn ours_like(redis: &Redis, myid: &str) -> Ours {
    let id = name_from_str(myid).unwrap_or_else(|| panic!("CLUSTER MYID gave {myid:?}"));
    let now_ms = now_ms();
    let me = NodeIdentity {
        id,
        ip: "127.0.0.1".into(),
        port: redis.port,
        cport: redis.bus_port,
    };
    Ours {
        core: Core::new(me, CoreConfig::default(), now_ms),
        db: Db::new(),
        session: Session::default(),
        facts: ServerFacts::default(),
        now_ms,
    }
}

/// Argument errors and state errors a lone master gives, each the same text
/// in Redis and here.
fn error_cases(myid: &str) -> Vec<Vec<String>> {
    let cases: &[&[&str]] = &[
        &[],
        &["FooBar"],
        &["meet"],
        &["MEET", "1.2.3.4", "x"],
        &["MEET", "1.2.3.4", "1", "x"],
        &["MEET", "foo", "1"],
        &["MEET", "1.2.3.4", "0"],
        &["MEET", "1.2.3.4", "70000"],
        &["MEET", "1.2.3.4", "1", "2", "3"],
        &["NODES", "x"],
        &["ADDSLOTS"],
        &["ADDSLOTS", "16384"],
        &["ADDSLOTS", "05"],
        &["ADDSLOTS", "1"],
        &["DELSLOTS", "1", "1"],
        &["ADDSLOTSRANGE", "1", "2", "3"],
        &["ADDSLOTSRANGE", "5", "2"],
        &["DELSLOTSRANGE", "5", "x"],
        &["SETSLOT", "1"],
        &["SETSLOT", "x", "y"],
        &["SETSLOT", "1", "y"],
        &["SETSLOT", "1", "stable", "x"],
        &["SETSLOT", "1", "migrating", "abc"],
        &["SETSLOT", "16000", "migrating", "abc"],
        &["SETSLOT", "1", "importing", "abc"],
        &["SETSLOT", "16000", "importing", "abc"],
        &["SETSLOT", "1", "node", "abc"],
        &["SETSLOT", "16000", "NODE", "abc"],
        &["COUNTKEYSINSLOT", "x"],
        &["COUNTKEYSINSLOT", "16384"],
        &["GETKEYSINSLOT", "1", "-1"],
        &["SET-CONFIG-EPOCH", "-1"],
        &["SET-CONFIG-EPOCH", "x"],
        &["REPLICATE", "abc"],
        &["REPLICATE", myid],
        &["REPLICAS", "abc"],
        &["FORGET", "abc"],
        &["FORGET", myid],
        &["COUNT-FAILURE-REPORTS", "abc"],
        &["COUNT-FAILURE-REPORTS", myid],
        &["FAILOVER"],
        &["FAILOVER", "x"],
        &["failover", "a", "b"],
        &["RESET", "x"],
        &["HELP", "x"],
        &["KEYSLOT", "{user1}.a"],
        &["SAVECONFIG"],
        &["REPLICAS", myid],
    ];
    cases
        .iter()
        .map(|c| {
            std::iter::once("CLUSTER")
                .chain(c.iter().copied())
                .map(String::from)
                .collect()
        })
        .collect()
}

/// Both nodes take every slot; then `cmp` compares the CLUSTER replies of
/// a lone master (SLOTS, SHARDS, INFO, NODES, MYID) and the error cases.
fn take_all_slots_and_compare(
    ours: &mut Ours,
    raw: &mut Raw,
    myid: &str,
    cmp: fn(&mut Ours, &mut Raw, &[&str]),
) {
    cmp(ours, raw, &["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
    wait_state_ok(raw);
    for sub in ["SLOTS", "SHARDS", "INFO", "NODES", "MYID"] {
        cmp(ours, raw, &["CLUSTER", sub]);
    }
    for case in error_cases(myid) {
        let words: Vec<&str> = case.iter().map(String::as_str).collect();
        cmp(ours, raw, &words);
    }
}

#[test]
fn cluster_replies_match_redis_byte_for_byte() {
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = Redis::start(dir.path(), &["--cluster-announce-ip", "127.0.0.1"]);
    let mut raw = Raw::connect(redis.port);
    let myid = String::from_utf8_lossy(&raw.call(&["CLUSTER", "MYID"])[5..45]).into_owned();
    let mut ours = ours_like(&redis, &myid);

    take_all_slots_and_compare(&mut ours, &mut raw, &myid, compare);

    compare(&mut ours, &mut raw, &["CLUSTER", "SET-CONFIG-EPOCH", "5"]);
    compare(&mut ours, &mut raw, &["CLUSTER", "SET-CONFIG-EPOCH", "6"]);
    compare(&mut ours, &mut raw, &["CLUSTER", "BUMPEPOCH"]);
    for sub in ["INFO", "NODES"] {
        compare(&mut ours, &mut raw, &["CLUSTER", sub]);
    }

    assert_eq!(raw.call(&["SET", "foo", "bar"]), b"+OK\r\n");
    let entry = Entry {
        value: b"bar".to_vec(),
        expires_at_ms: None,
    };
    ours.db.set(b"foo".to_vec(), entry);
    for words in [
        &["CLUSTER", "KEYSLOT", "foo"][..],
        &["CLUSTER", "COUNTKEYSINSLOT", "12182"],
        &["CLUSTER", "GETKEYSINSLOT", "12182", "10"],
        &["CLUSTER", "GETKEYSINSLOT", "12182", "0"],
    ] {
        compare(&mut ours, &mut raw, words);
    }
    // A slot migrating (to myself, the one node a lone master knows): ASK
    // for a key it lacks, TRYAGAIN for a request with one of two, and the
    // open slot in CLUSTER NODES.
    let migrating = ["CLUSTER", "SETSLOT", "12182", "MIGRATING", &myid];
    let node = ["CLUSTER", "SETSLOT", "12182", "NODE", &myid];
    for words in [
        &migrating[..],
        &["GET", "foo"],
        &["GET", "{foo}x"],
        &["MGET", "foo", "{foo}x"],
        &["MGET", "{foo}y", "{foo}x"],
        &["CLUSTER", "NODES"],
        &["CLUSTER", "SETSLOT", "12182", "STABLE"],
        &["GET", "{foo}x"],
        &["CLUSTER", "NODES"],
        &migrating,
        &node,
        &["CLUSTER", "NODES"],
        &["ASKING"],
        &["CLUSTER", "RESET"],
        &["CLUSTER", "FLUSHSLOTS"],
    ] {
        compare(&mut ours, &mut raw, words);
    }
}

#[test]
fn help_has_redis_header_and_footer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = Redis::start(dir.path(), &[]);
    let mut raw = Raw::connect(redis.port);
    let mut ours = ours_like(&redis, &"0".repeat(40));
    let lines = |bytes: Vec<u8>| match parse(&bytes) {
        Reply::Array(items) => items,
        other => panic!("HELP is an array, not {other:?}"),
    };
    let (o, r) = (
        lines(ours.call(&["CLUSTER", "HELP"])),
        lines(raw.call(&["CLUSTER", "HELP"])),
    );
    assert!(o.iter().all(|l| matches!(l, Reply::Status(_))));
    assert!(r.iter().all(|l| matches!(l, Reply::Status(_))));
    assert_eq!(o[0], r[0]);
    assert_eq!(o[o.len() - 2..], r[r.len() - 2..]);
    // Every subcommand Redis documents is documented here (same usage line).
    let usages = |ls: &[Reply]| -> Vec<String> {
        ls.iter()
            .map(Reply::text)
            .filter(|l| !l.starts_with(' '))
            .collect()
    };
    let ours_usages = usages(&o);
    for usage in usages(&r) {
        if usage.starts_with("LINKS") {
            continue; // not supported by this node
        }
        assert!(ours_usages.contains(&usage), "HELP lacks {usage:?}");
    }
}

/// Same bytes, for RESP3 replies (the RESP2 test above compares shapes).
fn compare3(ours: &mut Ours, raw: &mut Raw, words: &[&str]) {
    let (o, r) = (ours.request(words), raw.call(words));
    assert_eq!(
        String::from_utf8_lossy(&o),
        String::from_utf8_lossy(&r),
        "RESP3 bytes of {words:?}"
    );
}

#[test]
fn resp3_replies_match_redis_byte_for_byte() {
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = Redis::start(dir.path(), &["--cluster-announce-ip", "127.0.0.1"]);
    let mut raw = Raw::connect(redis.port);
    let myid = String::from_utf8_lossy(&raw.call(&["CLUSTER", "MYID"])[5..45]).into_owned();
    let client_id = String::from_utf8_lossy(&raw.call(&["CLIENT", "ID"]))
        .trim_start_matches(':')
        .trim_end()
        .parse::<u64>()
        .expect("CLIENT ID is an integer");
    let mut ours = ours_like(&redis, &myid);
    ours.facts.version = "7.0.15".into();
    ours.session.id = client_id;
    ours.session.authenticated = true;

    // HELLO and its errors; only a good HELLO changes the protocol.
    for words in [
        &["HELLO"][..],
        &["HELLO", "4"],
        &["HELLO", "x"],
        &["HELLO", "3", "foo"],
        &["HELLO", "3", "AUTH", "default"],
        &["HELLO", "3", "AUTH", "nouser", "p"],
        &["HELLO", "3", "SETNAME", "a b"],
        &["HELLO", "2"],
        &["HELLO", "3"],
        &["HELLO"],
        &["HELLO", "3", "AUTH", "default", "any", "SETNAME", "app"],
    ] {
        compare3(&mut ours, &mut raw, words);
    }
    take_all_slots_and_compare(&mut ours, &mut raw, &myid, compare3);
    for words in [
        &["GET", "foo"][..],
        &["SET", "foo", "bar", "GET"],
        &["SET", "foo", "baz", "GET"],
        &["MGET", "foo", "nosuch"],
        &["TTL", "foo"],
        &["PTTL", "nosuch"],
        &["CLUSTER", "GETKEYSINSLOT", "12182", "10"],
        &["CLUSTER", "COUNTKEYSINSLOT", "12182"],
        &["CONFIG", "GET", "cluster-node-timeout"],
        &["CONFIG", "GET", "nosuch"],
        &["COMMAND", "INFO", "get", "mget", "nosuch", "config|get"],
        &["COMMAND", "DOCS", "nosuch"],
        &["COMMAND", "INFO", "save", "bgsave", "lastsave"],
        &["COMMAND", "INFO", "dump", "restore", "restore-asking"],
        &[
            "COMMAND",
            "INFO",
            "multi",
            "exec",
            "discard",
            "function|list",
        ],
        &["FUNCTION", "LIST"],
        &["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "x*"],
        &["FUNCTION", "LIST", "LIBRARYNAME"],
        &["FUNCTION", "LIST", "BOGUS"],
        &["FUNCTION", "NOSUCH"],
        &["SET", "dk", "hello"],
        &["DUMP", "dk"],
        &["SET", "dn", "12345"],
        &["DUMP", "dn"],
        &["SET", "dm", "-70000"],
        &["DUMP", "dm"],
        &["DUMP", "nosuch"],
        &["RESTORE", "dk", "0", "x"],
        &["RESTORE", "dk2", "0", "x"],
        &["RESTORE", "dk2", "-1", "x"],
        &["RESTORE", "dk2", "z", "x"],
        &["RESTORE", "dk2", "0", "x", "FREQ", "300"],
        &["RESTORE", "dk2", "0", "x", "IDLETIME", "-1"],
        &["RESTORE", "dk2", "0", "x", "IDLETIME", "1", "FREQ", "1"],
        &["RESTORE", "dk2", "0", "x", "BOGUS"],
        &["COMMAND", "DOCS", "save", "lastsave"],
        &["BGSAVE", "NOW"],
        &["SAVE", "x"],
        &["INFO", "keyspace"],
        &["PING"],
        &["ECHO", "hi"],
    ] {
        compare3(&mut ours, &mut raw, words);
    }
}

/// The field names of `k=v k=v` (CLIENT INFO) or of INFO's `k:v` lines,
/// per `# Section`.
fn client_fields(line: &str) -> Vec<String> {
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('=').map(|(k, _)| k.to_string()))
        .collect()
}

fn info_sections(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("# ") {
            out.push((name.to_string(), Vec::new()));
        } else if let (Some((k, _)), Some(last)) = (line.split_once(':'), out.last_mut()) {
            last.1.push(k.to_string());
        }
    }
    out
}

fn bulk_text(bytes: &[u8]) -> String {
    match parse(bytes) {
        Reply::Bulk(Some(b)) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("expected a bulk string, got {other:?}"),
    }
}

#[test]
fn operator_replies_match_redis() {
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = Redis::start(dir.path(), &["--cluster-announce-ip", "127.0.0.1"]);
    let mut raw = Raw::connect(redis.port);
    let myid = String::from_utf8_lossy(&raw.call(&["CLUSTER", "MYID"])[5..45]).into_owned();
    let mut ours = ours_like(&redis, &myid);
    ours.facts.version = "7.0.15".into();
    ours.session.authenticated = true;
    let id = String::from_utf8_lossy(&raw.call(&["CLIENT", "ID"])).into_owned();
    ours.session.id = id[1..].trim_end().parse().expect("CLIENT ID is an integer");

    // Byte for byte: replies that hold nothing specific to the process.
    for words in [
        &["CLIENT", "ID"][..],
        &["CLIENT", "GETNAME"],
        &["CLIENT", "SETNAME", "app-1"],
        &["CLIENT", "GETNAME"],
        &["CLIENT", "SETNAME", "a b"],
        &["CLIENT", "ID", "x"],
        &["CLIENT", "foo"],
        &["CLIENT"],
        &["CLIENT", "KILL"],
        &["CLIENT", "KILL", "foo", "bar"],
        &["CLIENT", "KILL", "ID", "0"],
        &["CLIENT", "KILL", "ID", "x"],
        &["CLIENT", "KILL", "SKIPME", "maybe"],
        &["CLIENT", "KILL", "USER", "bob"],
        &["CLIENT", "KILL", "TYPE", "x"],
        &["CLIENT", "KILL", "ADDR", "1.2.3.4:5", "ID"],
        &["CLIENT", "KILL", "1.2.3.4:5"],
        &["CLIENT", "KILL", "ADDR", "1.2.3.4:5"],
        &["CLIENT", "KILL", "ID", "999999"],
        &["CLIENT", "LIST", "foo"],
        &["CLIENT", "LIST", "ID", "x"],
        &["CLIENT", "LIST", "TYPE", "x"],
        &["CLIENT", "LIST", "TYPE", "pubsub"],
        &["CLIENT", "PAUSE", "x"],
        &["CLIENT", "PAUSE", "-1"],
        &["CLIENT", "PAUSE", "10", "foo"],
        &["CLIENT", "PAUSE", "x", "foo"],
        &["CLIENT", "PAUSE", "1", "all", "x"],
        &["CLIENT", "PAUSE", "0"],
        &["CLIENT", "UNPAUSE", "x"],
        &["CLIENT", "UNPAUSE"],
        &["COMMAND", "INFO", "client|pause", "client|unpause"],
        &["COMMAND", "DOCS", "client|unpause"],
        &["CONFIG", "SET", "cluster-node-timeout", "x"],
        &["CONFIG", "SET", "cluster-node-timeout", "-1"],
        &["CONFIG", "SET", "nosuch", "1"],
        &["CONFIG", "SET", "cluster-config-file", "x"],
        &["CONFIG", "SET", "cluster-require-full-coverage", "maybe"],
        &[
            "CONFIG",
            "SET",
            "cluster-node-timeout",
            "1",
            "cluster-node-timeout",
            "2",
        ],
        &["CONFIG", "SET", "a", "b", "c"],
        &["CONFIG", "SET", "port"],
        &["CONFIG", "SET", "cluster-node-timeout", "16000"],
        &["CONFIG", "GET", "cluster-node-timeout"],
        &[
            "CONFIG",
            "SET",
            "cluster-node-timeout",
            "15000",
            "cluster-require-full-coverage",
            "yes",
        ],
        &["CONFIG", "RESETSTAT"],
        &["CONFIG", "RESETSTAT", "x"],
        &["SHUTDOWN", "ABORT"],
        &["SHUTDOWN", "foo"],
        &["SHUTDOWN", "SAVE", "NOSAVE"],
        &["SHUTDOWN", "ABORT", "NOW"],
    ] {
        let (o, r) = (ours.request(words), raw.call(words));
        assert_same(words, &o, &r);
    }

    // CLIENT INFO / LIST: the same fields in the same order.
    let (o, r) = (
        ours.request(&["CLIENT", "INFO"]),
        raw.call(&["CLIENT", "INFO"]),
    );
    let (o, r) = (bulk_text(&o), bulk_text(&r));
    assert_eq!(
        client_fields(&o),
        client_fields(&r),
        "CLIENT INFO\n{o}\n{r}"
    );
    assert!(o.starts_with(&format!("id={} ", ours.session.id)) && o.ends_with("\n"));
    let o = bulk_text(&ours.request(&["CLIENT", "LIST"]));
    assert!(o.contains(" name=app-1 "), "{o}");

    // INFO: the default sections, in Redis's order; every field printed
    // here is one Redis prints in the same section (nothing invented).
    let (o, r) = (
        bulk_text(&ours.request(&["INFO"])),
        bulk_text(&raw.call(&["INFO"])),
    );
    let (ours_info, redis_info) = (info_sections(&o), info_sections(&r));
    let names = |s: &[(String, Vec<String>)]| s.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ours_info), names(&redis_info), "INFO sections");
    for ((name, fields), (_, redis_fields)) in ours_info.iter().zip(&redis_info) {
        for f in fields {
            assert!(
                redis_fields.contains(f),
                "INFO {name}: redis-server has no {f:?}"
            );
        }
    }
    // A commandstats line has Redis's fields, in order.
    ours.facts.process.commands = vec![("client|id".into(), 1, 5)];
    let stat_fields = |text: String| -> Vec<String> {
        let line = text
            .lines()
            .nth(1)
            .expect("a commandstats line")
            .to_string();
        let (_, values) = line.split_once(':').expect("cmdstat_name:values");
        values
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, _)| k.to_string())
            .collect()
    };
    let words = ["INFO", "commandstats"];
    let (o, r) = (
        bulk_text(&ours.request(&words)),
        bulk_text(&raw.call(&words)),
    );
    assert_eq!(stat_fields(o), stat_fields(r), "commandstats fields");

    // RESP3: CLIENT INFO and INFO are verbatim strings in both.
    assert!(raw.call(&["HELLO", "3"]).starts_with(b"%7\r\n"));
    ours.request(&["HELLO", "3"]);
    for words in [&["CLIENT", "INFO"][..], &["INFO", "server"]] {
        let (o, r) = (ours.request(words), raw.call(words));
        assert!(
            o.starts_with(b"=") && r.starts_with(b"="),
            "{words:?} is verbatim"
        );
    }
}
