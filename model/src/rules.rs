//! Redis's rules, one small function each, named as the node names them so the
//! two can be compared rule by rule. Each doc comment names the Redis 7.0
//! function (in `src/cluster.c`) the rule comes from.

use crate::config::{Bug, ModelCfg};
use crate::message::{Epoch, Gossip, GossipList, Header, NodeIx};
use crate::state::Node;

/// Reports needed to declare FAIL: `size/2 + 1` masters with slots.
/// Mirrors `markNodeAsFailingIfNeeded` (`needed_quorum`).
pub fn failure_quorum(cfg: &ModelCfg, node: &Node) -> usize {
    if cfg.bug == Some(Bug::FailOnMinority) {
        return 1;
    }
    node.cluster_size() / 2 + 1
}

/// Failure reports about `about` that count, including my own if I am a master.
/// Mirrors `markNodeAsFailingIfNeeded` (`failures`).
pub fn failure_count(cfg: &ModelCfg, me: NodeIx, node: &Node, about: NodeIx) -> usize {
    let reports = node.peers[about as usize].reports.count_ones() as usize;
    let counts_itself = node.is_master(me, me) || cfg.bug == Some(Bug::ReplicaCountsOwnReport);
    reports + usize::from(counts_itself)
}

/// Whether a failure report gossiped by `sender` is kept: only a master's
/// is (`nodeIsMaster(sender)`; Redis does not ask whether it serves slots).
/// Mirrors the failure-report branch of `clusterProcessGossipSection`.
pub fn report_counts(cfg: &ModelCfg, node: &Node, sender: NodeIx) -> bool {
    node.peers[sender as usize].master.is_none() || cfg.bug == Some(Bug::ReportFromReplicaCounted)
}

/// Votes a replica needs to win: `size/2 + 1`.
/// Mirrors `clusterHandleSlaveFailover` (`needed_quorum`).
pub fn election_quorum(node: &Node) -> usize {
    node.cluster_size() / 2 + 1
}

/// How many gossip entries a PING carries besides the PFAIL ones: a tenth of
/// the known nodes, at least 3, at most all but myself and the receiver.
/// Mirrors `clusterSendPing` (`wanted`, `freshnodes`).
pub fn gossip_wanted(table_size: usize) -> usize {
    let freshnodes = table_size.saturating_sub(2);
    (table_size / 10).max(3).min(freshnodes)
}

/// Whether master `me` grants its vote to the replica that sent `request`.
/// Mirrors `clusterSendFailoverAuthIfNeeded`.
pub fn may_vote_for(cfg: &ModelCfg, me: NodeIx, node: &Node, request: &Header) -> bool {
    let candidate = request.sender;
    // Only masters serving slots vote.
    if node.master.is_some() || node.my_shards(me).is_empty() {
        return false;
    }
    // A request from an older epoch is stale.
    if request.current_epoch < node.current_epoch {
        return false;
    }
    // One vote per epoch.
    if node.last_vote_epoch == node.current_epoch && cfg.bug != Some(Bug::VoteIgnoresLastVoteEpoch)
    {
        return false;
    }
    // The candidate must be a replica whose master is FAIL in my view.
    let Some(master) = node.peers[candidate as usize].master else {
        return false;
    };
    if master == me || !node.peers[master as usize].fail {
        return false;
    }
    // Not within 2·NT of a vote for a replica of the same master.
    if node.recently_voted & (1 << master) != 0 {
        return false;
    }
    // No claimed slot may be owned, in my view, with a higher configEpoch.
    no_newer_owner(me, node, request)
}

/// No shard the request claims has an owner with a configEpoch above the
/// claim's. Part of `clusterSendFailoverAuthIfNeeded`.
fn no_newer_owner(me: NodeIx, node: &Node, request: &Header) -> bool {
    request
        .shards
        .iter()
        .all(|s| match node.owners[s as usize] {
            Some(owner) => {
                node.unclaimed.contains(s) || node.epoch_of(me, owner) <= request.config_epoch
            }
            None => true,
        })
}

