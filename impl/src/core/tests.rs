//! Unit tests of the core's rules, driven event by event.

use super::effect::split_at_sync;
use super::election::{auth_retry_ms, auth_timeout_ms, election_delay_ms};
use super::rules::{election_quorum, failure_quorum};
use super::*;
use crate::codec::{Body, Message};

/// A core named `tag` (repeated to 40 chars) at 127.0.0.1:`port`.
pub(crate) fn core(tag: u8, port: u16, nt: u64) -> Core {
    let cfg = CoreConfig {
        node_timeout_ms: nt,
        ..CoreConfig::default()
    };
    Core::new(
        NodeIdentity {
            id: [tag; 40],
            ip: "127.0.0.1".into(),
            port,
            cport: port + 10000,
        },
        cfg,
        0,
    )
}

/// The messages in `effects`.
pub(crate) fn msgs(effects: &[Effect]) -> Vec<(LinkId, Message)> {
    sends(effects).map(|(l, m)| (*l, m.clone())).collect()
}

/// `a` meets `b` at time 0; returns the cores once the handshake is done
/// both ways (links up in both directions).
pub(crate) fn met_pair(nt: u64) -> (Core, Core) {
    let mut a = core(b'a', 7000, nt);
    let mut b = core(b'b', 7001, nt);
    let hs = [b'h'; 40];
    let cmd = ClusterCommand::Meet {
        ip: "127.0.0.1".into(),
        port: 7001,
        cport: 17001,
        handshake_id: hs,
    };
    a.handle(0, Event::Command(cmd));
    a.handle(0, Event::Reconnect(hs));
    let meet = msgs(&a.handle(
        0,
        Event::LinkUp {
            peer: hs,
            gossip: GossipChoice::Seed(1),
        },
    ));
    assert!(matches!(meet[0].1.body, Body::Meet { .. }));
    let pong = msgs(&b.handle(0, deliver(LinkId::Inbound(1), meet[0].1.clone())));
    let eff = a.handle(0, deliver(LinkId::Outbound(hs), pong[0].1.clone()));
    assert!(eff.contains(&Effect::RenameLink {
        from: hs,
        to: [b'b'; 40]
    }));
    // b learned a (in handshake, random name) from the MEET: connect back.
    let hb = b
        .nodes()
        .find(|n| n.in_handshake())
        .map(|n| n.name)
        .expect("b added a handshake node");
    b.handle(0, Event::Reconnect(hb));
    let ping = msgs(&b.handle(
        0,
        Event::LinkUp {
            peer: hb,
            gossip: GossipChoice::Seed(2),
        },
    ));
    let pong = msgs(&a.handle(0, deliver(LinkId::Inbound(2), ping[0].1.clone())));
    b.handle(0, deliver(LinkId::Outbound(hb), pong[0].1.clone()));
    (a, b)
}

pub(crate) fn deliver(link: LinkId, msg: Message) -> Event {
    Event::Deliver {
        link,
        msg,
        gossip: GossipChoice::Seed(0),
        entropy: 42,
    }
}

#[test]
fn gossip_wanted_follows_redis_sizes() {
    assert_eq!(gossip_wanted(2), 0);
    assert_eq!(gossip_wanted(3), 1);
    assert_eq!(gossip_wanted(5), 3);
    assert_eq!(gossip_wanted(30), 3);
    assert_eq!(gossip_wanted(100), 10);
    assert_eq!(gossip_wanted(1000), 100);
}

#[test]
fn quorums_are_a_strict_majority_of_slot_owners() {
    assert_eq!(failure_quorum(1), 1);
    assert_eq!(failure_quorum(3), 2);
    assert_eq!(failure_quorum(4), 3);
    assert_eq!(failure_quorum(50), 26);
    assert_eq!(election_quorum(3), 2);
}

#[test]
fn election_timing_constants() {
    assert_eq!(election_delay_ms(0, 0), 500);
    assert_eq!(election_delay_ms(499, 0), 999);
    assert_eq!(election_delay_ms(250, 2), 2750);
    assert_eq!(auth_timeout_ms(15_000), 30_000);
    assert_eq!(auth_timeout_ms(500), 2_000);
    assert_eq!(auth_retry_ms(15_000), 60_000);
}

#[test]
fn handshake_renames_the_node_and_both_sides_know_each_other() {
    let (a, b) = met_pair(15_000);
    let bn = a.node(&[b'b'; 40]).expect("a knows b by its real name");
    assert!(!bn.in_handshake() && bn.is_master());
    assert_eq!(bn.port, 7001);
    assert!(b
        .node(&[b'a'; 40])
        .map(|n| !n.in_handshake())
        .unwrap_or(false));
    assert_eq!(a.nodes().count(), 2);
    assert_eq!(
        b.nodes().count(),
        2,
        "b's handshake entry for a was dropped as a duplicate"
    );
}

