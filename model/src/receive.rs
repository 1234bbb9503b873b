//! What a node does with a message it receives. Mirrors `clusterProcessPacket`
//! and the functions it calls, rule by rule.

use crate::config::{Bug, ModelCfg};
use crate::message::{Body, Epoch, GossipList, Header, Msg, NodeIx, Shard, ShardSet};
use crate::rules;
use crate::state::{Election, State};

/// Process `msg` at node `me`.
pub fn receive(cfg: &ModelCfg, st: &mut State, me: NodeIx, msg: Msg) {
    let s = msg.header.sender;
    let sender_known = st.nodes[me as usize].peers[s as usize].known;
    if sender_known {
        // First thing, before any reply: a PONG already carries the epoch.
        update_epochs_from(st, me, &msg.header);
    }
    match &msg.body {
        Body::Meet { .. } | Body::Ping { .. } => {
            if !sender_known && matches!(msg.body, Body::Meet { .. }) {
                add_handshake_from_meet(st, me, s);
            }
            let pong = pong_of(st, me);
            if pong_matters(cfg, st, s, &pong) {
                send(st, me, s, pong);
            } else {
                // Delivered at once: all it does is end the ping's wait.
                st.nodes[s as usize].peers[me as usize].ping_pending = false;
            }
        }
        Body::Pong { reply: true, .. } => {
            if pong_ends_handshake(st, me, &msg.header) {
                return;
            }
            if sender_known {
                pong_clears_failure(st, me, s);
            }
        }
        _ => {}
    }
    if !sender_known {
        return;
    }
    match msg.body {
        Body::Meet { gossip } | Body::Ping { gossip } | Body::Pong { gossip, .. } => {
            update_role_and_slots(cfg, st, me, &msg.header);
            process_gossip(cfg, st, me, s, &gossip);
        }
        Body::Fail { about } => receive_fail(st, me, about),
        Body::AuthRequest => receive_auth_request(cfg, st, me, &msg.header),
        Body::AuthAck => receive_auth_ack(cfg, st, me, &msg.header),
        Body::Update {
            owner,
            config_epoch,
            shards,
        } => receive_update(st, me, owner, config_epoch, shards),
    }
}

/// Queue `msg` on the link `from → to`; a message to a node that is down is lost.
pub fn send(st: &mut State, from: NodeIx, to: NodeIx, msg: Msg) {
    if st.nodes[to as usize].up {
        st.net.push(from, to, msg);
    }
}

/// Send `body` to every node `me` knows (`clusterBroadcastMessage`).
pub fn broadcast(st: &mut State, me: NodeIx, body: Body) {
    let header = header_of(st, me);
    let peers: Vec<NodeIx> = st.nodes[me as usize].known_peers().collect();
    for p in peers {
        send(st, me, p, Msg { header, body });
    }
}

/// The header `me` puts on its messages. Mirrors `clusterBuildMessageHdr`: a
/// replica announces its master's shard and configEpoch.
pub fn header_of(st: &State, me: NodeIx) -> Header {
    let node = &st.nodes[me as usize];
    let claimant = node.master.unwrap_or(me);
    Header {
        sender: me,
        current_epoch: node.current_epoch,
        config_epoch: node.epoch_of(me, claimant),
        master: node.master,
        shards: node.shards_of(claimant),
    }
}

/// A PONG reply. Redis fills its gossip as for a PING; the model sends replies
/// without gossip, leaving gossip to the PINGs whose entries it chooses.
fn pong_of(st: &State, me: NodeIx) -> Msg {
    Msg {
        header: header_of(st, me),
        body: Body::Pong {
            gossip: GossipList::new(),
            reply: true,
        },
    }
}

/// Whether a PONG would change its receiver beyond ending the ping's wait.
/// One that would not is taken as delivered at once (a fast reply), which
/// keeps such replies from multiplying the interleavings.
pub(crate) fn pong_matters(cfg: &ModelCfg, st: &State, to: NodeIx, pong: &Msg) -> bool {
    let peer = &st.nodes[to as usize].peers[pong.header.sender as usize];
    if !st.nodes[to as usize].up || peer.handshake.is_some() || peer.pfail || peer.fail {
        return true;
    }
    let mut after = *st;
    after.nodes[to as usize].peers[pong.header.sender as usize].ping_pending = false;
    let before = after;
    receive(cfg, &mut after, to, *pong);
    after.nodes[to as usize] != before.nodes[to as usize] || after.in_flight() != before.in_flight()
}

