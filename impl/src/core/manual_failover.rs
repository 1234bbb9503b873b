//! CLUSTER FAILOVER [FORCE|TAKEOVER]: the replica asks its master to pause
//! (MFSTART), waits for the master's offset, then runs an election whose
//! requests carry FORCEACK; TAKEOVER skips the vote. Mirrors
//! `resetManualFailover`, `manualFailoverCheckTimeout`,
//! `clusterHandleManualFailover`, the MFSTART branch of
//! `clusterProcessPacket` and the FAILOVER branch of `clusterCommand`.

use crate::codec::NodeName;

use super::outgoing::PingKind;
use super::{
    Core, FailoverMode, GossipChoice, LinkId, ManualFailoverState, Reply, CLUSTER_MF_TIMEOUT_MS,
};

impl Core {
    /// Clears any manual failover. Mirrors `resetManualFailover`.
    pub(super) fn reset_manual_failover(&mut self) {
        self.mf = ManualFailoverState::default();
    }

    /// The deadline passed: give up. Mirrors `manualFailoverCheckTimeout`.
    pub(super) fn manual_failover_timeout(&mut self, now_ms: u64) {
        if let Some(end) = self.mf.end_ms {
            if end <= now_ms {
                self.log("manual failover timed out".to_string());
                self.reset_manual_failover();
            }
        }
    }

    /// Replica side: once my replication offset (as the runtime reports it,
    /// [`Core::set_repl_offset`]) equals the paused master's, the election
    /// may start. Mirrors `clusterHandleManualFailover`.
    pub(super) fn handle_manual_failover(&mut self) {
        if self.mf.end_ms.is_none() || self.mf.can_start {
            return;
        }
        if self.mf.master_offset == Some(self.repl_offset) {
            self.mf.can_start = true;
        }
    }

    /// CLUSTER FAILOVER on this replica.
    pub(super) fn cmd_failover(&mut self, now_ms: u64, mode: FailoverMode) -> Reply {
        let me = self.me();
        if me.is_master() {
            return Reply::Error("ERR You should send CLUSTER FAILOVER to a replica".into());
        }
        let Some(master) = me.master.and_then(|m| self.table.get(&m)) else {
            return Reply::Error("ERR I'm a replica but my master is unknown to me".into());
        };
        if mode == FailoverMode::Default && (master.failed() || !master.link.exists()) {
            return Reply::Error(
                "ERR Master is down or failed, please use CLUSTER FAILOVER FORCE".into(),
            );
        }
        let master = master.name;
        self.reset_manual_failover();
        self.mf.end_ms = Some(now_ms + CLUSTER_MF_TIMEOUT_MS);
        match mode {
            FailoverMode::Takeover => {
                self.bump_config_epoch_without_consensus();
                self.failover_replace_my_master(now_ms, &GossipChoice::Seed(now_ms));
            }
            FailoverMode::Force => self.mf.can_start = true,
            FailoverMode::Default => self.send_mfstart(&master),
        }
        Reply::Ok
    }

    /// Master side: a replica of mine asks for a manual failover. Pause
    /// (announced by the PAUSED flag) and PING it with my offset.
    pub(super) fn process_mfstart(
        &mut self,
        now_ms: u64,
        link: LinkId,
        sender: Option<NodeName>,
        choice: &GossipChoice,
    ) {
        let Some(s) = sender else { return };
        if self.table.get(&s).and_then(|n| n.master) != Some(self.myself) {
            return;
        }
        self.reset_manual_failover();
        self.mf.end_ms = Some(now_ms + CLUSTER_MF_TIMEOUT_MS);
        self.mf.replica = Some(s);
        self.send_ping(now_ms, link, PingKind::Ping, choice, 0);
    }
}
