//! nodes.conf against an unmodified redis-server 7.0, both ways: we parse and
//! re-render the file Redis writes, and Redis starts from a file we write.

mod common;

use clusterbus_node::codec::flags;
use clusterbus_node::config::{self, NodeRecord, NodesConf, SlotRange};
use clusterbus_node::slots::new_node_id;
use common::{free_ports, Redis};

/// `field:value` from CLUSTER INFO.
fn info_field(info: &str, field: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("CLUSTER INFO has no {field}: {info}"))
        .trim()
        .to_string()
}

/// CLUSTER NODES output parsed with our nodes.conf parser (it is the same grammar).
fn cluster_nodes(redis: &Redis) -> NodesConf {
    let text = redis.cmd(&["CLUSTER", "NODES"]).text();
    config::parse(&text).unwrap_or_else(|e| panic!("CLUSTER NODES did not parse: {e}\n{text}"))
}

#[test]
fn file_written_by_redis_parses_and_renders_identically() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut redis = Redis::start(dir.path(), &[]);
    assert_eq!(
        redis.cmd(&["CLUSTER", "ADDSLOTSRANGE", "0", "5460"]).text(),
        "OK"
    );
    assert_eq!(redis.cmd(&["CLUSTER", "ADDSLOTS", "6000"]).text(), "OK");
    assert_eq!(
        redis.cmd(&["CLUSTER", "SET-CONFIG-EPOCH", "3"]).text(),
        "OK"
    );
    assert_eq!(redis.cmd(&["CLUSTER", "BUMPEPOCH"]).text(), "STILL 3");
    let myid = redis.cmd(&["CLUSTER", "MYID"]).text();
    let live = cluster_nodes(&redis);
    let info = redis.cmd(&["CLUSTER", "INFO"]).text();
    redis.shutdown();

    let path = dir.path().join("nodes.conf");
    let text = std::fs::read_to_string(&path).expect("redis wrote nodes.conf");
    let conf = config::load(&path).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        config::render(&conf),
        text,
        "render reproduces Redis's file byte for byte"
    );

    let me = conf.myself().expect("myself line");
    assert_eq!(me.id, myid);
    assert_eq!((me.port, me.cport), (redis.port, redis.bus_port));
    assert_eq!(me.flags, flags::MYSELF | flags::MASTER);
    assert_eq!(me.config_epoch, 3);
    let want = vec![
        SlotRange {
            start: 0,
            end: 5460,
        },
        SlotRange {
            start: 6000,
            end: 6000,
        },
    ];
    assert_eq!(me.slots, want);
    let current: u64 = info_field(&info, "cluster_current_epoch")
        .parse()
        .expect("number");
    assert_eq!(conf.current_epoch, current);
    assert_eq!(conf.current_epoch, 3);

    // The file and CLUSTER NODES agree on everything but the pong timestamp.
    let mut live_me = live.myself().expect("myself in CLUSTER NODES").clone();
    live_me.pong_received_ms = me.pong_received_ms;
    assert_eq!(&live_me, me);
}

fn node(id: &str, port: u16, cport: u16, flags: u16, epoch: u64) -> NodeRecord {
    NodeRecord {
        id: id.to_string(),
        ip: "127.0.0.1".to_string(),
        port,
        cport,
        hostname: None,
        flags,
        master: None,
        ping_sent_ms: 0,
        pong_received_ms: 0,
        config_epoch: epoch,
        link_connected: false,
        slots: Vec::new(),
        migrating: Vec::new(),
        importing: Vec::new(),
    }
}

#[test]
fn redis_starts_from_a_file_we_wrote() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (port, bus_port) = free_ports();
    let my_id = new_node_id(b"our node");
    let (other_id, replica_id) = (new_node_id(b"other master"), new_node_id(b"its replica"));
    let mut me = node(&my_id, port, bus_port, flags::MYSELF | flags::MASTER, 7);
    me.link_connected = true;
    me.slots = vec![
        SlotRange { start: 0, end: 100 },
        SlotRange {
            start: 200,
            end: 200,
        },
    ];
    // Nothing listens on ports 1 and 2: redis keeps these nodes disconnected.
    let mut other = node(&other_id, 1, 2, flags::MASTER, 3);
    other.slots = vec![SlotRange {
        start: 5000,
        end: 6000,
    }];
    let mut replica = node(&replica_id, 3, 4, flags::SLAVE, 3);
    replica.master = Some(other_id.clone());
    let conf = NodesConf {
        nodes: vec![me, other, replica],
        current_epoch: 9,
        last_vote_epoch: 4,
    };
    config::save(&dir.path().join("nodes.conf"), &conf).expect("save nodes.conf");

    let redis = Redis::start_on(dir.path(), port, bus_port, &[]);
    assert_eq!(redis.cmd(&["CLUSTER", "MYID"]).text(), my_id);
    let info = redis.cmd(&["CLUSTER", "INFO"]).text();
    assert_eq!(info_field(&info, "cluster_current_epoch"), "9");
    assert_eq!(info_field(&info, "cluster_my_epoch"), "7");
    assert_eq!(info_field(&info, "cluster_known_nodes"), "3");

    let live = cluster_nodes(&redis);
    let find = |id: &str| {
        live.nodes
            .iter()
            .find(|n| n.id == id)
            .cloned()
            .expect("node listed")
    };
    let (live_me, live_other, live_replica) = (find(&my_id), find(&other_id), find(&replica_id));
    assert_eq!(live_me.slots, conf.nodes[0].slots);
    assert_eq!(live_me.flags, flags::MYSELF | flags::MASTER);
    assert_eq!(
        live_other.slots,
        vec![SlotRange {
            start: 5000,
            end: 6000
        }]
    );
    assert_eq!(
        (live_other.port, live_other.cport, live_other.config_epoch),
        (1, 2, 3)
    );
    assert_eq!(
        live_other.flags & (flags::MASTER | flags::SLAVE),
        flags::MASTER
    );
    assert_eq!(live_replica.master.as_deref(), Some(other_id.as_str()));
    assert_eq!(
        live_replica.config_epoch, 3,
        "a replica shows its master's configEpoch"
    );

    // lastVoteEpoch survives a save by Redis.
    assert_eq!(redis.cmd(&["CLUSTER", "SAVECONFIG"]).text(), "OK");
    let saved = config::load(&dir.path().join("nodes.conf")).expect("redis's rewrite parses");
    assert_eq!((saved.current_epoch, saved.last_vote_epoch), (9, 4));
}
