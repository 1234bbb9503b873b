//! Conformance must notice a node that breaks a rule: each test breaks one
//! rule of every core and replays a trace through the step where that rule
//! first decides something, and the replay must part ways exactly there.

use super::mapping::Mapping;
use super::{Replayer, StepError};
use crate::traces::{bug_trace, discovery_traces, Trace};
use clusterbus_model::step::apply;
use clusterbus_model::{Action, Body, Bug, Gossip, ModelCfg, State};
use clusterbus_node::core::alteration::Alteration;

fn config(name: &str) -> ModelCfg {
    ModelCfg::named(name).expect("a named configuration")
}

/// Replays `trace` with `rule` broken; the step of the first disagreement.
fn first_disagreement(cfg: &ModelCfg, trace: &Trace, rule: Option<Alteration>) -> Option<usize> {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut r = Replayer::new(Mapping::new(cfg), dir.path().to_path_buf()).expect("replayer");
    if let Some(rule) = rule {
        r.alter(rule);
    }
    r.check_initial(&trace.states[0])
        .expect("initial states agree");
    for (k, a) in trace.actions.iter().enumerate() {
        match r.step(k + 1, &trace.states[k], a, &trace.states[k + 1]) {
            Ok(()) => {}
            Err(StepError::Disagreement(d)) => return Some(d.step),
            Err(StepError::BeyondRealTime(why)) => panic!("step {}: {why}", k + 1),
        }
    }
    None
}

/// The first step where the model with `bug` goes elsewhere than the trace.
fn first_step_where(cfg: &ModelCfg, trace: &Trace, bug: Bug) -> Option<usize> {
    let buggy = cfg.clone().with_bug(Some(bug));
    trace.actions.iter().enumerate().find_map(|(k, a)| {
        let mut s = trace.states[k];
        apply(&buggy, &mut s, a);
        (s != trace.states[k + 1]).then_some(k + 1)
    })
}

/// The first step matching `pred(before, action)`.
fn first_step_matching(trace: &Trace, pred: impl Fn(&State, &Action) -> bool) -> Option<usize> {
    (0..trace.actions.len())
        .find_map(|k| pred(&trace.states[k], &trace.actions[k]).then_some(k + 1))
}

/// Asserts the intact core agrees all the way, and the altered one parts
/// ways at `expected`.
fn assert_caught_at(cfg: &ModelCfg, trace: &Trace, rule: Alteration, expected: usize) {
    assert_eq!(
        first_disagreement(cfg, trace, None),
        None,
        "intact core on {}",
        trace.name
    );
    assert_eq!(
        first_disagreement(cfg, trace, Some(rule)),
        Some(expected),
        "{rule:?} on {}",
        trace.name
    );
}

#[test]
fn a_second_vote_in_one_epoch_is_caught() {
    let cfg = config("failover-3m2r");
    let trace = bug_trace(&cfg, Bug::VoteIgnoresLastVoteEpoch).expect("a counterexample");
    let at =
        first_step_where(&cfg, &trace, Bug::VoteIgnoresLastVoteEpoch).expect("the rule matters");
    assert_caught_at(&cfg, &trace, Alteration::VoteIgnoresLastVoteEpoch, at);
}

#[test]
fn a_slot_import_without_a_bump_is_caught() {
    let cfg = config("reshard-3m1r");
    let trace = bug_trace(&cfg, Bug::SetSlotNoBump).expect("a counterexample");
    let at = first_step_where(&cfg, &trace, Bug::SetSlotNoBump).expect("the rule matters");
    assert_caught_at(&cfg, &trace, Alteration::SetSlotNoBump, at);
}

#[test]
fn fail_on_one_report_is_caught() {
    let cfg = config("failover-3m1r");
    let trace = bug_trace(&cfg, Bug::FailOnMinority).expect("a counterexample");
    let at = first_step_where(&cfg, &trace, Bug::FailOnMinority).expect("the rule matters");
    assert_caught_at(&cfg, &trace, Alteration::FailOnOneReport, at);
}

#[test]
fn a_stale_claim_winning_is_caught() {
    let cfg = config("failover-3m1r");
    // A master's PING/PONG claims a shard that the receiver sees owned by
    // another master with a configEpoch at least as new: the old master
    // back from a crash, before it learns it lost its shard.
    let stale_claim = |st: &State, a: &Action| {
        let Action::Deliver { from, to } = *a else {
            return false;
        };
        let Some(msg) = st.link(from, to).first() else {
            return false;
        };
        let node = &st.nodes[to as usize];
        let claim = matches!(
            msg.body,
            Body::Ping { .. } | Body::Pong { .. } | Body::Meet { .. }
        ) && msg.header.master.is_none()
            && node.peers[from as usize].known;
        claim
            && msg
                .header
                .shards
                .iter()
                .any(|shard| match node.owners[shard as usize] {
                    Some(o) if o != from => node.epoch_of(to, o) >= msg.header.config_epoch,
                    _ => false,
                })
    };
    // The path to the rejoin, but the old master speaks first after its
    // restart: it pings n1 claiming the shard n3 has taken over.
    let rejoin = discovery_traces(&cfg)
        .into_iter()
        .find(|t| t.name == "old master rejoins as replica")
        .expect("the rejoin is discovered");
    let restart = rejoin
        .actions
        .iter()
        .position(|a| *a == Action::Restart { node: 0 })
        .expect("n0 restarts");
    let mut actions = rejoin.actions[..=restart].to_vec();
    actions.push(Action::SendPing {
        node: 0,
        peer: 1,
        gossip: [2, 3]
            .into_iter()
            .map(|node| Gossip {
                node,
                failing: false,
            })
            .collect(),
    });
    actions.push(Action::Deliver { from: 0, to: 1 });
    let trace = Trace::from_actions(&cfg, "stale claim".into(), &actions);
    assert_eq!(
        trace.actions.len(),
        actions.len(),
        "the model takes every step"
    );
    let at = first_step_matching(&trace, stale_claim).expect("a stale claim arrives");
    assert_caught_at(&cfg, &trace, Alteration::StaleClaimWins, at);
}

#[test]
fn a_handshake_without_rename_is_caught() {
    let cfg = config("handshake-3");
    let trace = discovery_traces(&cfg)
        .into_iter()
        .find(|t| t.name == "handshake completes")
        .expect("the handshake is discovered");
    // The first PONG to a node that has its sender as a handshake node.
    let at = first_step_matching(&trace, |st, a| {
        let Action::Deliver { from, to } = *a else {
            return false;
        };
        let pong = st
            .link(from, to)
            .first()
            .is_some_and(|m| matches!(m.body, Body::Pong { .. }));
        pong && st.nodes[to as usize].peers[from as usize]
            .handshake
            .is_some()
    })
    .expect("a handshake ends");
    assert_caught_at(&cfg, &trace, Alteration::NoHandshakeRename, at);
}

#[test]
fn random_walks_of_the_default_configuration_agree() {
    let cfg = config(ModelCfg::DEFAULT);
    for w in 0..50 {
        let trace = crate::traces::random_walk(&cfg, 7, w, 60);
        assert_eq!(
            first_disagreement(&cfg, &trace, None),
            None,
            "{}",
            trace.name
        );
    }
}
