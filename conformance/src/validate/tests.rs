//! Live validation's own tests: a kept redis-server trace is validated,
//! and hand-edited copies of it, each breaking one protocol rule, are
//! rejected at the observation where the rule is first broken (found by
//! the test from its own edit, not written down).

use serde_json::Value;

use super::observed::{parse, ObservedTrace};
use super::{validate, Validation, Verdict, MAX_INTERNAL};

/// redis-server 7.0.15, `live record --scenario failover-3m1r`: kill -9 of
/// master 0, its replica 3 promoted in epoch 4.
const FAILOVER: &str = include_str!("../../traces/live/failover-3m1r-redis-server.jsonl");

/// redis-server 7.0.15, `live record --scenario rejoin`: the failover, then
/// node 0 restarted on its nodes.conf, stepping down from the new owner's
/// PONG; no UPDATE on the wire (`specs/divergences.md`).
const REJOIN: &str = include_str!("../../traces/live/rejoin-redis-server.jsonl");

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("the kept trace is JSON lines"))
        .collect()
}

fn join(v: &[Value]) -> ObservedTrace {
    let text: String = v.iter().map(|l| format!("{l}\n")).collect();
    parse(&text).expect("the edited trace parses")
}

fn run(t: &ObservedTrace) -> Validation {
    validate(t, MAX_INTERNAL, |_, _| {})
}

fn is_frame(l: &Value, ty: &str) -> bool {
    l["ev"] == "frame" && l["type"] == ty
}