/// A MEET from an unknown node creates a HANDSHAKE node for its address.
fn add_handshake_from_meet(st: &mut State, me: NodeIx, sender: NodeIx) {
    let peer = &mut st.nodes[me as usize].peers[sender as usize];
    if peer.handshake.is_none() {
        peer.handshake = Some(false);
    }
}

/// A PONG on the link to a HANDSHAKE node: rename it to the sender's id, or
/// drop it if the sender is known already. Returns true when the packet is done.
/// Mirrors the handshake branch of `clusterProcessPacket` (`clusterRenameNode`).
fn pong_ends_handshake(st: &mut State, me: NodeIx, h: &Header) -> bool {
    let peer = &mut st.nodes[me as usize].peers[h.sender as usize];
    peer.ping_pending = false;
    if peer.handshake.is_none() {
        return false;
    }
    peer.handshake = None;
    if !peer.known {
        peer.known = true;
        peer.master = h.master;
    }
    true
}

/// A PONG clears PFAIL, and FAIL where `clearNodeFailureIfNeeded` allows it
/// (a replica, a master without slots, or a FAIL known to be older than
/// 2·NT; otherwise a master with slots waits, see the `FailUndo` action).
fn pong_clears_failure(st: &mut State, me: NodeIx, s: NodeIx) {
    let node = &st.nodes[me as usize];
    let serves_slots = node.owners.contains(&Some(s));
    let is_master = node.peers[s as usize].master.is_none();
    let peer = &mut st.nodes[me as usize].peers[s as usize];
    if peer.pfail {
        peer.pfail = false;
    } else if peer.fail && (!is_master || !serves_slots || peer.fail_aged) {
        peer.fail = false;
        peer.fail_aged = false;
    }
}

/// currentEpoch and the sender's configEpoch only grow. Mirrors the epoch
/// updates at the top of `clusterProcessPacket`, which come before the PONG
/// a PING is answered with.
fn update_epochs_from(st: &mut State, me: NodeIx, h: &Header) {
    let node = &mut st.nodes[me as usize];
    node.current_epoch = node.current_epoch.max(h.current_epoch);
    let peer = &mut node.peers[h.sender as usize];
    peer.config_epoch = peer.config_epoch.max(h.config_epoch);
}

/// Role switch, slot ownership, stale claims and configEpoch collisions from
/// a PING/PONG/MEET header.
fn update_role_and_slots(cfg: &ModelCfg, st: &mut State, me: NodeIx, h: &Header) {
    let s = h.sender;
    update_role(st, me, h);
    let node = &st.nodes[me as usize];
    let sender_master = node.peers[s as usize].master.unwrap_or(s);
    let dirty = node.shards_of(sender_master) != h.shards;
    if dirty && node.peers[s as usize].master.is_none() {
        update_slots_config_with(st, me, s, h.config_epoch, h.shards);
    }
    if dirty {
        send_update_if_stale(st, me, h);
    }
    if rules::must_resolve_collision(cfg, me, &st.nodes[me as usize], h) {
        let node = &mut st.nodes[me as usize];
        node.current_epoch += 1;
        node.config_epoch = node.current_epoch;
    }
}

/// The sender says whether it is a master or whose replica it is.
/// Mirrors the role-switch block of `clusterProcessPacket`.
fn update_role(st: &mut State, me: NodeIx, h: &Header) {
    let node = &mut st.nodes[me as usize];
    let s = h.sender;
    match h.master {
        None => node.peers[s as usize].master = None,
        Some(m) => {
            if node.peers[s as usize].master.is_none() {
                // A master turned into a replica: it serves no slots now.
                for o in node.owners.iter_mut().filter(|o| **o == Some(s)) {
                    *o = None;
                }
            }
            let master_known = m == me || node.peers[m as usize].known;
            if master_known {
                node.peers[s as usize].master = Some(m);
            }
        }
    }
}

