//! Which actions are enabled in a state, and what each does. Message handling
//! is in `receive`; this module holds cron, timers, the operator and faults.

use crate::action::Action;
use crate::config::{Bug, ModelCfg, MoveStep};
use crate::message::{Body, Epoch, Gossip, GossipList, Msg, NodeIx, Shard, MAX_NODES};
use crate::receive::{broadcast, broadcast_pong, header_of, pong_matters, receive, send};
use crate::rules;
use crate::state::{Election, State, MOVE_ABORTED};

/// Every action enabled in `st`.
pub fn enabled(cfg: &ModelCfg, st: &State, out: &mut Vec<Action>) {
    for (k, &(node, peer)) in cfg.meets.iter().enumerate() {
        if st.meets_pending & (1 << k) != 0 {
            out.push(Action::Meet {
                index: k as u8,
                node,
                peer,
            });
        }
    }
    let n = st.n() as NodeIx;
    for from in 0..n {
        for to in (0..n).filter(|&to| to != from) {
            if !st.link(from, to).is_empty() {
                out.push(Action::Deliver { from, to });
                if st.link_breaks < cfg.max_link_breaks {
                    out.push(Action::LinkBreak { from, to });
                }
            }
        }
    }
    for i in 0..n {
        if st.nodes[i as usize].up {
            node_actions(cfg, st, i, out);
        } else {
            out.push(Action::Restart { node: i });
        }
    }
    if let Some(action) = operator_action(cfg, st) {
        out.push(action);
    }
}

/// The operator's next migration step, once its node is up (`redis-cli`
/// cannot reach a node that is down; the model's operator waits for it,
/// which includes giving up there).
pub fn operator_action(cfg: &ModelCfg, st: &State) -> Option<Action> {
    let r = cfg.reshard?;
    let step = *r.steps(cfg.masters).get(st.operator as usize)?;
    let action = match step {
        MoveStep::Importing { node } => Action::SetSlotImporting {
            node,
            shard: r.shard,
            from: r.from,
        },
        MoveStep::Node { node } => Action::SetSlotNode {
            node,
            shard: r.shard,
            owner: r.to,
        },
    };
    st.nodes[action.lane() as usize].up.then_some(action)
}

/// Cron and timer actions of an up node, and its crash.
fn node_actions(cfg: &ModelCfg, st: &State, i: NodeIx, out: &mut Vec<Action>) {
    let node = &st.nodes[i as usize];
    for (j, peer) in node.peers.iter().enumerate() {
        let j = j as NodeIx;
        if j == i {
            continue;
        }
        let j_up = st.nodes[j as usize].up;
        if (peer.known || peer.handshake.is_some()) && !peer.ping_pending && j_up {
            ping_actions(cfg, st, i, j, out);
        }
        let awaiting = peer.ping_pending || !j_up;
        if peer.known && awaiting && !peer.pfail && !peer.fail && may_time_out(cfg, st, i, j) {
            out.push(Action::NodeTimeout { node: i, peer: j });
        }
        let expiring = if cfg.report_expiry { peer.reports } else { 0 };
        for r in (0..st.n() as NodeIx).filter(|r| expiring & (1 << r) != 0) {
            out.push(Action::ReportExpired {
                node: i,
                about: j,
                reporter: r,
            });
        }
        let serves = node.owners.contains(&Some(j));
        if peer.fail && peer.master.is_none() && serves && st.nodes[j as usize].up {
            out.push(Action::FailUndo { node: i, about: j });
        }
        if node.recently_voted & (1 << j) != 0 {
            out.push(Action::VoteCooldown { node: i, master: j });
        }
        if peer.handshake.is_some() && peer.ping_pending && may_time_out(cfg, st, i, j) {
            out.push(Action::HandshakeTimeout { node: i, peer: j });
        }
    }
    // The configuration's epoch bound, not a Redis rule, stops elections too.
    if rules::may_start_election(cfg, node) && node.current_epoch < cfg.max_epoch {
        out.push(Action::ElectionDue { node: i });
    }
    if node.election.is_some() {
        out.push(Action::AuthTimeout { node: i });
    }
    if st.crashes < cfg.max_crashes && cfg.crashable.contains(&i) {
        out.push(Action::Crash { node: i });
    }
}