/// Whether I take a new configEpoch on my own: mine is 0 or not the
/// greatest I know of (currentEpoch and every node's configEpoch, mine
/// included, as `clusterGetMaxEpoch` counts). Mirrors
/// `clusterBumpConfigEpochWithoutConsensus`.
pub fn must_bump_without_consensus(node: &Node) -> bool {
    let known = node
        .known_peers()
        .map(|j| node.peers[j as usize].config_epoch);
    let max = known.fold(node.current_epoch.max(node.config_epoch), Epoch::max);
    node.config_epoch == 0 || node.config_epoch != max
}

/// Whether an AUTH_ACK counts for my election: from a node that is, in my
/// own table, a master with slots (`sender->numslots`, not the slots the
/// ACK's header claims), in the election's epoch or later. Mirrors the
/// AUTH_ACK branch of `clusterProcessPacket`.
pub fn ack_counts(cfg: &ModelCfg, node: &Node, ack: &Header, election_epoch: Epoch) -> bool {
    let voter = ack.sender;
    let from_voter =
        node.peers[voter as usize].master.is_none() && node.owners.contains(&Some(voter));
    let current = ack.current_epoch >= election_epoch || cfg.bug == Some(Bug::StaleAckCounted);
    from_voter && current
}

/// Whether a replica may fail over now: its master is FAIL in its view and
/// serves slots in its view (`myself->slaveof->numslots`). Mirrors the guards
/// at the top of `clusterHandleSlaveFailover`, which runs again on every
/// call: before an election starts, and again before a won one promotes.
pub fn may_fail_over(cfg: &ModelCfg, node: &Node) -> bool {
    let Some(master) = node.master else {
        return false;
    };
    let peer = &node.peers[master as usize];
    let failing = peer.fail || (cfg.bug == Some(Bug::ElectionOnPfail) && peer.pfail);
    failing && node.owners.contains(&Some(master))
}

/// Whether a replica may start an election: it may fail over and runs no
/// election yet (the model's election lasts from its start to its auth
/// timeout, where Redis waits the retry time of twice the auth timeout).
/// Mirrors the start of a new attempt in `clusterHandleSlaveFailover`.
pub fn may_start_election(cfg: &ModelCfg, node: &Node) -> bool {
    may_fail_over(cfg, node) && node.election.is_none()
}

/// Whether I (a master) must bump my configEpoch because a master with a larger
/// id has the same one: in the header, and in my table once the header was
/// read. Mirrors `clusterHandleConfigEpochCollision` and the check
/// `clusterProcessPacket` makes before calling it.
pub fn must_resolve_collision(cfg: &ModelCfg, me: NodeIx, node: &Node, sender: &Header) -> bool {
    cfg.bug != Some(Bug::NoCollisionHandling)
        && node.master.is_none()
        && node.peers[sender.sender as usize].master.is_none()
        && sender.config_epoch == node.config_epoch
        && node.peers[sender.sender as usize].config_epoch == node.config_epoch
        && sender.sender > me
}

/// The entries a PING may carry: known nodes other than me that are not
/// PFAIL (those always go in) and not in handshake. Mirrors `clusterSendPing`.
pub fn gossip_candidates(me: NodeIx, node: &Node) -> GossipList {
    node.peers
        .iter()
        .enumerate()
        .filter(|(j, p)| *j != me as usize && p.known && !p.pfail)
        .map(|(j, p)| Gossip {
            node: j as NodeIx,
            failing: p.fail,
        })
        .collect()
}

/// The PFAIL entries every PING carries. Mirrors `clusterSendPing` (`pfail_wanted`).
pub fn gossip_pfail(me: NodeIx, node: &Node) -> GossipList {
    node.peers
        .iter()
        .enumerate()
        .filter(|(j, p)| *j != me as usize && p.known && p.pfail)
        .map(|(j, _)| Gossip {
            node: j as NodeIx,
            failing: true,
        })
        .collect()
}