/// The sender claims a shard whose owner, in my view, has a newer
/// configEpoch: tell it with an UPDATE about that owner and every shard it
/// serves, for the first such shard only. Mirrors the `clusterSendUpdate`
/// loop in `clusterProcessPacket`.
fn send_update_if_stale(st: &mut State, me: NodeIx, h: &Header) {
    let node = &st.nodes[me as usize];
    let stale = h.shards.iter().find_map(|shard| {
        let owner = node.owners[shard as usize]?;
        let owner_epoch = node.epoch_of(me, owner);
        let newer = owner != h.sender && !node.unclaimed.contains(shard);
        (newer && owner_epoch > h.config_epoch).then_some((owner, owner_epoch))
    });
    if let Some((owner, owner_epoch)) = stale {
        let msg = Msg {
            header: header_of(st, me),
            body: Body::Update {
                owner,
                config_epoch: owner_epoch,
                shards: node.shards_of(owner).without(node.unclaimed),
            },
        };
        send(st, me, h.sender, msg);
    }
}

/// `claimant` claims `shards` with `epoch`: it takes each whose current
/// owner's configEpoch is lower, except one I am importing. If that took a
/// shard from me (or my master) and left none, I become a replica of the
/// claimant; otherwise, if my master is a replica itself, I replicate its
/// master. Mirrors `clusterUpdateSlotsConfigWith`.
pub fn update_slots_config_with(
    st: &mut State,
    me: NodeIx,
    claimant: NodeIx,
    epoch: Epoch,
    shards: ShardSet,
) {
    if claimant == me {
        return;
    }
    let node = &mut st.nodes[me as usize];
    let my_primary = node.master.unwrap_or(me);
    let mut lost_mine = false;
    for shard in 0..node.owners.len() as Shard {
        let owner = node.owners[shard as usize];
        if !shards.contains(shard) {
            // Bound to the claimant, which no longer claims it: kept, but
            // marked, so that no UPDATE spreads a claim nobody makes.
            if owner == Some(claimant) {
                node.unclaimed.insert(shard);
            }
            continue;
        }
        if owner == Some(claimant) {
            node.unclaimed.remove(shard);
            continue;
        }
        if node.importing.contains(shard) {
            continue;
        }
        let takes = match owner {
            Some(o) => node.unclaimed.contains(shard) || node.epoch_of(me, o) < epoch,
            None => true,
        };
        if !takes {
            continue;
        }
        node.owners[shard as usize] = Some(claimant);
        node.unclaimed.remove(shard);
        lost_mine |= owner == Some(my_primary);
    }
    if lost_mine && node.shards_of(my_primary).is_empty() {
        let was_master = node.master.is_none();
        // A running election is not reset (`clusterSetMaster` leaves the
        // failover_auth_* state): it expires at its auth timeout, and its
        // guards, run again on every vote, keep it from promoting me unless
        // my new master fails.
        node.master = Some(claimant);
        if was_master {
            // `clusterSetMaster` closes a master's open slots.
            node.importing = ShardSet::EMPTY;
            st.ghost.rejoined_as_replica = true;
        }
    } else if let Some(grandmaster) = node.master.and_then(|m| node.peers[m as usize].master) {
        // The safeguard against sub-replicas: my master turned replica when
        // its last slot went (a migration), and nothing else would move me.
        if grandmaster != me {
            node.master = Some(grandmaster);
        }
    }
}

/// Failure reports from a master's gossip, and the nodes it introduces. Mirrors `clusterProcessGossipSection`.
fn process_gossip(cfg: &ModelCfg, st: &mut State, me: NodeIx, sender: NodeIx, gossip: &GossipList) {
    for g in gossip.iter().filter(|g| g.node != me) {
        let peer = &mut st.nodes[me as usize].peers[g.node as usize];
        if !peer.known {
            // Added under its real id with the flags gossip gives it, and
            // pinged like any known node: no MEET. The model's gossip carries
            // no role and does not tell PFAIL from FAIL; the configurations
            // that start as strangers have masters only and never reach FAIL.
            peer.known = true;
            peer.master = None;
            peer.pfail = g.failing;
            continue;
        }
        if !rules::report_counts(cfg, &st.nodes[me as usize], sender) {
            continue;
        }
        let peer = &mut st.nodes[me as usize].peers[g.node as usize];
        if g.failing {
            if peer.fail {
                // Reports about a FAIL node change nothing while it is FAIL.
                // Redis keeps them until they expire (2·NT), so some may
                // outlive a FAIL cleared sooner; keeping them here multiplies
                // the states eightfold (failover-3m1r: 1,320,593 to
                // 10,498,236), so the model drops them and conformance ends
                // a trace where the difference would show (specs/traces.md).
                continue;
            }
            peer.reports |= 1 << sender;
            mark_failing_if_needed(cfg, st, me, g.node);
        } else {
            peer.reports &= !(1 << sender);
        }
    }
}