/// A PING to `j`, once per choice of gossip entries Redis's size rule allows.
fn ping_actions(cfg: &ModelCfg, st: &State, i: NodeIx, j: NodeIx, out: &mut Vec<Action>) {
    if st.link(i, j).len() >= cfg.max_queue {
        return;
    }
    let node = &st.nodes[i as usize];
    let table = 1 + node
        .peers
        .iter()
        .filter(|p| p.known || p.handshake.is_some())
        .count();
    let wanted = rules::gossip_wanted(table);
    // An entry about the receiver itself has no effect there: leave it out.
    let mut candidates = rules::gossip_candidates(i, node);
    candidates.remove(j);
    let pfail = rules::gossip_pfail(i, node);
    for_each_subset(&candidates, wanted.min(candidates.len()), |mut gossip| {
        gossip.extend(pfail.iter());
        let action = Action::SendPing {
            node: i,
            peer: j,
            gossip,
        };
        if ping_matters(cfg, st, &action) {
            out.push(action);
        }
    });
}

/// Whether a PING could have an effect: it is a handshake, or delivering it
/// now would change its receiver's state or make the receiver send something
/// besides a PONG that tells nothing new (see `receive::pong_matters`).
///
/// A PING that would change nothing only keeps a healthy link's ping timer
/// turning, and over FIFO links a stale copy can only repeat what the receiver
/// already had from the same sender. Leaving such pings out is what keeps the
/// state space finite and small; `specs/model.md` gives the argument.
fn ping_matters(cfg: &ModelCfg, st: &State, action: &Action) -> bool {
    let Action::SendPing {
        node: i, peer: j, ..
    } = *action
    else {
        return true;
    };
    if st.nodes[i as usize].peers[j as usize].handshake.is_some() {
        return true;
    }
    let mut after = *st;
    apply(cfg, &mut after, action);
    apply(cfg, &mut after, &Action::Deliver { from: i, to: j });
    after.nodes[j as usize] != st.nodes[j as usize] || after.in_flight() != st.in_flight()
}

/// Calls `f` with every `k`-element subset of `items`, in lexicographic order
/// of positions (the combinations of `k` out of `items.len()`).
fn for_each_subset(items: &GossipList, k: usize, mut f: impl FnMut(GossipList)) {
    let mut entries = [Gossip::default(); MAX_NODES];
    for (slot, g) in entries.iter_mut().zip(items.iter()) {
        *slot = g;
    }
    let n = items.len();
    if k > n {
        return;
    }
    // `pick[..k]` are the chosen positions, strictly increasing.
    let mut pick: [usize; MAX_NODES] = [0; MAX_NODES];
    for (x, p) in pick.iter_mut().enumerate().take(k) {
        *p = x;
    }
    loop {
        f(pick[..k].iter().map(|&p| entries[p]).collect());
        // The rightmost position that can still move right, moved, and the
        // ones after it packed behind it.
        let Some(x) = (0..k).rev().find(|&x| pick[x] < n - k + x) else {
            return;
        };
        pick[x] += 1;
        for y in x + 1..k {
            pick[y] = pick[y - 1] + 1;
        }
    }
}

/// A ping outstanding for NT turns into PFAIL only when its answer cannot
/// come: the peer is down, or neither the PING nor the PONG is in flight (a
/// link broke). With `spurious_timeouts`, a slow answer is enough.
fn may_time_out(cfg: &ModelCfg, st: &State, i: NodeIx, j: NodeIx) -> bool {
    if cfg.spurious_timeouts || !st.nodes[j as usize].up {
        return true;
    }
    if !st.nodes[i as usize].peers[j as usize].ping_pending {
        return false;
    }
    let ping_in_flight = st
        .link(i, j)
        .iter()
        .any(|m| matches!(m.body, Body::Ping { .. } | Body::Meet { .. }));
    let pong_in_flight = st
        .link(j, i)
        .iter()
        .any(|m| matches!(m.body, Body::Pong { reply: true, .. }));
    !ping_in_flight && !pong_in_flight
}