#[test]
fn split_at_sync_keeps_sends_after_the_durable_persist() {
    let conf = crate::config::NodesConf {
        nodes: vec![],
        current_epoch: 1,
        last_vote_epoch: 1,
    };
    let effects = vec![
        Effect::Log("x".into()),
        Effect::Persist {
            conf: conf.clone(),
            fsync: true,
        },
        Effect::Reply(Reply::Ok),
    ];
    let (durable, after) = split_at_sync(effects);
    assert_eq!(durable.len(), 2);
    assert_eq!(after, vec![Effect::Reply(Reply::Ok)]);
    let (durable, after) = split_at_sync(vec![Effect::Persist { conf, fsync: false }]);
    assert!(durable.is_empty());
    assert_eq!(after.len(), 1);
}

#[test]
fn set_config_epoch_only_on_a_lonely_fresh_node() {
    let mut a = core(b'a', 7000, 1000);
    let eff = a.handle(0, Event::Command(ClusterCommand::SetConfigEpoch(5)));
    assert!(matches!(eff[0], Effect::Persist { fsync: true, .. }));
    assert_eq!(eff.last(), Some(&Effect::Reply(Reply::Ok)));
    assert_eq!((a.config_epoch(), a.current_epoch()), (5, 5));
    let eff = a.handle(0, Event::Command(ClusterCommand::SetConfigEpoch(6)));
    assert_eq!(
        eff.last(),
        Some(&Effect::Reply(Reply::Error(
            "ERR Node config epoch is already non-zero".into()
        )))
    );
    let (mut a, _) = met_pair(1000);
    let eff = a.handle(0, Event::Command(ClusterCommand::SetConfigEpoch(6)));
    assert!(matches!(eff.last(), Some(Effect::Reply(Reply::Error(_)))));
}

#[test]
fn bumpepoch_bumps_only_when_not_the_maximum() {
    let mut a = core(b'a', 7000, 1000);
    let eff = a.handle(0, Event::Command(ClusterCommand::BumpEpoch));
    assert_eq!(
        eff.last(),
        Some(&Effect::Reply(Reply::Status("BUMPED 1".into())))
    );
    let eff = a.handle(0, Event::Command(ClusterCommand::BumpEpoch));
    assert_eq!(
        eff.last(),
        Some(&Effect::Reply(Reply::Status("STILL 1".into())))
    );
}

#[test]
fn config_epoch_collision_makes_the_smaller_id_bump() {
    // Both masters start at configEpoch 0. During the handshake 'a' (the
    // smaller id) receives b's PING with the same configEpoch and bumps.
    let (mut a, mut b) = met_pair(1000);
    assert_eq!((a.current_epoch(), a.config_epoch()), (1, 1));
    assert_eq!(
        (b.current_epoch(), b.config_epoch()),
        (0, 0),
        "b has not heard of epoch 1 yet"
    );
    let ping = msgs(&a.handle(
        20,
        Event::PingDue {
            peer: [b'b'; 40],
            gossip: vec![],
        },
    ));
    assert_eq!(ping[0].1.header.config_epoch, 1);
    let eff = b.handle(20, deliver(LinkId::Inbound(1), ping[0].1.clone()));
    assert_eq!(
        (b.current_epoch(), b.config_epoch()),
        (1, 0),
        "the larger id keeps its epoch"
    );
    assert_eq!(b.node(&[b'a'; 40]).map(|n| n.config_epoch), Some(1));
    // Learning a newer configEpoch of a peer is synced.
    assert!(matches!(eff[0], Effect::Persist { fsync: true, .. }));
    // Now b (epoch 0) and a (epoch 1) differ: a does not bump again.
    let ping = msgs(&b.handle(
        30,
        Event::PingDue {
            peer: [b'a'; 40],
            gossip: vec![],
        },
    ));
    a.handle(30, deliver(LinkId::Inbound(2), ping[0].1.clone()));
    assert_eq!((a.current_epoch(), a.config_epoch()), (1, 1));
}

#[test]
fn restart_from_persisted_keeps_epochs_and_slots() {
    let (mut a, _) = met_pair(1000);
    a.handle(
        0,
        Event::Command(ClusterCommand::AddSlots((0..100).collect())),
    );
    a.handle(0, Event::Command(ClusterCommand::BumpEpoch));
    let conf = a.persisted();
    assert_eq!(conf.nodes.len(), 2);
    let me = conf
        .nodes
        .iter()
        .find(|r| r.flags & crate::codec::flags::MYSELF != 0)
        .expect("myself saved");
    assert_eq!(
        me.slots,
        vec![crate::config::SlotRange { start: 0, end: 99 }]
    );
    let r = Core::restart(&conf, *a.config(), 5000).expect("restart");
    assert_eq!(r.id(), a.id());
    assert_eq!((r.current_epoch(), r.config_epoch()), (1, 1));
    assert_eq!(r.slot_owner(99), Some(a.id()));
    assert_eq!(r.slot_owner(100), None);
    assert!(r
        .node(&[b'b'; 40])
        .map(|n| n.link == LinkState::Down)
        .unwrap_or(false));
    let mut bad = conf.clone();
    bad.nodes
        .retain(|n| n.flags & crate::codec::flags::MYSELF == 0);
    assert_eq!(
        Core::restart(&bad, *a.config(), 0).err(),
        Some(RestartError::NoMyself)
    );
}

