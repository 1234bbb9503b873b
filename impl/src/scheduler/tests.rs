//! The cron's constants, checked on a virtual clock.

use super::*;
use crate::codec::flags;
use crate::core::tests::{deliver, met_pair, msgs};
use crate::core::{ClusterCommand, Event, LinkId};

const NT: u64 = 15_000;
const A: NodeName = [b'a'; 40];
const B: NodeName = [b'b'; 40];

fn due(now: u64, core: &Core) -> Vec<Event> {
    // Iteration 1: not a sampling tick.
    due_events(now, 1, core, &CronChoices::default())
}

fn has_ping(ev: &[Event], peer: NodeName) -> bool {
    ev.iter()
        .any(|e| matches!(e, Event::PingDue { peer: p, .. } if *p == peer))
}

#[test]
fn ping_when_pong_older_than_half_node_timeout() {
    let (a, _) = met_pair(NT);
    assert!(
        !has_ping(&due(NT / 2, &a), B),
        "pong exactly NT/2 old: not yet"
    );
    assert!(has_ping(&due(NT / 2 + 1, &a), B));
}

#[test]
fn node_timeout_strictly_after_nt_of_outstanding_ping() {
    let (mut a, _) = met_pair(NT);
    a.handle(
        0,
        Event::PingDue {
            peer: B,
            gossip: vec![],
        },
    );
    assert_eq!(a.node(&B).and_then(|n| n.ping_sent_ms), Some(0));
    let timeout = |ev: &[Event]| ev.contains(&Event::NodeTimeout(B));
    assert!(!timeout(&due(NT - 1, &a)));
    assert!(!timeout(&due(NT, &a)));
    assert!(timeout(&due(NT + 1, &a)));
    a.handle(NT + 1, Event::NodeTimeout(B));
    assert!(a.node(&B).map(|n| n.has(flags::PFAIL)).unwrap_or(false));
    assert!(!timeout(&due(NT + 2, &a)), "already PFAIL");
}

#[test]
fn stale_link_is_dropped_after_half_nt_without_data() {
    let (mut a, _) = met_pair(NT);
    // Link created at 0; ping at NT/2 + 1; stale needs link age > NT and
    // ping and data older than NT/2.
    a.handle(
        NT / 2 + 1,
        Event::PingDue {
            peer: B,
            gossip: vec![],
        },
    );
    assert!(!due(NT, &a).contains(&Event::LinkStale(B)));
    assert!(
        !due(NT + 1, &a).contains(&Event::LinkStale(B)),
        "ping only NT/2 old"
    );
    assert!(due(NT + 2, &a).contains(&Event::LinkStale(B)));
}

#[test]
fn every_tenth_tick_pings_the_oldest_pong_of_the_sample() {
    let (a, _) = met_pair(NT);
    let choices = CronChoices {
        ping_sample: vec![A, B, A, B, A],
        ..Default::default()
    };
    let at_9 = due_events(100, 9, &a, &choices);
    let at_10 = due_events(100, 10, &a, &choices);
    assert!(!has_ping(&at_9, B));
    assert!(
        has_ping(&at_10, B),
        "myself is skipped, B has the oldest pong"
    );
    let only_me = CronChoices {
        ping_sample: vec![A; 5],
        ..Default::default()
    };
    assert!(!has_ping(&due_events(100, 10, &a, &only_me), B));
}

#[test]
fn handshake_times_out_after_max_nt_and_one_second() {
    for (nt, limit) in [(NT, NT), (500, 1000)] {
        let (mut a, _) = met_pair(nt);
        let h = [b'z'; 40];
        let meet = ClusterCommand::Meet {
            ip: "10.0.0.9".into(),
            port: 7009,
            cport: 17009,
            handshake_id: h,
        };
        a.handle(0, Event::Command(meet));
        let timed_out = |now| due(now, &a).contains(&Event::HandshakeTimeout(h));
        assert!(!timed_out(limit), "nt {nt}");
        assert!(timed_out(limit + 1), "nt {nt}");
        a.handle(limit + 1, Event::HandshakeTimeout(h));
        assert!(a.node(&h).is_none());
    }
}

#[test]
fn failure_reports_expire_after_two_node_timeouts() {
    let (mut a, mut b) = met_pair(NT);
    // b (a master) gossips that a third node C is PFAIL; a knows C from an
    // earlier gossip entry of b.
    let c: NodeName = [b'c'; 40];
    let ping = msgs(&b.handle(
        10,
        Event::PingDue {
            peer: A,
            gossip: vec![],
        },
    ))
    .remove(0)
    .1;
    let with_gossip = |f: u16| {
        let mut m = ping.clone();
        let entry = crate::codec::GossipEntry {
            nodename: c,
            ping_sent: 0,
            pong_received: 0,
            ip: [0u8; 46],
            port: 7002,
            cport: 17002,
            flags: f,
            pport: 0,
            notused1: 0,
        };
        m.body = crate::codec::Body::Ping {
            gossip: vec![entry],
            extensions: vec![],
        };
        m
    };
    let mut entry_ip = [0u8; 46];
    entry_ip[..9].copy_from_slice(b"127.0.0.1");
    let mut first = with_gossip(flags::MASTER);
    if let crate::codec::Body::Ping { gossip, .. } = &mut first.body {
        gossip[0].ip = entry_ip;
    }
    a.handle(10, deliver(LinkId::Inbound(2), first));
    assert!(a.node(&c).is_some(), "C learned from gossip");
    a.handle(
        1000,
        deliver(
            LinkId::Inbound(2),
            with_gossip(flags::MASTER | flags::PFAIL),
        ),
    );
    assert_eq!(a.failure_report_count(&c), 1);
    let expired = |now| {
        due(now, &a).contains(&Event::ReportExpired {
            about: c,
            reporter: B,
        })
    };
    assert!(!expired(1000 + 2 * NT));
    assert!(expired(1000 + 2 * NT + 1));
    a.handle(
        1000 + 2 * NT + 1,
        Event::ReportExpired {
            about: c,
            reporter: B,
        },
    );
    assert_eq!(a.failure_report_count(&c), 0);
}