/// The rejected event (index among events, the head line not counted).
fn rejected_at(v: &Validation) -> usize {
    match &v.verdict {
        Verdict::Rejected { event, .. } => *event,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn a_redis_server_failover_is_a_behaviour_of_the_model() {
    let t = parse(FAILOVER).expect("the kept trace parses");
    let v = run(&t);
    assert!(matches!(v.verdict, Verdict::Validated), "{:?}", v.verdict);
    // Everything after the formed note was looked at: the kill, the FAIL
    // broadcasts, both votes and the winner's PONGs among them.
    let frames_after = t.events[v.mapping.as_ref().map_or(0, |m| m.start)..]
        .iter()
        .filter(|e| matches!(e, super::observed::EventRead::Frame { .. }))
        .count();
    assert!(
        v.stats.observations >= frames_after,
        "{} < {frames_after}",
        v.stats.observations
    );
    // The node timeouts of n1, n2, n3 and n3's election are internal steps.
    assert!(v.internal >= 4, "{} internal steps", v.internal);
    let cfg = v.cfg.expect("a configuration");
    assert_eq!(
        (cfg.masters, cfg.replicas.clone(), cfg.crashable.clone()),
        (3, vec![0], vec![0])
    );
    assert_eq!(cfg.max_epoch, 4, "epochs 0..4 seen");
}

#[test]
fn a_second_auth_ack_in_one_epoch_is_rejected_where_it_is_sent() {
    let mut l = lines(FAILOVER);
    let ack = l
        .iter()
        .position(|x| is_frame(x, "AUTH_ACK"))
        .expect("an AUTH_ACK");
    l.insert(ack + 1, l[ack].clone());
    let v = run(&join(&l));
    // Line `k` is event `k - 1` (line 0 is the head): the copy, at line
    // `ack + 1`, is event `ack`.
    assert_eq!(rejected_at(&v), ack);
}

#[test]
fn a_fail_sent_with_too_few_reports_is_rejected_where_it_is_sent() {
    let mut l = lines(FAILOVER);
    let fail = l.iter().position(|x| is_frame(x, "FAIL")).expect("a FAIL");
    let sender = l[fail]["from"].clone();
    // No failure report reaches the FAIL's sender: its own PFAIL is one
    // report of the two a majority of three masters needs.
    for x in l[..fail]
        .iter_mut()
        .filter(|x| x["ev"] == "frame" && x["to"] == sender)
    {
        if let Some(gossip) = x["body"]["gossip"].as_array_mut() {
            for g in gossip {
                if let Some(flags) = g["flags"].as_array_mut() {
                    flags.retain(|f| f != "fail?" && f != "fail");
                }
            }
        }
    }
    let v = run(&join(&l));
    assert_eq!(rejected_at(&v), fail - 1);
}

#[test]
fn a_promotion_without_a_majority_is_rejected_at_the_winners_first_claim() {
    let mut l = lines(FAILOVER);
    let acks: Vec<usize> = (0..l.len())
        .filter(|k| is_frame(&l[*k], "AUTH_ACK"))
        .collect();
    assert_eq!(acks.len(), 2, "two votes of three masters' two live ones");
    let winner = l[acks[0]]["to"].clone();
    l.remove(acks[1]);
    // The winner's first frame as a master: its claim of the old master's slots.
    let claim = (acks[1]..l.len())
        .find(|k| {
            let x = &l[*k];
            x["ev"] == "frame" && x["from"] == winner && x["header"]["master_id"].is_null()
        })
        .expect("the winner claims the slots");
    let v = run(&join(&l));
    assert_eq!(rejected_at(&v), claim - 1);
}

#[test]
fn an_epoch_gap_is_renumbered_and_still_validates() {
    // Every epoch from 4 on moved to 7: ranks keep their order, so the
    // trace maps to the same model path.
    fn shift(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    match x.as_u64().filter(|e| *e >= 4) {
                        Some(e) if k == "current_epoch" || k == "config_epoch" => {
                            *x = Value::from(e + 3)
                        }
                        _ => shift(x),
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(shift),
            _ => {}
        }
    }
    let mut l = lines(FAILOVER);
    l.iter_mut().skip(1).for_each(shift);
    let v = run(&join(&l));
    assert!(matches!(v.verdict, Verdict::Validated), "{:?}", v.verdict);
    let renumbered = v.mapping.expect("a mapping").renumbered();
    assert_eq!(renumbered, vec![(7, 4)]);
}

#[test]
fn a_redis_server_rejoin_without_updates_is_a_behaviour_of_the_model() {
    let l = lines(REJOIN);
    assert!(
        !l.iter().any(|x| is_frame(x, "UPDATE")),
        "the kept run has no UPDATE"
    );
    let t = parse(REJOIN).expect("the kept trace parses");
    let v = run(&t);
    assert!(matches!(v.verdict, Verdict::Validated), "{:?}", v.verdict);
    let cfg = v.cfg.expect("a configuration");
    assert_eq!((cfg.max_crashes, cfg.crashable.clone()), (1, vec![0]));
}

/// redis-server 7.0.15, `live record --scenario failover-3m1r` on a loaded
/// machine: node 2 answers node 1's PING, then declares node 0 FAIL; its
/// FAILs reach the wire before that PONG (built first, sent on the
/// connection node 1 opened), and node 1, taking the PONG's gossip as
/// its last report, declares FAIL too.
const TWO_STREAMS: &str =
    include_str!("../../traces/live/failover-3m1r-two-streams-redis-server.jsonl");

#[test]
fn a_reply_shown_after_its_senders_fail_is_taken_on_its_own_connection() {
    let l = lines(TWO_STREAMS);
    // The PONG 2 -> 1 on the connection node 1 opened, after 2's FAIL to 1.
    let fail = l
        .iter()
        .position(|x| is_frame(x, "FAIL") && x["from"] == 2 && x["to"] == 1)
        .expect("node 2's FAIL to node 1");
    let reply = fail
        + l[fail..]
            .iter()
            .position(|x| is_frame(x, "PONG") && x["from"] == 2 && x["to"] == 1)
            .expect("node 2's PONG to node 1 after it");
    assert_eq!(l[reply]["tap"], 2, "a reply: the tap fronts its sender");
    let v = run(&join(&l));
    assert!(matches!(v.verdict, Verdict::Validated), "{:?}", v.verdict);
    // The same PONG on node 2's own connection would follow its FAIL
    // there, and the model has no PONG behind the FAIL: rejected.
    let mut own = l.clone();
    own[reply]["tap"] = Value::from(1);
    let v = run(&join(&own));
    assert_eq!(rejected_at(&v), reply - 1, "{:?}", v.verdict);
}
