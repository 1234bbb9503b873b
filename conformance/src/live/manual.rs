//! The scenarios where the election itself is steered: manual failovers
//! (CLUSTER FAILOVER, FORCE, TAKEOVER, one after the other on the same
//! shard) and lost votes (the tap drops every AUTH_ACK until the candidate
//! has timed out and asked again).

use super::cluster::Cluster;
use super::error::LiveError;
use super::form::form;
use super::milestones::{self as ms, Election, Milestone};
use super::observe::Event;
use super::rules::Nodes;
use super::scenarios::{failover_limit, own_slots, wait_promoted, wait_replica_of};
use clusterbus_node::codec::MessageType;

fn events(c: &Cluster) -> Vec<Event> {
    c.rec.events().0
}

/// Sends `CLUSTER FAILOVER [option]` to `new` (a replica of `old`) and waits
/// until it holds `old`'s slots everywhere and `old` replicates it.
fn manual(c: &mut Cluster, old: usize, new: usize, option: Option<&str>) -> Result<u64, LiveError> {
    let slots = own_slots(c, old)?;
    let t = c.rec.now_us();
    let mut args = vec!["CLUSTER", "FAILOVER"];
    args.extend(option);
    c.cmd(new, &args)?;
    c.rec.note(format!(
        "CLUSTER FAILOVER {} sent to node {new}",
        option.unwrap_or("")
    ));
    let judges: Vec<usize> = (0..c.len()).filter(|j| *j != new).collect();
    let ids = c.ids();
    let what = format!("node {new} to take node {old}'s slots by CLUSTER FAILOVER {option:?}");
    c.wait_until(&what, failover_limit(c), |c| {
        judges.iter().all(|j| {
            c.view(*j)
                .is_some_and(|v| super::form::master_with_slots(&v, &ids[new], &slots))
        }) && c
            .rec
            .scan(|e| {
                ms::first_frame(e, String::new(), t, |f| claims_now(f, new))
                    .t_us
                    .is_some()
            })
            .unwrap_or(false)
    })?;
    c.snapshot_all();
    wait_replica_of(c, old, new, t)?;
    // A manual failover started before the voters have heard that `old` is
    // a replica now is refused ("it is a master node") and retried 2 x the
    // auth timeout later: wait until every node has heard.
    let what = format!("every node to see node {old} as a replica of node {new}");
    c.wait_until(&what, failover_limit(c), |c| {
        (0..c.len()).all(|j| {
            c.view(j)
                .is_some_and(|v| super::form::replica_in(&v, &ids[old], &ids[new]))
        })
    })?;
    Ok(t)
}

fn claims_now(f: &ms::F, new: usize) -> bool {
    f.from == Some(new) && f.header.flags.contains(&"master") && !f.header.slots.is_empty()
}

/// FAILOVER (3 takes over from 0), FORCE (0 back from 3), TAKEOVER (3 again).
pub fn manual_failover(c: &mut Cluster) -> Result<Vec<Milestone>, LiveError> {
    form(c, 3, &[0])?;
    let slots = ms::slots_claimed(&events(c), 0, c.rec.now_us());
    let t1 = manual(c, 0, 3, None)?;
    let e = events(c);
    let mut m = vec![
        ms::first_frame(&e, "MFSTART from node 3 to node 0".into(), t1, |f| {
            f.msg_type == "MFSTART" && f.from == Some(3) && f.to == Some(0)
        }),
        ms::first_frame(
            &e,
            "node 0 pings node 3 with the PAUSED flag".into(),
            t1,
            |f| f.from == Some(0) && f.to == Some(3) && f.header.mflags.contains(&"paused"),
        ),
    ];
    let who = |old, new| Election {
        old,
        new,
        masters: 3,
        forceack: true,
    };
    let (won, e1) = ms::election(&e, &who(0, 3), slots.clone(), Some(t1));
    m.extend(won);
    let t2 = manual(c, 3, 0, Some("FORCE"))?;
    let e = events(c);
    let (won, e2) = ms::election(&e, &who(3, 0), slots.clone(), Some(t2));
    m.extend(won);
    m.push(
        ms::first_frame(&e, "no MFSTART for FORCE".into(), t2, |f| {
            f.msg_type == "MFSTART"
        })
        .absent(),
    );
    let t3 = manual(c, 0, 3, Some("TAKEOVER"))?;
    let e = events(c);
    let newer = e2.max(e1).unwrap_or(u64::MAX);
    let claim = ms::first_frame(
        &e,
        format!("TAKEOVER: node 3 claims the slots with a configEpoch above {newer}"),
        t3,
        |f| ms::claims(f, 3, &slots) && f.header.config_epoch > newer,
    );
    let asked = ms::first_frame(&e, String::new(), t3, |f| {
        f.msg_type == "AUTH_REQUEST" && f.from == Some(3)
    });
    let quiet = claim.t_us.filter(|c| asked.t_us.is_none_or(|a| a > *c));
    m.push(claim);
    m.push(Milestone {
        name: "TAKEOVER: no AUTH_REQUEST before the claim".into(),
        t_us: quiet,
    });
    Ok(m)
}

/// Drops every AUTH_ACK to node 3, kills node 0, and releases the votes
/// only after node 3 has asked in a second epoch.
pub fn lost_votes(c: &mut Cluster) -> Result<Vec<Milestone>, LiveError> {
    form(c, 3, &[0])?;
    let slots = own_slots(c, 0)?;
    let rule = c.tap.drop_frames(
        Nodes::ALL,
        Nodes::one(3),
        vec![MessageType::FailoverAuthAck],
    );
    c.kill9(0)?;
    let t = c.rec.now_us();
    let mut epochs: Vec<u64> = Vec::new();
    // The retry comes 2 x max(2 NT, 2 s) after the first request.
    c.wait_until(
        "node 3 to ask for votes in a second epoch",
        failover_limit(c),
        |c| {
            epochs = c.rec.scan(|e| request_epochs(e, 3, t)).unwrap_or_default();
            epochs.len() >= 2
        },
    )?;
    c.tap.release(rule);
    let t_release = c.rec.now_us();
    wait_promoted(c, (0, 3, t), 3, &slots, &[1, 2])?;
    let e = events(c);
    let dropped = ms::first_frame(
        &e,
        format!("AUTH_ACKs to node 3 in epoch {} dropped", epochs[0]),
        t,
        |f| {
            f.msg_type == "AUTH_ACK"
                && f.to == Some(3)
                && f.header.current_epoch == epochs[0]
                && f.fate == super::observe::Fate::Dropped
        },
    );
    let retry = ms::first_frame(
        &e,
        format!("node 3 asks again in epoch {}", epochs[1]),
        t,
        |f| {
            f.msg_type == "AUTH_REQUEST" && f.from == Some(3) && f.header.current_epoch == epochs[1]
        },
    );
    let (won, epoch) = ms::failover(&e, 0, 3, 3, t);
    let mut m = vec![dropped, retry];
    m.extend(won);
    let late = epoch.is_some_and(|ep| ep > epochs[0]);
    m.push(Milestone {
        name: "the winning epoch is a later one than the first request's".into(),
        t_us: late.then_some(t_release),
    });
    Ok(m)
}

/// The distinct epochs of `from`'s AUTH_REQUESTs after `after`, in order.
fn request_epochs(e: &[Event], from: usize, after: u64) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    for f in ms::frames(e)
        .filter(|f| f.t_us > after && f.from == Some(from) && f.msg_type == "AUTH_REQUEST")
    {
        if !out.contains(&f.header.current_epoch) {
            out.push(f.header.current_epoch);
        }
    }
    out
}