/// Apply `action` to `st`.
pub fn apply(cfg: &ModelCfg, st: &mut State, action: &Action) {
    match *action {
        Action::Meet { index, node, peer } => {
            st.meets_pending &= !(1 << index);
            let p = &mut st.nodes[node as usize].peers[peer as usize];
            if !p.known && p.handshake.is_none() {
                p.handshake = Some(true);
            }
        }
        Action::SendPing {
            node,
            peer,
            ref gossip,
        } => send_ping(cfg, st, node, peer, gossip),
        Action::Deliver { from, to } => {
            if let Some(msg) = st.net.pop_front(from, to) {
                receive(cfg, st, to, msg);
            }
        }
        Action::NodeTimeout { node, peer } => {
            if st.nodes[peer as usize].up && cfg.spurious_timeouts {
                st.ghost.untimely = true;
            }
            st.nodes[node as usize].peers[peer as usize].pfail = true;
        }
        Action::ReportExpired {
            node,
            about,
            reporter,
        } => {
            st.ghost.untimely = true;
            st.nodes[node as usize].peers[about as usize].reports &= !(1 << reporter);
        }
        Action::FailUndo { node, about } => fail_undo(cfg, st, node, about),
        Action::ElectionDue { node } => start_election(cfg, st, node),
        Action::AuthTimeout { node } => {
            // Timely only once no request or vote of this election is on its way.
            st.ghost.untimely |= election_in_flight(st, node);
            let n = &mut st.nodes[node as usize];
            n.election = None;
            // The election started after the master's FAIL and ran for 2·NT.
            if let Some(m) = n.master {
                age_fail(&mut n.peers[m as usize]);
            }
        }
        Action::VoteCooldown { node, master } => {
            let n = &mut st.nodes[node as usize];
            n.recently_voted &= !(1 << master);
            // The vote needed `master` FAIL and was 2·NT ago.
            age_fail(&mut n.peers[master as usize]);
        }
        Action::HandshakeTimeout { node, peer } => {
            st.ghost.untimely = true;
            st.nodes[node as usize].peers[peer as usize].handshake = None;
        }
        Action::Crash { node } => crash(cfg, st, node),
        Action::Restart { node } => st.nodes[node as usize].up = true,
        Action::LinkBreak { from, to } => {
            st.ghost.untimely = true;
            st.link_breaks += 1;
            st.net.clear(from, to);
        }
        Action::SetSlotImporting { node, shard, from } => {
            let done = set_slot_importing(st, node, shard, from);
            next_operator_step(st, done);
        }
        Action::SetSlotNode { node, shard, owner } => {
            let done = set_slot_node(cfg, st, node, shard, owner);
            // The source may have turned itself into a replica already (the
            // target's PONG took its last slot): `redis-cli` accepts that
            // refusal (`clusterManagerMoveSlot`, issue #9223).
            let source_gone = cfg.reshard.is_some_and(|r| r.from == node)
                && st.nodes[node as usize].master.is_some();
            next_operator_step(st, done || source_gone);
        }
    }
    for (high, node) in st.ghost.epoch_high.iter_mut().zip(&st.nodes) {
        if node.up {
            *high = (*high).max(node.current_epoch);
        }
    }
}

