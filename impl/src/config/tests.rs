//! nodes.conf unit tests: the real redis-server 7.0.15 fixtures, flags,
//! each kind of malformed line, and atomic save.

use super::*;
use crate::codec::flags;

const MIGRATING: &str = include_str!("../../tests/fixtures/redis-7.0.15-3m3r-migrating.conf");
const IMPORTING: &str = include_str!("../../tests/fixtures/redis-7.0.15-3m3r-importing.conf");

const ID0: &str = "80efee960a75349706e35fcac45abf48d4b7c501";
const ID1: &str = "6511bca38d3b68e8617d7ea6ea2eb9cad42b6b81";

fn conf_ok(text: &str) -> NodesConf {
    parse(text).unwrap_or_else(|e| panic!("fixture did not parse: {e}"))
}

fn line_err(text: &str) -> (Option<usize>, ConfigErrorKind) {
    let err = parse(text).expect_err("malformed text parsed");
    (err.line, err.kind)
}

#[test]
fn redis_fixture_parses_to_the_cluster_it_describes() {
    let conf = conf_ok(MIGRATING);
    assert_eq!(conf.nodes.len(), 6);
    assert_eq!((conf.current_epoch, conf.last_vote_epoch), (5, 0));
    let me = conf.myself().expect("myself");
    assert_eq!(me.id, ID0);
    assert_eq!(
        (me.ip.as_str(), me.port, me.cport),
        ("127.0.0.1", 31100, 41100)
    );
    assert_eq!(me.flags, flags::MYSELF | flags::MASTER);
    assert_eq!(
        me.slots,
        vec![SlotRange {
            start: 0,
            end: 5460
        }]
    );
    assert_eq!(me.migrating, vec![(100, ID1.to_string())]);
    assert_eq!(me.config_epoch, 1);
    let masters = conf
        .nodes
        .iter()
        .filter(|n| n.flags & flags::MASTER != 0)
        .count();
    let replicas: Vec<_> = conf
        .nodes
        .iter()
        .filter(|n| n.flags & flags::SLAVE != 0)
        .collect();
    assert_eq!((masters, replicas.len()), (3, 3));
    let r = replicas
        .iter()
        .find(|n| n.port == 31103)
        .expect("replica of node 0");
    assert_eq!(r.master.as_deref(), Some(ID0));
    assert_eq!(
        r.config_epoch, 1,
        "a replica line carries its master's configEpoch"
    );
    assert!(r.slots.is_empty());
    assert!(conf
        .nodes
        .iter()
        .all(|n| n.link_connected && n.hostname.is_none()));
}

#[test]
fn redis_fixtures_render_byte_identical() {
    for text in [MIGRATING, IMPORTING] {
        assert_eq!(render(&conf_ok(text)), text);
    }
    let me = conf_ok(IMPORTING);
    assert_eq!(
        me.myself().map(|n| n.importing.clone()),
        Some(vec![(100, ID0.to_string())])
    );
}

#[test]
fn render_merges_migrations_in_slot_order_and_hostname() {
    let mut conf = conf_ok(MIGRATING);
    let me = &mut conf.nodes[5];
    me.importing.push((50, ID1.to_string()));
    me.hostname = Some("host-0".to_string());
    me.slots.push(SlotRange {
        start: 6000,
        end: 6000,
    });
    let line = render_node(me);
    assert!(line.starts_with(&format!(
        "{ID0} 127.0.0.1:31100@41100,host-0 myself,master - "
    )));
    assert!(
        line.ends_with(&format!(" 0-5460 6000 [50-<-{ID1}] [100->-{ID1}]")),
        "{line}"
    );
    assert_eq!(parse(&render(&conf)), Ok(conf.clone()));
    // A slot both migrating and importing shows as migrating only.
    let me = &mut conf.nodes[5];
    me.importing.push((100, ID1.to_string()));
    assert!(
        render_node(me).ends_with(&format!(" [50-<-{ID1}] [100->-{ID1}]")),
        "{}",
        render_node(me)
    );
}

#[test]
fn flags_round_trip_in_redis_order() {
    assert_eq!(flags_to_string(0), "noflags");
    assert_eq!(
        flags_to_string(flags::MEET),
        "noflags",
        "MEET is never printed"
    );
    let all = flags::SLAVE | flags::MYSELF | flags::FAIL | flags::PFAIL | flags::NOFAILOVER;
    assert_eq!(flags_to_string(all), "myself,slave,fail?,fail,nofailover");
    assert_eq!(
        flags_from_str("myself,slave,fail?,fail,nofailover"),
        Ok(all)
    );
    assert_eq!(flags_from_str("MASTER,noflags"), Ok(flags::MASTER));
    assert_eq!(
        flags_from_str("handshake,noaddr"),
        Ok(flags::HANDSHAKE | flags::NOADDR)
    );
    assert_eq!(flags_from_str("master,bogus"), Err("bogus".to_string()));
}