#[test]
fn cluster_info_counts_slots_and_messages() {
    let (mut a, _) = met_pair(1000);
    a.handle(
        0,
        Event::Command(ClusterCommand::AddSlots((0..16384).collect())),
    );
    let info = a.info();
    assert_eq!(
        (info.slots_assigned, info.slots_ok, info.slots_fail),
        (16384, 16384, 0)
    );
    assert_eq!((info.known_nodes, info.size), (2, 1));
    assert_eq!(info.state, ClusterState::Ok);
    let t = |m: crate::codec::MessageType| m as usize;
    use crate::codec::MessageType::{Meet, Ping, Pong};
    assert_eq!(info.stats.sent[t(Meet)], 1);
    assert_eq!(info.stats.received[t(Pong)], 1);
    assert_eq!(info.stats.received[t(Ping)], 1);
    assert_eq!(info.stats.sent[t(Pong)], 1);
}

#[test]
fn meet_rejects_addresses_that_are_not_ip_literals() {
    let mut a = core(b'a', 7000, 1000);
    for (ip, ok) in [
        ("127.0.0.1", true),
        ("::1", true),
        ("localhost", false),
        ("1.2.3.256", false),
        ("", false),
    ] {
        let cmd = ClusterCommand::Meet {
            ip: ip.into(),
            port: 7001,
            cport: 17001,
            handshake_id: [b'h'; 40],
        };
        let eff = a.handle(0, Event::Command(cmd));
        let reply = eff.last().cloned();
        if ok {
            assert_eq!(reply, Some(Effect::Reply(Reply::Ok)), "{ip}");
        } else {
            let want = format!("ERR Invalid node address specified: {ip}:7001");
            assert_eq!(reply, Some(Effect::Reply(Reply::Error(want))), "{ip}");
        }
    }
}

/// A formed 3+3 cluster (NT = 1000): the cores of master 1 (voter) and
/// replica 3 (of master 0), taken while master 0 is still up.
fn voter_and_candidate() -> (Core, Core, crate::sim::Sim) {
    let cfg = CoreConfig {
        node_timeout_ms: 1000,
        ..CoreConfig::default()
    };
    let mut sim = crate::sim::Sim::new(6, cfg, 31);
    if let Err(e) = sim.create_cluster(3, 30_000) {
        panic!("{e}");
    }
    let (Some(v), Some(c)) = (sim.core(1).cloned(), sim.core(3).cloned()) else {
        panic!("nodes down")
    };
    (v, c, sim)
}

/// An AUTH_REQUEST header from `candidate` for the next epoch.
fn auth_request(candidate: &mut Core, now: u64, to: NodeName) -> crate::codec::Header {
    let eff = candidate.handle(
        now,
        Event::PingDue {
            peer: to,
            gossip: vec![],
        },
    );
    let mut h = msgs(&eff).remove(0).1.header;
    h.current_epoch += 1;
    h
}