/// PFAIL becomes FAIL once a majority of masters agree; the FAIL is broadcast.
/// Mirrors `markNodeAsFailingIfNeeded`.
fn mark_failing_if_needed(cfg: &ModelCfg, st: &mut State, me: NodeIx, about: NodeIx) {
    let node = &st.nodes[me as usize];
    let peer = &node.peers[about as usize];
    // Only a node I timed out myself (`nodeTimedOut`) can become FAIL.
    let timed_out = peer.pfail || cfg.bug == Some(Bug::FailWithoutOwnTimeout);
    if !timed_out || peer.fail {
        return;
    }
    let failures = rules::failure_count(cfg, me, node, about);
    if failures < rules::failure_quorum(cfg, node) {
        return;
    }
    st.ghost.fail_without_majority |= !reporters_are_a_majority(cfg, st, me, about);
    mark_fail(st, me, about);
    broadcast(st, me, Body::Fail { about });
}

/// For the ghost, computed apart from the rules above: whether the nodes
/// whose reports `me` holds about `about` (and `me`, if it is a master)
/// include a majority of the configuration's shards' owners, counting only
/// those that are masters serving slots in `me`'s view. `me` reports only
/// what it timed out itself.
fn reporters_are_a_majority(cfg: &ModelCfg, st: &State, me: NodeIx, about: NodeIx) -> bool {
    let node = &st.nodes[me as usize];
    let mut reporters = node.peers[about as usize].reports;
    if node.peers[about as usize].pfail {
        reporters |= 1 << me;
    }
    let serving = (0..st.n() as NodeIx)
        .filter(|&r| reporters & (1 << r) != 0)
        .filter(|&r| node.is_master(me, r) && node.owners.contains(&Some(r)))
        .count();
    serving >= cfg.quorum()
}

/// A FAIL message is believed. Mirrors the FAIL branch of `clusterProcessPacket`.
fn receive_fail(st: &mut State, me: NodeIx, about: NodeIx) {
    if about == me {
        return;
    }
    let peer = &st.nodes[me as usize].peers[about as usize];
    if peer.known && !peer.fail {
        mark_fail(st, me, about);
    }
}

/// FAIL replaces PFAIL; the failure reports are dropped with it (see
/// `process_gossip`).
fn mark_fail(st: &mut State, me: NodeIx, about: NodeIx) {
    let peer = &mut st.nodes[me as usize].peers[about as usize];
    peer.fail = true;
    peer.fail_aged = false;
    peer.pfail = false;
    peer.reports = 0;
}

/// A master votes, persisting lastVoteEpoch before the ACK leaves.
/// Mirrors `clusterSendFailoverAuthIfNeeded`.
fn receive_auth_request(cfg: &ModelCfg, st: &mut State, me: NodeIx, h: &Header) {
    if !rules::may_vote_for(cfg, me, &st.nodes[me as usize], h) {
        return;
    }
    let node = &mut st.nodes[me as usize];
    let Some(master) = node.peers[h.sender as usize].master else {
        return;
    };
    node.last_vote_epoch = node.current_epoch;
    if cfg.bug != Some(Bug::VoteNotPersisted) {
        node.durable_last_vote_epoch = node.last_vote_epoch;
    }
    node.recently_voted |= 1 << master;
    st.ghost.votes[h.sender as usize][node.current_epoch as usize] |= 1 << me;
    let ack = Msg {
        header: header_of(st, me),
        body: Body::AuthAck,
    };
    send(st, me, h.sender, ack);
}

