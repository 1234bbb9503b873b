//! Frames captured from an unmodified redis-server 7.0 decode to the values
//! Redis meant, and re-encode to the identical bytes.
//!
//! Scenario: redis owns slots 0-5460 with configEpoch 7 and announces a
//! hostname (so its PING/PONG/MEET carry a ping extension). We `CLUSTER MEET`
//! two fake nodes whose bus ports are listeners in this test; redis connects
//! to each and sends MEET; we answer PONG so the handshakes complete; redis
//! then PINGs us, gossiping about the other fake node. Finally we connect to
//! redis's bus port and send a MEET of our own; redis answers PONG. A PING
//! claiming one of redis's slots with an older configEpoch earns an UPDATE.
//! A second test gets a FAIL broadcast (see its doc comment).

mod common;

use clusterbus_node::codec::{self, *};
use clusterbus_node::config::SlotRange;
use clusterbus_node::slots::{bitmap_to_ranges, new_node_id, ranges_to_bitmap};
use common::{Redis, WAIT};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::sleep;
use std::time::{Duration, Instant};

const HOSTNAME: &str = "capture-host";

/// Read one whole frame: 8 bytes, then the rest `frame_length` says.
fn read_frame(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = vec![0u8; 8];
    stream
        .read_exact(&mut buf)
        .expect("read 8-byte frame prefix from redis");
    let len = frame_length(&buf)
        .unwrap_or_else(|e| panic!("redis sent a frame we cannot frame: {e}"))
        .expect("8 bytes are enough to frame");
    buf.resize(len, 0);
    stream
        .read_exact(&mut buf[8..])
        .expect("read rest of frame from redis");
    buf
}

/// Decode, check byte-exact re-encoding, return the message.
fn decode_exact(bytes: &[u8]) -> Message {
    let msg = decode(bytes).unwrap_or_else(|e| panic!("redis frame did not decode: {e}"));
    assert_eq!(
        encode(&msg),
        bytes,
        "re-encoding a {:?} frame changed its bytes",
        msg.body.message_type()
    );
    msg
}

/// Read frames until one of type `ty` arrives; every frame must round-trip.
fn read_until(stream: &mut TcpStream, ty: MessageType) -> (Message, Vec<u8>) {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        let bytes = read_frame(stream);
        let msg = decode_exact(&bytes);
        if msg.body.message_type() == ty {
            return (msg, bytes);
        }
    }
    panic!("no {ty:?} frame from redis within {WAIT:?}");
}

fn accept_within(listener: &TcpListener) -> TcpStream {
    listener
        .set_nonblocking(true)
        .expect("nonblocking listener");
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if let Ok((stream, _)) = listener.accept() {
            stream.set_nonblocking(false).expect("blocking stream");
            stream.set_read_timeout(Some(WAIT)).expect("read timeout");
            return stream;
        }
        sleep(Duration::from_millis(20));
    }
    panic!("redis did not connect to our bus listener within {WAIT:?}");
}

/// A fake master's header: sender `id`, client port `port`, bus port `cport`.
fn our_header(id: &str, port: u16, cport: u16) -> Header {
    let mut sender = [0u8; NODE_NAME_LEN];
    sender.copy_from_slice(id.as_bytes());
    Header {
        port,
        current_epoch: 7,
        config_epoch: 0,
        offset: 0,
        sender,
        myslots: SlotBitmap::empty(),
        slaveof: NULL_NODE_NAME,
        myip: [0; NET_IP_STR_LEN],
        notused1: [0; 30],
        pport: 0,
        cport,
        flags: flags::MASTER,
        state: 1,
        mflags: [0; 3],
    }
}

fn body_gossip(body: &Body) -> (&[GossipEntry], &[PingExt]) {
    match body {
        Body::Ping { gossip, extensions }
        | Body::Pong { gossip, extensions }
        | Body::Meet { gossip, extensions } => (gossip, extensions),
        other => panic!("expected a gossip message, got {other:?}"),
    }
}

/// Header fields every frame from this redis must carry.
fn assert_from_redis(msg: &Message, redis: &Redis, myid: &str) {
    let h = &msg.header;
    assert_eq!(&h.sender[..], myid.as_bytes(), "sender is CLUSTER MYID");
    assert_eq!(h.port, redis.port);
    assert_eq!(h.cport, redis.bus_port);
    assert_eq!(h.pport, 0, "no TLS, so no plaintext port");
    assert_eq!(h.flags, flags::MYSELF | flags::MASTER);
    assert_eq!(h.config_epoch, 7);
    assert!(h.current_epoch >= 7);
    assert_eq!(h.slaveof, NULL_NODE_NAME);
    assert_eq!(
        h.myip, [0; NET_IP_STR_LEN],
        "no announce-ip: receivers use the peer address"
    );
    assert_eq!(
        bitmap_to_ranges(&h.myslots),
        vec![SlotRange {
            start: 0,
            end: 5460
        }]
    );
    assert_eq!(
        h.myslots,
        ranges_to_bitmap(&[SlotRange {
            start: 0,
            end: 5460
        }])
    );
    let (_, exts) = body_gossip(&msg.body);
    assert_eq!(exts.len(), 1, "one hostname extension");
    assert_eq!(exts[0].hostname_bytes(), Some(HOSTNAME.as_bytes()));
    assert_eq!(h.mflags[0] & mflags0::EXT_DATA, mflags0::EXT_DATA);
}