#[test]
fn may_vote_for_applies_each_redis_rule() {
    use super::vote::VoteDenied;
    use crate::codec::mflags0;
    let (mut voter, mut cand, sim) = voter_and_candidate();
    let now = sim.now_ms();
    let (v_id, c_id, m_id) = (sim.id(1), sim.id(3), sim.id(0));
    let req = auth_request(&mut cand, now, v_id);
    assert_eq!(
        voter.may_vote_for(now, &c_id, &req),
        Err(VoteDenied::MasterUp)
    );
    let mut forced = req.clone();
    forced.mflags[0] |= mflags0::FORCEACK;
    assert_eq!(
        voter.may_vote_for(now, &c_id, &forced),
        Ok(()),
        "FORCEACK skips the FAIL check"
    );
    let mut stale = req.clone();
    stale.current_epoch = voter.current_epoch() - 1;
    assert_eq!(
        voter.may_vote_for(now, &c_id, &stale),
        Err(VoteDenied::StaleEpoch)
    );
    assert_eq!(
        voter.may_vote_for(now, &m_id, &req),
        Err(VoteDenied::NotAReplica),
        "a master asks"
    );
    assert_eq!(
        cand.may_vote_for(now, &c_id, &req),
        Err(VoteDenied::NotAVoter),
        "replicas do not vote"
    );
    let mut old_claim = forced.clone();
    old_claim.config_epoch = 0;
    old_claim.myslots.insert(16383); // owned by master 2 with configEpoch 3
    assert_eq!(
        voter.may_vote_for(now, &c_id, &old_claim),
        Err(VoteDenied::StaleSlotClaim)
    );

    // Grant the forced request: the vote is synced before the ACK leaves.
    let epoch = forced.current_epoch;
    let msg = crate::codec::Message {
        header: forced.clone(),
        body: Body::FailoverAuthRequest,
    };
    let eff = voter.handle(now, deliver(LinkId::Inbound(77), msg));
    let (durable, after) = split_at_sync(eff);
    assert!(
        matches!(durable.last(), Some(Effect::Persist { conf, fsync: true }) if conf.last_vote_epoch == epoch)
    );
    assert!(
        sends(&after).any(|(l, m)| *l == LinkId::Outbound(c_id) && m.body == Body::FailoverAuthAck)
    );
    assert_eq!(voter.last_vote_epoch(), epoch);
    assert_eq!(
        voter.may_vote_for(now, &c_id, &forced),
        Err(VoteDenied::AlreadyVoted)
    );
    // A new epoch, but within 2·NT of the vote for the same master.
    let mut next = forced.clone();
    next.current_epoch = epoch + 1;
    voter.handle(
        now,
        Event::PingDue {
            peer: c_id,
            gossip: vec![],
        },
    );
    let bump = crate::codec::Message {
        header: next.clone(),
        body: Body::Pong {
            gossip: vec![],
            extensions: vec![],
        },
    };
    voter.handle(now, deliver(LinkId::Outbound(c_id), bump));
    assert_eq!(voter.current_epoch(), epoch + 1);
    assert_eq!(
        voter.may_vote_for(now + 2000 - 1, &c_id, &next),
        Err(VoteDenied::VotedRecently)
    );
    assert_eq!(voter.may_vote_for(now + 2000, &c_id, &next), Ok(()));
}

#[test]
fn messages_claiming_to_be_from_myself_or_about_myself_change_nothing() {
    let (mut a, mut b) = met_pair(1000);
    let before = a.summary();
    // b's PING with a's name as sender, a higher epoch and a master set.
    let mut ping = msgs(&b.handle(
        10,
        Event::PingDue {
            peer: a.id(),
            gossip: vec![],
        },
    ))
    .remove(0)
    .1;
    ping.header.sender = a.id();
    ping.header.config_epoch = 99;
    ping.header.slaveof = b.id();
    let eff = a.handle(10, deliver(LinkId::Inbound(9), ping.clone()));
    assert_eq!(msgs(&eff).len(), 1, "still answered with a PONG");
    assert_eq!(a.summary(), before);
    let update = Body::Update {
        config_epoch: 50,
        nodename: a.id(),
        slots: crate::codec::SlotBitmap::empty(),
    };
    let msg = Message {
        header: ping.header.clone(),
        body: update,
    };
    let mut msg = msg;
    msg.header.sender = b.id();
    a.handle(20, deliver(LinkId::Inbound(9), msg));
    assert_eq!(a.config_epoch(), before.config_epoch);
    assert!(a.is_master());
}

#[test]
fn the_pong_that_completes_a_handshake_counts_as_a_pong() {
    let mut a2 = core(b'a', 7000, 1000);
    let mut b2 = core(b'b', 7001, 1000);
    let hs = [b'h'; 40];
    let cmd = ClusterCommand::Meet {
        ip: "127.0.0.1".into(),
        port: 7001,
        cport: 17001,
        handshake_id: hs,
    };
    a2.handle(100, Event::Command(cmd));
    a2.handle(100, Event::Reconnect(hs));
    let meet = msgs(&a2.handle(
        100,
        Event::LinkUp {
            peer: hs,
            gossip: GossipChoice::Seed(1),
        },
    ));
    let pong = msgs(&b2.handle(150, deliver(LinkId::Inbound(1), meet[0].1.clone())));
    a2.handle(200, deliver(LinkId::Outbound(hs), pong[0].1.clone()));
    assert_eq!(a2.node(&[b'b'; 40]).map(|n| n.pong_received_ms), Some(200));
}

#[test]
fn persisted_slot_ranges_cover_word_and_byte_edges() {
    use crate::config::SlotRange;
    let mut a = core(b'a', 7000, 1000);
    let mut slots: Vec<u16> = (0..=64).collect();
    slots.push(70);
    slots.extend(127..=200);
    slots.push(16383);
    a.handle(0, Event::Command(ClusterCommand::AddSlots(slots)));
    let conf = a.persisted();
    let r = |start, end| SlotRange { start, end };
    assert_eq!(
        conf.nodes[0].slots,
        vec![r(0, 64), r(70, 70), r(127, 200), r(16383, 16383)]
    );
}
