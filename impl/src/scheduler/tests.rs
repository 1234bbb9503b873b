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

/// A 3-master/3-replica cluster (NT = 1000) where master 0 has crashed and
/// its replica 3 sees it FAIL; returns replica 3's core and the time.
fn replica_of_failed_master() -> (Core, u64) {
    let cfg = crate::core::CoreConfig {
        node_timeout_ms: 1000,
        ..Default::default()
    };
    let mut sim = crate::sim::Sim::new(6, cfg, 9);
    if let Err(e) = sim.create_cluster(3, 30_000) {
        panic!("{e}");
    }
    let m = sim.id(0);
    sim.crash(0);
    let deadline = sim.now_ms() + 10_000;
    // Step (not tick) so that the core is caught right after the FAIL
    // message, before a cron tick plans the election.
    let fail_seen = |s: &crate::sim::Sim| {
        s.core(3)
            .and_then(|c| c.node(&m))
            .map(|n| n.failed())
            .unwrap_or(false)
    };
    while !fail_seen(&sim) {
        assert!(
            sim.now_ms() < deadline,
            "replica 3 never saw its master FAIL"
        );
        sim.step();
    }
    let t = sim.now_ms();
    let Some(core) = sim.core(3).cloned() else {
        panic!("replica 3 is down")
    };
    (core, t)
}

fn has(ev: &[Event], want: &Event) -> bool {
    ev.contains(want)
}

#[test]
fn election_is_planned_then_due_then_times_out_then_retried() {
    let (mut c, t) = replica_of_failed_master();
    // Plan with jitter 250.
    let choices = CronChoices {
        election_jitter_ms: 250,
        ..Default::default()
    };
    let ev = due_events(t, 1, &c, &choices);
    assert!(
        has(&ev, &Event::ScheduleElection { jitter_ms: 250 }),
        "{ev:?}"
    );
    c.handle(t, Event::ScheduleElection { jitter_ms: 250 });
    let start = t + 500 + 250; // rank 0
    assert_eq!(c.election().auth_time_ms, Some(start));
    assert!(!has(&due(start - 1, &c), &Event::ElectionDue));
    assert!(has(&due(start, &c), &Event::ElectionDue));
    let epoch = c.current_epoch();
    let effects = c.handle(start, Event::ElectionDue);
    assert_eq!(c.current_epoch(), epoch + 1);
    assert!(matches!(
        effects[0],
        crate::core::Effect::Persist { fsync: true, .. }
    ));
    // Auth timeout max(2·NT, 2000) = 2000 ms after the start.
    assert!(!has(&due(start + 2000, &c), &Event::AuthTimeout));
    assert!(has(&due(start + 2001, &c), &Event::AuthTimeout));
    c.handle(start + 2001, Event::AuthTimeout);
    // Retry twice the auth timeout (4000 ms) after the start.
    let plan = Event::ScheduleElection { jitter_ms: 0 };
    assert!(!has(&due(start + 4000, &c), &plan));
    assert!(has(&due(start + 4001, &c), &plan));
}

#[test]
fn manual_failover_times_out_after_five_seconds() {
    let cfg = crate::core::CoreConfig {
        node_timeout_ms: 1000,
        ..Default::default()
    };
    let mut sim = crate::sim::Sim::new(6, cfg, 10);
    if let Err(e) = sim.create_cluster(3, 30_000) {
        panic!("{e}");
    }
    let Some(mut c) = sim.core(3).cloned() else {
        panic!("replica 3 is down")
    };
    let t = sim.now_ms();
    let mode = crate::core::FailoverMode::Default;
    c.handle(t, Event::Command(ClusterCommand::Failover { mode }));
    assert_eq!(c.manual_failover().end_ms, Some(t + 5000));
    assert!(!has(&due(t + 5000, &c), &Event::ManualFailoverTimeout));
    assert!(has(&due(t + 5001, &c), &Event::ManualFailoverTimeout));
    c.handle(t + 5001, Event::ManualFailoverTimeout);
    assert_eq!(c.manual_failover().end_ms, None);
}

#[test]
fn replica_validity_counts_from_the_last_replication_io_when_known() {
    let (mut c, t) = replica_of_failed_master();
    // NT = 1000, factor 10: data may be NT*10 + 10 s (ping period) old,
    // after taking off NT: the limit is 21 s since the last I/O.
    assert!(
        c.election_needs_scheduling(t),
        "fresh PONG, no replication: may fail over"
    );
    let later = t + 60_000;
    assert!(
        !c.election_needs_scheduling(later),
        "the master's PONG is a minute old"
    );
    c.set_replication_last_io(Some(later - 21_000));
    assert!(
        c.election_needs_scheduling(later),
        "21 s since the last I/O: still valid"
    );
    c.set_replication_last_io(Some(later - 21_001));
    assert!(
        !c.election_needs_scheduling(later),
        "older than the limit: too stale"
    );
    c.set_replication_last_io(None);
    assert!(
        c.election_needs_scheduling(t),
        "without replication the master's PONG counts"
    );
}
