//! The replica side of a failover: plan an election once my master is FAIL,
//! start it (currentEpoch++ and AUTH_REQUEST to all), count the votes, and
//! take over when a majority of slot-owning masters voted. Mirrors
//! `clusterHandleSlaveFailover`, `clusterGetSlaveRank` and
//! `clusterFailoverReplaceYourMaster`.

use crate::codec::{flags, NodeName};

use super::rules::{self, ack_counts, election_quorum, FailoverFacts};
use super::{
    Core, ElectionState, GossipChoice, ELECTION_FIXED_DELAY_MS, ELECTION_JITTER_MAX_MS,
    ELECTION_RANK_DELAY_MS, FAILOVER_AUTH_TIMEOUT_MIN_MS, REPL_PING_REPLICA_PERIOD_MS,
};

/// Delay before a replica of rank `rank` starts its election:
/// 500 ms + jitter (0..500) + rank·1000 ms.
pub fn election_delay_ms(jitter_ms: u64, rank: u64) -> u64 {
    ELECTION_FIXED_DELAY_MS + jitter_ms % ELECTION_JITTER_MAX_MS + rank * ELECTION_RANK_DELAY_MS
}

/// The auth timeout for a node timeout: `max(2·NT, 2000)` ms.
pub fn auth_timeout_ms(node_timeout_ms: u64) -> u64 {
    (node_timeout_ms * 2).max(FAILOVER_AUTH_TIMEOUT_MIN_MS)
}

/// How long before a new election may be planned: twice the auth timeout.
pub fn auth_retry_ms(node_timeout_ms: u64) -> u64 {
    auth_timeout_ms(node_timeout_ms) * 2
}

impl Core {
    /// My rank among my master's replicas: how many of the others (that may
    /// fail over) announced a larger replication offset. Mirrors `clusterGetSlaveRank`.
    pub fn election_rank(&self) -> u64 {
        let Some(master) = self.me().master.and_then(|m| self.table.get(&m)) else {
            return 0;
        };
        master
            .replicas
            .iter()
            .filter(|r| **r != self.myself)
            .filter_map(|r| self.table.get(r))
            .filter(|r| !r.has(flags::NOFAILOVER) && r.repl_offset > self.repl_offset)
            .count() as u64
    }

    /// Whether the conditions to fail over hold: I am a replica, my master
    /// serves slots and is FAIL (or a manual failover may start), and my data
    /// is fresh enough. The first checks of `clusterHandleSlaveFailover`.
    pub fn may_fail_over(&self, now_ms: u64) -> bool {
        let me = self.me();
        let Some(master) = me.master.and_then(|m| self.table.get(&m)) else {
            return false;
        };
        let last_io = self.repl_last_io_ms.unwrap_or(master.pong_received_ms);
        rules::may_fail_over(&FailoverFacts {
            i_am_replica: me.is_replica(),
            master_failed: master.failed(),
            master_numslots: master.numslots,
            manual: self.mf.end_ms.is_some() && self.mf.can_start,
            data_fresh: self.replica_data_fresh(now_ms, last_io),
        })
    }

    /// The replica validity check of `clusterHandleSlaveFailover`: my data
    /// may be at most `NT * validity factor + repl ping period` old (after
    /// taking off NT, the time it took to notice the failure). The age is
    /// measured from the last time my replication link carried data, as the
    /// runtime reports it ([`Core::set_replication_last_io`]); a core whose
    /// runtime replicates nothing (the simulator, conformance) measures it
    /// from my master's last PONG instead.
    fn replica_data_fresh(&self, now_ms: u64, last_io_ms: u64) -> bool {
        let nt = self.cfg.node_timeout_ms;
        if self.cfg.replica_validity_factor == 0 {
            return true;
        }
        let mut age = now_ms.saturating_sub(last_io_ms);
        if age > nt {
            age -= nt;
        }
        age <= REPL_PING_REPLICA_PERIOD_MS + nt * self.cfg.replica_validity_factor
    }

    /// Whether a new election should be planned now: I may fail over and no
    /// election was planned in the last `auth_retry_ms`.
    pub fn election_needs_scheduling(&self, now_ms: u64) -> bool {
        let planned_within_retry_time = match self.election.auth_time_ms {
            None => false,
            Some(t) => {
                now_ms < t || now_ms.saturating_sub(t) <= auth_retry_ms(self.cfg.node_timeout_ms)
            }
        };
        rules::may_start_election(self.may_fail_over(now_ms), planned_within_retry_time)
    }

