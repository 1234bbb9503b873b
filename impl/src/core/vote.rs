//! The master side of a failover: whether to grant a replica my vote.
//! Mirrors `clusterSendFailoverAuthIfNeeded`.

use super::altered;
use crate::codec::{mflags0, Header, NodeName};

use super::rules::{self, VoteFacts};
use super::Core;

/// Why a vote was refused (the log reasons of `clusterSendFailoverAuthIfNeeded`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteDenied {
    /// I am a replica or serve no slots.
    NotAVoter,
    /// The request's currentEpoch is older than mine.
    StaleEpoch,
    /// I already voted in my currentEpoch.
    AlreadyVoted,
    /// The requester is a master, or its master is unknown to me.
    NotAReplica,
    /// Its master is not FAIL (and no FORCEACK).
    MasterUp,
    /// I voted for a replica of that master less than 2·NT ago.
    VotedRecently,
    /// A claimed slot is owned with a greater configEpoch.
    StaleSlotClaim,
}

impl Core {
    /// Decides whether `requester` gets my vote for the epoch of `request`.
    pub fn may_vote_for(
        &self,
        now_ms: u64,
        requester: &NodeName,
        request: &Header,
    ) -> Result<(), VoteDenied> {
        let me = self.me();
        let master = self
            .table
            .get(requester)
            .filter(|n| !n.is_master())
            .and_then(|n| n.master)
            .and_then(|m| self.table.get(&m));
        let facts = VoteFacts {
            i_am_voter: me.is_master() && me.numslots > 0,
            request_epoch: request.current_epoch,
            current_epoch: self.current_epoch,
            last_vote_epoch: self.last_vote_epoch,
            requester_is_replica: master.is_some(),
            master_failed: master.is_some_and(|m| m.failed()),
            force_ack: request.mflags[0] & mflags0::FORCEACK != 0,
            voted_recently: master
                .and_then(|m| m.voted_time_ms)
                .is_some_and(|t| now_ms.saturating_sub(t) < self.cfg.node_timeout_ms * 2),
            stale_claim: request.myslots.iter().any(|slot| {
                !self.not_claiming.contains(slot)
                    && self
                        .table
                        .slot_owner_epoch(slot)
                        .is_some_and(|e| e > request.config_epoch)
            }),
        };
        rules::may_vote_for(&facts, altered!(self, VoteIgnoresLastVoteEpoch))
    }

    /// Votes for `requester` if allowed: record `lastVoteEpoch` and the vote
    /// time, sync the config, then send AUTH_ACK (after the Persist).
    pub(super) fn send_failover_auth_if_needed(
        &mut self,
        now_ms: u64,
        requester: &NodeName,
        request: &Header,
    ) {
        if let Err(why) = self.may_vote_for(now_ms, requester, request) {
            self.log(format!(
                "failover auth denied to {}: {:?}",
                super::name_str(requester),
                why
            ));
            return;
        }
        self.last_vote_epoch = self.current_epoch;
        let master = self.table.get(requester).and_then(|n| n.master);
        if let Some(m) = master.and_then(|m| self.table.get_mut(&m)) {
            m.voted_time_ms = Some(now_ms);
        }
        self.save_config(true);
        self.send_auth_ack(requester);
        self.log(format!(
            "failover auth granted to {} for epoch {}",
            super::name_str(requester),
            self.current_epoch
        ));
    }
}