/// Redis MEETs the fake node behind `listener`; we answer PONG as `id`.
fn meet_fake_node(
    redis: &Redis,
    listener: &TcpListener,
    id: &str,
    fake_port: u16,
    known: &[&str],
) -> TcpStream {
    let cport = listener.local_addr().expect("listener address").port();
    let reply = redis.cmd(&[
        "CLUSTER",
        "MEET",
        "127.0.0.1",
        &fake_port.to_string(),
        &cport.to_string(),
    ]);
    assert_eq!(reply.text(), "OK");
    let mut stream = accept_within(listener);
    let (meet, _) = read_until(&mut stream, MessageType::Meet);
    for g in body_gossip(&meet.body).0 {
        let known = known.iter().any(|k| g.nodename == *k.as_bytes());
        assert!(known, "MEET gossips only about nodes past their handshake");
    }
    let pong = Message {
        header: our_header(id, fake_port, cport),
        body: Body::Pong {
            gossip: vec![],
            extensions: vec![],
        },
    };
    stream
        .write_all(&encode(&pong))
        .expect("send PONG to redis");
    stream
}

#[test]
fn frames_from_redis_decode_and_reencode_exactly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = Redis::start(dir.path(), &["--cluster-announce-hostname", HOSTNAME]);
    assert_eq!(
        redis.cmd(&["CLUSTER", "ADDSLOTSRANGE", "0", "5460"]).text(),
        "OK"
    );
    assert_eq!(
        redis.cmd(&["CLUSTER", "SET-CONFIG-EPOCH", "7"]).text(),
        "OK"
    );
    let myid = redis.cmd(&["CLUSTER", "MYID"]).text();

    let (a_id, b_id) = (new_node_id(b"fake node a"), new_node_id(b"fake node b"));
    let a_listener = TcpListener::bind("127.0.0.1:0").expect("bind bus listener a");
    let b_listener = TcpListener::bind("127.0.0.1:0").expect("bind bus listener b");
    let mut a = meet_fake_node(&redis, &a_listener, &a_id, 30001, &[]);
    let _b = meet_fake_node(&redis, &b_listener, &b_id, 30002, &[&a_id]);

    // Redis's cron PINGs node a over the link it opened.
    let (ping, _) = read_until(&mut a, MessageType::Ping);
    assert_from_redis(&ping, &redis, &myid);
    for g in body_gossip(&ping.body).0 {
        assert!(g.nodename == *a_id.as_bytes() || g.nodename == *b_id.as_bytes());
        assert_eq!(g.flags, flags::MASTER);
    }

    // We open a link to redis's bus port and MEET it; it answers PONG.
    let mut inbound = TcpStream::connect(("127.0.0.1", redis.bus_port)).expect("connect to bus");
    inbound.set_read_timeout(Some(WAIT)).expect("read timeout");
    let a_cport = a_listener.local_addr().expect("address").port();
    let meet = Message {
        header: our_header(&a_id, 30001, a_cport),
        body: Body::Meet {
            gossip: vec![],
            extensions: vec![PingExt::hostname(b"fake-a")],
        },
    };
    inbound.write_all(&codec::encode(&meet)).expect("send MEET");
    let (pong, _) = read_until(&mut inbound, MessageType::Pong);
    assert_from_redis(&pong, &redis, &myid);

    // Node a claims slot 0 with configEpoch 0; redis owns it with 7, so it
    // sends an UPDATE over its own link to a.
    let mut stale = our_header(&a_id, 30001, a_cport);
    stale.myslots.insert(0);
    // It repeats its hostname: a PING without one would clear it (updateAnnouncedHostname).
    let extensions = vec![PingExt::hostname(b"fake-a")];
    let claim = Message {
        header: stale,
        body: Body::Ping {
            gossip: vec![],
            extensions,
        },
    };
    inbound
        .write_all(&codec::encode(&claim))
        .expect("send stale PING");
    let (update, bytes) = read_until(&mut a, MessageType::Update);
    assert_eq!(bytes.len(), UPDATE_LEN);
    let Body::Update {
        config_epoch,
        nodename,
        slots,
    } = &update.body
    else {
        panic!("not an UPDATE: {update:?}");
    };
    assert_eq!((*config_epoch, &nodename[..]), (7, myid.as_bytes()));
    assert_eq!(
        bitmap_to_ranges(slots),
        vec![SlotRange {
            start: 0,
            end: 5460
        }]
    );

    // Redis recorded what our PONG and MEET said about node a.
    let nodes = redis.cmd(&["CLUSTER", "NODES"]).text();
    let line = nodes
        .lines()
        .find(|l| l.starts_with(&a_id))
        .expect("node a in CLUSTER NODES");
    assert!(
        line.contains(&format!(":30001@{a_cport},fake-a master")),
        "{line}"
    );
}