/// 2·NT after `node` flagged `about` FAIL, a PONG from `about` clears it
/// (`clearNodeFailureIfNeeded`). The PING that asks for it and its PONG are
/// taken together, ahead of anything else on the two links: what `about`
/// learns from the PING's header and what `node` learns from the PONG's
/// happens as in any exchange.
fn fail_undo(cfg: &ModelCfg, st: &mut State, node: NodeIx, about: NodeIx) {
    st.ghost.untimely = true;
    let gossip = rules::gossip_pfail(node, &st.nodes[node as usize]);
    let ping = Msg {
        header: header_of(st, node),
        body: Body::Ping { gossip },
    };
    let queued = st.link(about, node).len();
    receive(cfg, st, about, ping);
    // A FAIL peer makes the PONG matter, so it was queued on `about → node`
    // right behind what was there, and ahead of anything the PING's gossip
    // made `about` send (a FAIL it now declares, say), which stays in flight.
    if let Some(pong) = st.net.take(about, node, queued) {
        receive(cfg, st, node, pong);
    }
    let p = &mut st.nodes[node as usize].peers[about as usize];
    p.fail = false;
    p.fail_aged = false;
}

/// The operator goes on after a step that succeeded, and gives up after one
/// that was refused, as `redis-cli` stops at the first error.
fn next_operator_step(st: &mut State, done: bool) {
    st.operator = if done { st.operator + 1 } else { MOVE_ABORTED };
}

/// `CLUSTER SETSLOT <shard> IMPORTING <from>` on `me`; false if refused.
/// Mirrors the IMPORTING branch of `clusterCommand`.
fn set_slot_importing(st: &mut State, me: NodeIx, shard: Shard, from: NodeIx) -> bool {
    let node = &mut st.nodes[me as usize];
    let from_is_master = node.peers[from as usize].known && node.is_master(me, from);
    if node.master.is_some() || node.owners[shard as usize] == Some(me) || !from_is_master {
        return false;
    }
    node.importing.insert(shard);
    true
}

/// `CLUSTER SETSLOT <shard> NODE <owner>` on `me`; false if refused. The
/// keys have been migrated, so the source's "I still hold keys" check
/// passes. A master left without slots replicates the new owner; the
/// target of an import takes a configEpoch of its own and PONGs everyone.
/// Mirrors the NODE branch of `clusterCommand`.
fn set_slot_node(cfg: &ModelCfg, st: &mut State, me: NodeIx, shard: Shard, owner: NodeIx) -> bool {
    let node = &mut st.nodes[me as usize];
    let owner_known = owner == me || node.peers[owner as usize].known;
    if node.master.is_some() || !owner_known || !node.is_master(me, owner) {
        return false;
    }
    let was_mine = node.owners[shard as usize] == Some(me);
    node.owners[shard as usize] = Some(owner);
    if was_mine && owner != me && node.my_shards(me).is_empty() {
        // `clusterSetMaster` closes a master's open slots.
        node.master = Some(owner);
        node.importing = crate::message::ShardSet::EMPTY;
    }
    if owner == me && node.importing.contains(shard) {
        if rules::must_bump_without_consensus(node) && cfg.bug != Some(Bug::SetSlotNoBump) {
            node.current_epoch += 1;
            node.config_epoch = node.current_epoch;
            st.ghost.taken_alone |= 1 << node.config_epoch;
        }
        node.importing.remove(shard);
        broadcast(st, me, broadcast_pong());
    }
    true
}

/// 2·NT or more have passed since `p` was flagged FAIL (if it is).
fn age_fail(p: &mut crate::state::Peer) {
    p.fail_aged = p.fail;
}

/// Cron's PING (or the MEET of a handshake started by `CLUSTER MEET` or gossip).
fn send_ping(cfg: &ModelCfg, st: &mut State, node: NodeIx, peer: NodeIx, gossip: &GossipList) {
    let p = &mut st.nodes[node as usize].peers[peer as usize];
    // The wait for a PONG only matters where an answer can be lost.
    p.ping_pending = timeouts_observable(cfg) || p.handshake.is_some();
    let gossip = *gossip;
    let body = if p.handshake == Some(true) {
        p.handshake = Some(false);
        Body::Meet { gossip }
    } else {
        Body::Ping { gossip }
    };
    let msg = Msg {
        header: header_of(st, node),
        body,
    };
    send(st, node, peer, msg);
}