#[test]
fn old_files_without_cport_use_port_plus_10000() {
    let text = format!("{ID0} 10.0.0.1:7000 myself,master - 0 0 0 connected\n");
    let me = conf_ok(&text);
    assert_eq!((me.nodes[0].port, me.nodes[0].cport), (7000, 17000));
    assert_eq!(me.current_epoch, 0, "no vars line: epochs 0, as Redis");
}

const GOOD: &str = "80efee960a75349706e35fcac45abf48d4b7c501 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-10";
const OTHER: &str =
    "6511bca38d3b68e8617d7ea6ea2eb9cad42b6b81 127.0.0.1:7001@17001 master - 0 0 2 connected";

/// Second lines that each break one rule, with the error they must produce.
fn malformed_second_lines() -> Vec<(String, ConfigErrorKind)> {
    use ConfigErrorKind::*;
    let o = OTHER;
    let s = |v: &str| v.to_string();
    vec![
        (s(&o[..o.len() - 12]), TooFewFields { found: 6 }),
        (
            o.replacen("6511", "zzzz", 1),
            BadNodeId {
                field: "node id",
                value: format!("zzzz{}", &ID1[4..]),
            },
        ),
        (
            o.replace(":7001@17001", ""),
            BadAddress {
                value: s("127.0.0.1"),
            },
        ),
        (
            o.replace("@17001", "@x"),
            BadAddress {
                value: s("127.0.0.1:7001@x"),
            },
        ),
        (
            o.replace("master", "leader"),
            UnknownFlag { value: s("leader") },
        ),
        (
            o.replace(" - ", " abc "),
            BadNodeId {
                field: "master id",
                value: s("abc"),
            },
        ),
        (
            o.replace(" 0 0 2 ", " 0 0 -2 "),
            BadNumber {
                field: "configEpoch",
                value: s("-2"),
            },
        ),
        (
            o.replace("connected", "up"),
            BadLinkState { value: s("up") },
        ),
        (format!("{o} 16384"), BadSlot { value: s("16384") }),
        (format!("{o} 20-10"), BadSlot { value: s("20-10") }),
        (
            format!("{o} [5->-abc]"),
            BadSlot {
                value: s("[5->-abc]"),
            },
        ),
        (GOOD.replace(ID0, ID1), DuplicateMyself),
        (GOOD.replace("myself,", ""), DuplicateNode { id: s(ID0) }),
        (
            s("vars currentEpoch"),
            BadVars {
                reason: s("1 words after vars; expected name/value pairs"),
            },
        ),
        (
            s("vars currentEpoch x"),
            BadNumber {
                field: "currentEpoch",
                value: s("x"),
            },
        ),
    ]
}

#[test]
fn each_malformed_line_is_named() {
    for (line, kind) in malformed_second_lines() {
        let text = format!("{GOOD}\n{line}\nvars currentEpoch 1 lastVoteEpoch 0\n");
        assert_eq!(line_err(&text), (Some(2), kind), "line: {line}");
    }
    let no_me = format!("{OTHER}\nvars currentEpoch 1 lastVoteEpoch 0\n");
    assert_eq!(line_err(&no_me), (None, ConfigErrorKind::NoMyself));
    assert_eq!(line_err(""), (None, ConfigErrorKind::Empty));
}

#[test]
fn error_message_names_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nodes.conf");
    std::fs::write(
        &path,
        format!("\n{ID0} 127.0.0.1:7000@17000 myself,boss - 0 0 0 connected\n"),
    )
    .expect("write");
    let err = load(&path).expect_err("bad flag");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("{}:2: unknown flag \"boss\"", path.display())),
        "{msg}"
    );
    let missing = load(&dir.path().join("absent.conf")).expect_err("missing file");
    assert!(matches!(
        missing.kind,
        ConfigErrorKind::Io {
            kind: std::io::ErrorKind::NotFound,
            ..
        }
    ));
}

#[test]
fn save_replaces_whole_file_and_leaves_no_temp() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nodes.conf");
    std::fs::write(&path, "x".repeat(10_000)).expect("write old file");
    let conf = conf_ok(MIGRATING);
    save(&path, &conf).expect("save");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read back"),
        MIGRATING
    );
    assert_eq!(load(&path), Ok(conf));
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("nodes.conf")]);
}

#[test]
fn save_into_missing_dir_fails_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("no-such-dir").join("nodes.conf");
    let err = save(&path, &conf_ok(MIGRATING)).expect_err("missing dir");
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert!(!dir.path().join("no-such-dir").exists());
    assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 0);
}

#[test]
fn effective_current_epoch_takes_max_config_epoch() {
    let mut conf = conf_ok(MIGRATING);
    assert_eq!(conf.effective_current_epoch(), 5);
    conf.nodes[1].config_epoch = 9;
    assert_eq!(conf.effective_current_epoch(), 9);
}
