//! Redis's protocol rules, one pure function each, named as the model
//! (`clusterbus_model::rules`) names them. Each takes the facts the rule
//! weighs, gathered by the core from its node table, and decides; nothing
//! here reads the table. The conformance crate feeds the model's rule and
//! this one the same generated situations and asserts they decide alike
//! (`conformance/tests/rules.rs`).

use super::vote::VoteDenied;

/// Reports needed to flag FAIL when `size` masters serve slots:
/// `size/2 + 1`. Mirrors `needed_quorum` in `markNodeAsFailingIfNeeded`.
pub fn failure_quorum(size: usize) -> usize {
    size / 2 + 1
}

/// Failure reports that count towards FAIL: the valid reports I hold, and
/// myself if I am a master (slots or not). Mirrors `markNodeAsFailingIfNeeded`
/// (`failures`).
pub fn failure_count(reports: usize, i_am_master: bool) -> usize {
    reports + usize::from(i_am_master)
}

/// Whether a failure report gossiped by a sender is kept: only a master's
/// is, whether or not it serves slots (`nodeIsMaster(sender)`). Mirrors the
/// failure-report branch of `clusterProcessGossipSection`.
pub fn report_counts(sender_is_master: bool) -> bool {
    sender_is_master
}

/// How many random gossip entries a PING carries when `known` nodes are in
/// the table (myself included): `max(3, known/10)`, at most `known - 2`.
/// Mirrors the `wanted`/`freshnodes` computation of `clusterSendPing`.
pub fn gossip_wanted(known: usize) -> usize {
    let fresh = known.saturating_sub(2);
    (known / super::GOSSIP_NODES_PER_ENTRY)
        .max(super::GOSSIP_MIN_ENTRIES)
        .min(fresh)
}

/// Votes needed to win: `size/2 + 1` of the slot-owning masters.
/// Mirrors `needed_quorum` in `clusterHandleSlaveFailover`.
pub fn election_quorum(size: usize) -> usize {
    size / 2 + 1
}

/// What a master knows when an AUTH_REQUEST arrives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VoteFacts {
    /// I am a master serving slots.
    pub i_am_voter: bool,
    /// The request's currentEpoch, and mine after its header was read.
    pub request_epoch: u64,
    pub current_epoch: u64,
    pub last_vote_epoch: u64,
    /// The requester is a replica whose master I know.
    pub requester_is_replica: bool,
    /// Its master is FAIL in my view.
    pub master_failed: bool,
    /// The request carries FORCEACK (a manual failover).
    pub force_ack: bool,
    /// I voted for a replica of that master less than 2·NT ago.
    pub voted_recently: bool,
    /// A slot the request claims is owned, in my view, with a greater configEpoch.
    pub stale_claim: bool,
}

/// Whether master grants its vote, and if not, why. Mirrors
/// `clusterSendFailoverAuthIfNeeded`, whose checks run in this order.
pub fn may_vote_for(f: &VoteFacts, ignore_last_vote: bool) -> Result<(), VoteDenied> {
    if !f.i_am_voter {
        return Err(VoteDenied::NotAVoter);
    }
    if f.request_epoch < f.current_epoch {
        return Err(VoteDenied::StaleEpoch);
    }
    if f.last_vote_epoch == f.current_epoch && !ignore_last_vote {
        return Err(VoteDenied::AlreadyVoted);
    }
    if !f.requester_is_replica {
        return Err(VoteDenied::NotAReplica);
    }
    if !f.master_failed && !f.force_ack {
        return Err(VoteDenied::MasterUp);
    }
    if f.voted_recently {
        return Err(VoteDenied::VotedRecently);
    }
    if f.stale_claim {
        return Err(VoteDenied::StaleSlotClaim);
    }
    Ok(())
}

/// Whether an AUTH_ACK counts for my election: its sender is, in my own
/// table, a master serving slots (`sender->numslots`, not what the ACK's
/// header claims), and its currentEpoch is at least my election's. Mirrors
/// the AUTH_ACK branch of `clusterProcessPacket`.
pub fn ack_counts(
    voter_is_master: bool,
    voter_numslots: usize,
    voter_epoch: u64,
    auth_epoch: u64,
) -> bool {
    voter_is_master && voter_numslots > 0 && voter_epoch >= auth_epoch
}

/// What a replica knows when it considers failing over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FailoverFacts {
    /// I am a replica of a master I know.
    pub i_am_replica: bool,
    pub master_failed: bool,
    /// Slots my master serves in my view.
    pub master_numslots: usize,
    /// A manual failover is under way and may start its election.
    pub manual: bool,
    /// My replication data passes the validity check.
    pub data_fresh: bool,
}

/// Whether I may fail over now: a replica whose master serves slots and is
/// FAIL (or a manual failover), with fresh enough data. Mirrors the guards at
/// the top of `clusterHandleSlaveFailover`, which run on every call: before
/// an election is planned, before it starts, and before a won one promotes.
pub fn may_fail_over(f: &FailoverFacts) -> bool {
    f.i_am_replica
        && (f.master_failed || f.manual)
        && f.master_numslots > 0
        && (f.manual || f.data_fresh)
}

/// Whether a new election may be planned: I may fail over, and none was
/// planned within the retry time (`failover_auth_time` plus twice the auth
/// timeout). Mirrors the start of a new attempt in `clusterHandleSlaveFailover`.
pub fn may_start_election(may_fail_over: bool, planned_within_retry_time: bool) -> bool {
    may_fail_over && !planned_within_retry_time
}

/// What a node knows of the sender of a PING, PONG or MEET.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CollisionFacts {
    pub i_am_master: bool,
    pub sender_is_master: bool,
    /// The configEpoch the packet's header carries, and the sender's in my
    /// table once the header was read (the greater of the two).
    pub header_config_epoch: u64,
    pub sender_config_epoch: u64,
    pub my_config_epoch: u64,
    /// The sender's node id sorts after mine.
    pub sender_id_greater: bool,
}

/// Whether I take a new configEpoch on my own (after `CLUSTER SETSLOT NODE`
/// of a slot I imported, or a forced manual failover): mine is 0 or not the
/// greatest epoch I know of (`max_epoch`: currentEpoch and every node's
/// configEpoch, mine included). Mirrors
/// `clusterBumpConfigEpochWithoutConsensus`.
pub fn must_bump_without_consensus(my_config_epoch: u64, max_epoch: u64) -> bool {
    my_config_epoch == 0 || my_config_epoch != max_epoch
}

/// Whether I must take a new configEpoch because a master with a greater id
/// has mine. Mirrors `clusterHandleConfigEpochCollision` and the check
/// `clusterProcessPacket` makes on the header before calling it.
pub fn must_resolve_collision(f: &CollisionFacts) -> bool {
    f.i_am_master
        && f.sender_is_master
        && f.header_config_epoch == f.my_config_epoch
        && f.sender_config_epoch == f.my_config_epoch
        && f.sender_id_greater
}