/// A PONG to the other replicas of my master, as an election is planned, so
/// they learn my offset; then currentEpoch++, saved, then AUTH_REQUEST to the
/// masters. Mirrors `clusterHandleSlaveFailover` and
/// `clusterRequestFailoverAuth`. The model has no offsets, so it sends the
/// PONG only where it tells its receiver something else (a replica of my
/// master that is in fact a master with a newer claim answers the stale
/// claim with an UPDATE). It sends the request to masters only: replicas
/// ignore it (bar the epoch in its header, which reaches them with the
/// winner's PONG anyway).
fn start_election(cfg: &ModelCfg, st: &mut State, me: NodeIx) {
    let my_master = st.nodes[me as usize].master;
    let siblings: Vec<NodeIx> = st.nodes[me as usize]
        .known_peers()
        .filter(|&j| {
            my_master.is_some() && st.nodes[me as usize].peers[j as usize].master == my_master
        })
        .collect();
    for j in siblings {
        let pong = Msg {
            header: header_of(st, me),
            body: broadcast_pong(),
        };
        if pong_matters(cfg, st, j, &pong) {
            send(st, me, j, pong);
        }
    }
    let node = &mut st.nodes[me as usize];
    let master_failed = node.master.is_some_and(|m| node.peers[m as usize].fail);
    st.ghost.election_without_fail |= !master_failed;
    node.current_epoch += 1;
    node.election = Some(Election {
        epoch: node.current_epoch,
        votes: 0,
    });
    let header = header_of(st, me);
    let masters: Vec<NodeIx> = st.nodes[me as usize]
        .known_peers()
        .filter(|&j| st.nodes[me as usize].peers[j as usize].master.is_none())
        .collect();
    for m in masters {
        send(
            st,
            me,
            m,
            Msg {
                header,
                body: Body::AuthRequest,
            },
        );
    }
}

/// The process dies: links to and from it are gone, volatile state is lost,
/// and a vote not yet on disk is forgotten.
fn crash(cfg: &ModelCfg, st: &mut State, me: NodeIx) {
    st.crashes += 1;
    st.net.clear_node(me);
    let node = &mut st.nodes[me as usize];
    node.up = false;
    node.election = None;
    node.recently_voted = 0;
    node.unclaimed = crate::message::ShardSet::EMPTY;
    node.last_vote_epoch = node.durable_last_vote_epoch;
    for p in node.peers.iter_mut() {
        age_fail(p);
        p.pfail = false;
        p.reports = 0;
        p.ping_pending = false;
        p.handshake = None;
        // `clusterLoadConfig` loads a replica's configEpoch as 0 (the file
        // holds its master's); headers teach it again.
        if p.master.is_some() {
            p.config_epoch = 0;
        }
    }
    if node.master.is_some() {
        node.config_epoch = 0;
    }
    if cfg.bug == Some(Bug::CurrentEpochNotPersisted) {
        let peers = node.peers.iter().map(|p| p.config_epoch);
        node.current_epoch = peers.fold(node.config_epoch, Epoch::max);
    }
}

/// Whether a ping to a node that is up can go unanswered: a link can break,
/// or the network may be slow. Otherwise only a node that is down times out.
fn timeouts_observable(cfg: &ModelCfg) -> bool {
    cfg.max_link_breaks > 0 || cfg.spurious_timeouts
}

/// An AUTH_REQUEST from `candidate`, or an AUTH_ACK to it, is in flight.
fn election_in_flight(st: &State, candidate: NodeIx) -> bool {
    (0..st.n() as NodeIx).any(|m| {
        st.link(candidate, m)
            .iter()
            .any(|x| matches!(x.body, Body::AuthRequest))
            || st
                .link(m, candidate)
                .iter()
                .any(|x| matches!(x.body, Body::AuthAck))
    })
}
