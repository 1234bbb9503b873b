//! The master side of a failover: whether to grant a replica my vote.
//! Mirrors `clusterSendFailoverAuthIfNeeded`.

use super::altered;
use crate::codec::{mflags0, Header, NodeName};

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
        if me.is_replica() || me.numslots == 0 {
            return Err(VoteDenied::NotAVoter);
        }
        if request.current_epoch < self.current_epoch {
            return Err(VoteDenied::StaleEpoch);
        }
        if self.last_vote_epoch == self.current_epoch && !altered!(self, VoteIgnoresLastVoteEpoch) {
            return Err(VoteDenied::AlreadyVoted);
        }
        let node = self.table.get(requester).ok_or(VoteDenied::NotAReplica)?;
        let master = match node.master.and_then(|m| self.table.get(&m)) {
            Some(m) if !node.is_master() => m,
            _ => return Err(VoteDenied::NotAReplica),
        };
        let force_ack = request.mflags[0] & mflags0::FORCEACK != 0;
        if !master.failed() && !force_ack {
            return Err(VoteDenied::MasterUp);
        }
        if let Some(t) = master.voted_time_ms {
            if now_ms.saturating_sub(t) < self.cfg.node_timeout_ms * 2 {
                return Err(VoteDenied::VotedRecently);
            }
        }
        let stale = request.myslots.iter().any(|slot| {
            self.table
                .slot_owner_epoch(slot)
                .map(|e| e > request.config_epoch)
                .unwrap_or(false)
        });
        if stale {
            return Err(VoteDenied::StaleSlotClaim);
        }
        Ok(())
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
