//! Core event throughput: PINGs (with a gossip section) handled per second
//! by one core that is part of a formed 100-node cluster (50 masters + 50
//! replicas, NT 15 s, built in the simulator). Each handled PING is
//! processed (epochs, roles, slots, gossip) and answered with a PONG; the
//! second benchmark also decodes the PING from its 2,256 + 104·n bytes.
//!
//! Run: `cargo bench -p clusterbus-benches --bench core`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

use clusterbus_node::codec::{Body, Message};
use clusterbus_node::core::{sends, CoreConfig, Event, GossipChoice, LinkId};
use clusterbus_node::sim::Sim;

/// A formed 100-node cluster, and a PING from node 1 to node 0 with gossip.
fn setup() -> (Sim, Message) {
    let cfg = CoreConfig {
        node_timeout_ms: 15_000,
        ..CoreConfig::default()
    };
    let mut sim = Sim::new(100, cfg, 100);
    if let Err(e) = sim.create_cluster(50, 120_000) {
        panic!("bench setup: {e}");
    }
    let target = sim.id(0);
    let Some(sender) = sim.core(1).cloned() else {
        panic!("node 1 is down")
    };
    let mut sender = sender;
    let now = sim.now_ms();
    let gossip = sender.pick_gossip(7);
    let effects = sender.handle(
        now,
        Event::PingDue {
            peer: target,
            gossip,
        },
    );
    let ping = sends(&effects)
        .map(|(_, m)| m.clone())
        .find(|m| matches!(m.body, Body::Ping { .. }));
    let Some(ping) = ping else {
        panic!("node 1 did not ping node 0")
    };
    (sim, ping)
}

fn bench_ping(c: &mut Criterion) {
    let (sim, ping) = setup();
    let gossip_len = match &ping.body {
        Body::Ping { gossip, .. } => gossip.len(),
        _ => 0,
    };
    eprintln!("PING carries {gossip_len} gossip entries");
    let Some(core) = sim.core(0).cloned() else {
        panic!("node 0 is down")
    };
    let mut core = core;
    let now = sim.now_ms();
    let mut group = c.benchmark_group("core");
    group.throughput(Throughput::Elements(1));
    let mut seed = 0u64;
    group.bench_function("handle PING (100-node cluster)", |b| {
        b.iter_batched(
            || ping.clone(),
            |msg| {
                seed += 1;
                let gossip = GossipChoice::Seed(seed);
                core.handle(
                    now,
                    Event::Deliver {
                        link: LinkId::Inbound(1),
                        msg,
                        gossip,
                        entropy: seed,
                    },
                )
            },
            BatchSize::SmallInput,
        )
    });
    let bytes = clusterbus_node::codec::encode(&ping);
    group.bench_function("decode + handle PING (100-node cluster)", |b| {
        b.iter(|| {
            seed += 1;
            let Ok(msg) = clusterbus_node::codec::decode(&bytes) else {
                panic!("PING did not decode")
            };
            let gossip = GossipChoice::Seed(seed);
            core.handle(
                now,
                Event::Deliver {
                    link: LinkId::Inbound(1),
                    msg,
                    gossip,
                    entropy: seed,
                },
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench_ping);
criterion_main!(benches);