    /// Plans an election: start time, rank, and a PONG to the other replicas
    /// of my master so they learn my offset. A manual failover starts at once.
    pub(super) fn schedule_election(&mut self, now_ms: u64, jitter_ms: u64) {
        if !self.election_needs_scheduling(now_ms) {
            return;
        }
        let rank = self.election_rank();
        let mut e = ElectionState {
            rank,
            ..Default::default()
        };
        e.auth_time_ms = Some(now_ms + election_delay_ms(jitter_ms, rank));
        if self.mf.end_ms.is_some() {
            e.auth_time_ms = Some(now_ms);
            e.rank = 0;
        }
        self.election = e;
        self.broadcast_pong(now_ms, true, &GossipChoice::Seed(jitter_ms));
        if self.mf.end_ms.is_some() {
            self.election_due(now_ms);
        }
    }

    /// The planned start time has come: re-rank (a worse rank delays the
    /// start), then bump currentEpoch and ask every master for its vote. The
    /// bumped epoch is synced before the requests leave.
    pub(super) fn election_due(&mut self, now_ms: u64) {
        if !self.may_fail_over(now_ms) || self.election.auth_sent {
            return;
        }
        let Some(start) = self.election.auth_time_ms else {
            return;
        };
        if self.mf.end_ms.is_none() {
            let rank = self.election_rank();
            if rank > self.election.rank {
                let start = start + (rank - self.election.rank) * ELECTION_RANK_DELAY_MS;
                self.election.auth_time_ms = Some(start);
                self.election.rank = rank;
            }
        }
        let start = self.election.auth_time_ms.unwrap_or(start);
        if now_ms < start
            || now_ms.saturating_sub(start) > auth_timeout_ms(self.cfg.node_timeout_ms)
        {
            return;
        }
        self.current_epoch += 1;
        self.election.auth_epoch = self.current_epoch;
        self.election.auth_sent = true;
        self.election.votes.clear();
        self.log(format!(
            "starting a failover election for epoch {}",
            self.current_epoch
        ));
        self.save_config(true);
        self.broadcast_auth_request();
    }

    /// The election ran for the auth timeout without a win.
    pub(super) fn auth_timeout(&mut self, _now_ms: u64) {
        if self.election.auth_sent {
            self.election.expired = true;
        }
    }

    /// When the running election (if any) times out.
    pub fn auth_deadline_ms(&self) -> Option<u64> {
        let e = &self.election;
        match (e.auth_sent, e.expired, e.auth_time_ms) {
            (true, false, Some(t)) => Some(t + auth_timeout_ms(self.cfg.node_timeout_ms)),
            _ => None,
        }
    }

    /// An AUTH_ACK: count it if it comes from a slot-owning master in the
    /// election's epoch, and take over on a majority.
    pub(super) fn count_auth_ack(
        &mut self,
        now_ms: u64,
        voter: &NodeName,
        voter_epoch: u64,
        choice: &GossipChoice,
    ) {
        let Some(v) = self.table.get(voter) else {
            return;
        };
        if !ack_counts(
            v.is_master(),
            v.numslots,
            voter_epoch,
            self.election.auth_epoch,
        ) {
            return;
        }
        if !self.election.auth_sent || self.election.expired {
            return;
        }
        self.election.votes.insert(*voter);
        if self.election.votes.len() >= election_quorum(self.table.size())
            && self.may_fail_over(now_ms)
        {
            self.log(format!(
                "failover election won for epoch {}",
                self.election.auth_epoch
            ));
            let epoch = self.election.auth_epoch;
            if self.me().config_epoch < epoch {
                self.me_mut().config_epoch = epoch;
            }
            self.failover_replace_my_master(now_ms, choice);
        }
    }

    /// I become master, take my old master's slots, sync the config and
    /// PONG everyone. Mirrors `clusterFailoverReplaceYourMaster`.
    pub(super) fn failover_replace_my_master(&mut self, now_ms: u64, choice: &GossipChoice) {
        let me = self.myself;
        let Some(old) = self.me().master else { return };
        if self.me().is_master() {
            return;
        }
        self.table.set_node_as_master(&me);
        let slots: Vec<u16> = self
            .table
            .get(&old)
            .map(|n| n.slots.iter().collect())
            .unwrap_or_default();
        for s in slots {
            self.table.del_slot(s);
            self.table.add_slot(&me, s);
        }
        self.election = ElectionState::default();
        self.update_state();
        self.save_config(true);
        self.broadcast_pong(now_ms, false, choice);
        self.reset_manual_failover();
    }
}
