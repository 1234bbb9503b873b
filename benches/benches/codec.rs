//! Encode and decode of a typical PING: 10 gossip entries, a hostname extension.

use clusterbus_node::codec::{self, *};
use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn ping_with_gossip(entries: u8) -> Message {
    let mut myslots = SlotBitmap::empty();
    (0..5461).for_each(|s| myslots.insert(s));
    let header = Header {
        port: 7000,
        current_epoch: 12,
        config_epoch: 4,
        offset: 123_456,
        sender: [b'a'; NODE_NAME_LEN],
        myslots,
        slaveof: NULL_NODE_NAME,
        myip: c_str_field(b"10.0.0.1"),
        notused1: [0; 30],
        pport: 0,
        cport: 17000,
        flags: flags::MASTER,
        state: 0,
        mflags: [mflags0::EXT_DATA, 0, 0],
    };
    let gossip = (0..entries)
        .map(|i| GossipEntry {
            nodename: [b'0' + i % 10; NODE_NAME_LEN],
            ping_sent: 1_700_000_000,
            pong_received: 1_700_000_001,
            ip: c_str_field(b"10.0.0.2"),
            port: 7000 + i as u16,
            cport: 17000 + i as u16,
            flags: flags::MASTER,
            pport: 0,
            notused1: 0,
        })
        .collect();
    let extensions = vec![PingExt::hostname(b"node-a.example")];
    Message {
        header,
        body: Body::Ping { gossip, extensions },
    }
}

fn bench_codec(c: &mut Criterion) {
    let msg = ping_with_gossip(10);
    let bytes = codec::encode(&msg);
    c.bench_function("encode ping 10 gossip", |b| {
        b.iter(|| codec::encode(black_box(&msg)))
    });
    c.bench_function("decode ping 10 gossip", |b| {
        b.iter(|| codec::decode(black_box(&bytes)))
    });
}

criterion_group!(benches, bench_codec);
criterion_main!(benches);