/// A replica counts votes and, with a quorum, takes over its master's shard.
/// Mirrors the AUTH_ACK branch of `clusterProcessPacket` and
/// `clusterHandleSlaveFailover`.
fn receive_auth_ack(cfg: &ModelCfg, st: &mut State, me: NodeIx, h: &Header) {
    let node = &mut st.nodes[me as usize];
    let Some(election) = node.election else {
        return;
    };
    if !rules::ack_counts(cfg, node, h, election.epoch) {
        return;
    }
    let votes = election.votes | (1 << h.sender);
    node.election = Some(Election { votes, ..election });
    let recheck = rules::may_fail_over(cfg, node) || cfg.bug == Some(Bug::NoRecheckBeforePromotion);
    if votes.count_ones() as usize >= rules::election_quorum(node) && recheck {
        win_election(st, me, election.epoch);
    }
}

/// The winner becomes a master, takes the epoch as its configEpoch and its old
/// master's shard, saves, and PONGs everyone. Mirrors `clusterFailoverReplaceYourMaster`.
fn win_election(st: &mut State, me: NodeIx, epoch: Epoch) {
    let node = &mut st.nodes[me as usize];
    let Some(old) = node.master else { return };
    st.ghost.won_without_fail |= !node.peers[old as usize].fail;
    node.master = None;
    node.election = None;
    node.config_epoch = node.config_epoch.max(epoch);
    for o in node.owners.iter_mut().filter(|o| **o == Some(old)) {
        *o = Some(me);
    }
    st.ghost.wins[epoch as usize] |= 1 << me;
    broadcast(st, me, broadcast_pong());
}

/// The PONG `clusterBroadcastPong` sends: not a reply (see `Body::Pong`).
pub fn broadcast_pong() -> Body {
    Body::Pong {
        gossip: GossipList::new(),
        reply: false,
    }
}

/// An UPDATE about `owner`'s shards with a newer configEpoch is applied.
/// Mirrors the UPDATE branch of `clusterProcessPacket`.
fn receive_update(st: &mut State, me: NodeIx, owner: NodeIx, epoch: Epoch, shards: ShardSet) {
    if owner == me {
        return;
    }
    let peer = &mut st.nodes[me as usize].peers[owner as usize];
    if !peer.known || peer.config_epoch >= epoch {
        return;
    }
    peer.master = None;
    peer.config_epoch = epoch;
    update_slots_config_with(st, me, owner, epoch, shards);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelCfg;

    /// `owner_not_claiming_slot`: n2 sees n1 own shards 1 and 2; n1's
    /// claim of shard 1 alone marks shard 2 unclaimed, which keeps it out
    /// of UPDATEs and votes and lets a claim with any configEpoch take it.
    #[test]
    fn a_shard_its_owner_stops_claiming_goes_to_any_claimant() {
        let cfg = ModelCfg::named("failover-3m1r").expect("a configuration");
        let mut st = State::initial(&cfg);
        st.nodes[2].owners[2] = Some(1);
        let epoch = st.nodes[2].epoch_of(2, 1);
        update_slots_config_with(&mut st, 2, 1, epoch, ShardSet::single(1));
        assert!(st.nodes[2].unclaimed.contains(2));
        assert_eq!(st.nodes[2].owners[2], Some(1), "kept, only marked");
        // n0 claims shard 2 with configEpoch 1, below n1's 2: it takes it.
        update_slots_config_with(&mut st, 2, 0, 1, ShardSet::single(2));
        assert_eq!(st.nodes[2].owners[2], Some(0));
        assert!(!st.nodes[2].unclaimed.contains(2));
        // Without the mark, the same claim is refused.
        let mut st = State::initial(&cfg);
        st.nodes[2].owners[2] = Some(1);
        update_slots_config_with(&mut st, 2, 0, 1, ShardSet::single(2));
        assert_eq!(st.nodes[2].owners[2], Some(1));
    }

    /// The sub-replica safeguard: a replica whose master is a replica
    /// follows its grandmaster on the next claim it reads.
    #[test]
    fn a_sub_replica_follows_its_grandmaster() {
        let cfg = ModelCfg::named("failover-3m1r").expect("a configuration");
        let mut st = State::initial(&cfg);
        // n3 replicates n0; n0 now replicates n1 in n3's view.
        st.nodes[3].peers[0].master = Some(1);
        let epoch = st.nodes[3].epoch_of(3, 2);
        update_slots_config_with(&mut st, 3, 2, epoch, ShardSet::single(2));
        assert_eq!(st.nodes[3].master, Some(1));
    }
}
