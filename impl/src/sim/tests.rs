//! The simulator's own verbs: faults, crash and restart.

use super::*;
use crate::core::LinkId;

fn cfg() -> CoreConfig {
    CoreConfig {
        node_timeout_ms: 1000,
        ..CoreConfig::default()
    }
}

fn knows(sim: &Sim, i: usize, j: usize) -> bool {
    let id = sim.id(j);
    sim.core(i)
        .and_then(|c| c.node(&id))
        .map(|n| !n.in_handshake())
        .unwrap_or(false)
}

#[test]
fn a_cut_link_stops_the_handshake_and_the_handshake_node_expires() {
    let mut sim = Sim::new(2, cfg(), 1);
    sim.cut(0, 1);
    sim.meet(0, 1);
    sim.run_for(900);
    assert_eq!(
        sim.core(0).map(|c| c.nodes().count()),
        Some(2),
        "handshake node still pending"
    );
    sim.run_for(300);
    assert_eq!(
        sim.core(0).map(|c| c.nodes().count()),
        Some(1),
        "expired after max(NT, 1000) ms"
    );
    assert!(!knows(&sim, 1, 0));
    assert!(sim.stats.messages_delivered == 0);
}

#[test]
fn heal_lets_a_new_meet_succeed() {
    let mut sim = Sim::new(2, cfg(), 2);
    sim.cut(0, 1);
    sim.meet(0, 1);
    sim.run_for(2000);
    sim.heal();
    sim.meet(0, 1);
    sim.run_for(500);
    assert!(knows(&sim, 0, 1) && knows(&sim, 1, 0));
}

#[test]
fn dropping_every_message_one_way_makes_the_peer_time_out() {
    let mut sim = Sim::new(2, cfg(), 3);
    sim.meet(0, 1);
    sim.run_for(500);
    assert!(knows(&sim, 0, 1));
    sim.drop(1, 0, 1.0);
    sim.run_for(3000);
    let b = sim.id(1);
    let pfail = sim
        .core(0)
        .and_then(|c| c.node(&b))
        .map(|n| n.timed_out())
        .unwrap_or(false);
    assert!(pfail, "0 hears nothing from 1: PFAIL");
    // 1's PINGs to 0 travel 1 -> 0 too, so 1 gets no PONG either.
    let a = sim.id(0);
    let seen = sim
        .core(1)
        .and_then(|c| c.node(&a))
        .map(|n| n.timed_out())
        .unwrap_or(false);
    assert!(seen, "1's pings are lost as well: PFAIL on both sides");
    assert!(sim.stats.messages_dropped > 0);
}

#[test]
fn a_crashed_node_restarts_from_its_persisted_config() {
    let mut sim = Sim::new(3, cfg(), 4);
    sim.add_slots(0, 0, 16383);
    sim.meet(1, 0);
    sim.meet(2, 0);
    sim.run_for(2000);
    sim.crash(2);
    assert!(!sim.is_up(2));
    sim.run_for(100);
    sim.restart(2).expect("restart");
    let c = sim.core(2).expect("up");
    assert_eq!(c.nodes().count(), 3, "the table came back from nodes.conf");
    assert_eq!(c.slot_owner(16383), Some(sim.id(0)));
    sim.run_for(2000);
    assert!(sim.all_ok());
}

#[test]
fn a_delayed_link_stays_fifo() {
    let mut sim = Sim::new(2, cfg(), 5);
    sim.meet(0, 1);
    sim.run_for(500);
    let b = sim.id(1);
    let conn = sim.conns.outbound(0, &b).expect("0 has a link to 1");
    // A message queued with 300 ms extra delay, then one without: the
    // second must not overtake the first.
    sim.delay(0, 1, 300);
    let Some(core) = sim.nodes[0].core.as_mut() else {
        panic!("node 0 is down")
    };
    let effects = core.handle(
        600,
        Event::PingDue {
            peer: b,
            gossip: vec![],
        },
    );
    let first = crate::core::sends(&effects)
        .map(|(_, m)| m.clone())
        .next()
        .expect("a PING");
    sim.send(0, LinkId::Outbound(b), first.clone());
    sim.heal();
    sim.send(0, LinkId::Outbound(b), first);
    let times: Vec<u64> = sim
        .queue
        .iter()
        .filter(|(_, p)| matches!(p, Pending::Msg { conn: c, to_acceptor: true, .. } if *c == conn))
        .map(|((t, _), _)| *t)
        .collect();
    assert_eq!(times.len(), 2);
    assert_eq!(
        times[0], times[1],
        "the undelayed message waits behind the delayed one"
    );
    assert_eq!(times[0], sim.now_ms() + 301);
}

#[test]
fn a_forgotten_node_is_not_re_added_from_gossip_for_a_minute() {
    let mut sim = Sim::new(4, cfg(), 6);
    for i in 1..4 {
        sim.meet(i, 0);
    }
    sim.run_for(3000);
    assert!(knows(&sim, 0, 3));
    let gone = sim.id(3);
    assert_eq!(sim.command(0, ClusterCommand::Forget(gone)), Reply::Ok);
    assert!(!knows(&sim, 0, 3));
    sim.run_for(55_000);
    assert!(!knows(&sim, 0, 3), "blacklisted for CLUSTER_BLACKLIST_TTL");
    sim.run_for(10_000);
    assert!(
        knows(&sim, 0, 3),
        "learned again from the others' gossip after the TTL"
    );
    let r = sim.command(0, ClusterCommand::Forget(sim.id(0)));
    assert_eq!(
        r,
        Reply::Error("ERR I tried hard but I can't forget myself...".into())
    );
}