/// Frames read from `stream` by a background thread, so the test can keep
/// sending while it waits. The thread ends when the connection does.
fn frame_channel(stream: &TcpStream) -> std::sync::mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = std::sync::mpsc::channel();
    let mut reader = stream.try_clone().expect("clone stream");
    std::thread::spawn(move || loop {
        let mut buf = vec![0u8; 8];
        if reader.read_exact(&mut buf).is_err() {
            return;
        }
        let Ok(Some(len)) = frame_length(&buf) else {
            return;
        };
        buf.resize(len, 0);
        if reader.read_exact(&mut buf[8..]).is_err() || tx.send(buf).is_err() {
            return;
        }
    });
    rx
}

/// A gossip entry saying node `id` looks failed (PFAIL) to the sender.
fn pfail_gossip(id: &str, cport: u16) -> GossipEntry {
    let mut nodename = [0u8; NODE_NAME_LEN];
    nodename.copy_from_slice(id.as_bytes());
    GossipEntry {
        nodename,
        ping_sent: 0,
        pong_received: 0,
        ip: c_str_field(b"127.0.0.1"),
        port: 30001,
        cport,
        flags: flags::MASTER | flags::PFAIL,
        pport: 0,
        notused1: 0,
    }
}

/// Node a goes silent; node b (a master) keeps reporting it as PFAIL. Redis,
/// the only master with slots, has the quorum alone once a times out on its
/// side, marks a FAIL and broadcasts FAIL to b. Frames carry no extensions here.
#[test]
fn fail_frame_from_redis_decodes_and_reencodes_exactly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = Redis::start(dir.path(), &["--cluster-node-timeout", "500"]);
    assert_eq!(
        redis.cmd(&["CLUSTER", "ADDSLOTSRANGE", "0", "5460"]).text(),
        "OK"
    );
    assert_eq!(
        redis.cmd(&["CLUSTER", "SET-CONFIG-EPOCH", "7"]).text(),
        "OK"
    );
    let myid = redis.cmd(&["CLUSTER", "MYID"]).text();
    let (a_id, b_id) = (new_node_id(b"silent node a"), new_node_id(b"reporter b"));
    let a_listener = TcpListener::bind("127.0.0.1:0").expect("bind bus listener a");
    let b_listener = TcpListener::bind("127.0.0.1:0").expect("bind bus listener b");
    let a_cport = a_listener.local_addr().expect("address").port();
    let b_cport = b_listener.local_addr().expect("address").port();
    let _a = meet_fake_node(&redis, &a_listener, &a_id, 30001, &[]);
    let mut b = meet_fake_node(&redis, &b_listener, &b_id, 30002, &[&a_id]);
    let frames = frame_channel(&b);

    let report = Message {
        header: our_header(&b_id, 30002, b_cport),
        body: Body::Ping {
            gossip: vec![pfail_gossip(&a_id, a_cport)],
            extensions: vec![],
        },
    };
    let deadline = Instant::now() + WAIT;
    let fail = loop {
        assert!(
            Instant::now() < deadline,
            "no FAIL from redis within {WAIT:?}"
        );
        b.write_all(&encode(&report)).expect("send PFAIL report");
        let Ok(bytes) = frames.recv_timeout(Duration::from_millis(100)) else {
            continue;
        };
        let msg = decode_exact(&bytes);
        if let Body::Fail { nodename } = &msg.body {
            assert_eq!(bytes.len(), FAIL_LEN);
            assert_eq!(
                &nodename[..],
                a_id.as_bytes(),
                "FAIL is about the silent node"
            );
            break msg;
        }
    };
    assert_eq!(&fail.header.sender[..], myid.as_bytes());
    assert_eq!(fail.header.config_epoch, 7);
    assert_eq!(fail.header.mflags, [0; 3], "no hostname, so no EXT_DATA");
    let nodes = redis.cmd(&["CLUSTER", "NODES"]).text();
    let line = nodes
        .lines()
        .find(|l| l.starts_with(&a_id))
        .expect("node a listed");
    assert!(line.contains(" master,fail "), "{line}");
}
