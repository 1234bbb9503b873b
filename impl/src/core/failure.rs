//! Failure detection: PFAIL from my own pings, failure reports gossiped by
//! masters, FAIL once a majority of slot-owning masters agree, and the rules
//! that clear FAIL again.

use super::altered;
use crate::codec::{flags, NodeName};

use super::rules::{failure_count, failure_quorum};
use super::{Core, CLUSTER_FAIL_REPORT_VALIDITY_MULT, CLUSTER_FAIL_UNDO_TIME_MULT};

impl Core {
    /// How long a failure report stays valid: 2·NT.
    pub fn report_validity_ms(&self) -> u64 {
        self.cfg.node_timeout_ms * CLUSTER_FAIL_REPORT_VALIDITY_MULT
    }

    /// Records (or refreshes) `reporter`'s report that `about` is failing.
    /// Mirrors `clusterNodeAddFailureReport`.
    pub(super) fn add_failure_report(
        &mut self,
        now_ms: u64,
        about: &NodeName,
        reporter: &NodeName,
    ) {
        if let Some(n) = self.table.get_mut(about) {
            n.fail_reports.insert(*reporter, now_ms);
        }
    }

    /// Drops `reporter`'s report about `about`. Mirrors `clusterNodeDelFailureReport`.
    pub(super) fn del_failure_report(&mut self, about: &NodeName, reporter: &NodeName) {
        if let Some(n) = self.table.get_mut(about) {
            n.fail_reports.remove(reporter);
        }
    }

    /// Removes reports older than 2·NT and counts the rest. Mirrors
    /// `clusterNodeCleanupFailureReports` + `clusterNodeFailureReportsCount`.
    fn count_failure_reports(&mut self, now_ms: u64, about: &NodeName) -> usize {
        let validity = self.report_validity_ms();
        let Some(n) = self.table.get_mut(about) else {
            return 0;
        };
        n.fail_reports
            .retain(|_, t| now_ms.saturating_sub(*t) <= validity);
        n.fail_reports.len()
    }

    /// Flags `about` FAIL if I see it PFAIL and enough masters (myself
    /// included when I am one) report it; then tells everyone. Mirrors
    /// `markNodeAsFailingIfNeeded`.
    pub(super) fn mark_node_as_failing_if_needed(&mut self, now_ms: u64, about: &NodeName) {
        let Some(n) = self.table.get(about) else {
            return;
        };
        if !n.timed_out() || n.failed() {
            return;
        }
        let reports = self.count_failure_reports(now_ms, about);
        let failures = failure_count(reports, self.me().is_master());
        let quorum = if altered!(self, FailOnOneReport) {
            1
        } else {
            failure_quorum(self.table.size())
        };
        if failures < quorum {
            return;
        }
        if let Some(n) = self.table.get_mut(about) {
            n.flags &= !flags::PFAIL;
            n.flags |= flags::FAIL;
            n.fail_time_ms = Some(now_ms);
        }
        self.log(format!(
            "marking {} as failing (quorum reached)",
            super::name_str(about)
        ));
        self.broadcast_fail(about);
        self.save_config(false);
    }

    /// A FAIL node is reachable again: clear FAIL for a replica or a master
    /// without slots at once, for a master with slots only when the FAIL is
    /// older than 2·NT (nobody took its slots). Mirrors `clearNodeFailureIfNeeded`.
    pub(super) fn clear_node_failure_if_needed(&mut self, now_ms: u64, name: &NodeName) {
        let undo_ms = self.cfg.node_timeout_ms * CLUSTER_FAIL_UNDO_TIME_MULT;
        let Some(n) = self.table.get_mut(name) else {
            return;
        };
        if !n.failed() {
            return;
        }
        let old_enough = n
            .fail_time_ms
            .map(|t| now_ms.saturating_sub(t) > undo_ms)
            .unwrap_or(true);
        if n.is_replica() || n.numslots == 0 || (n.is_master() && old_enough) {
            n.flags &= !flags::FAIL;
            self.save_config(false);
        }
    }

    /// A ping to `peer` is outstanding for longer than NT: flag PFAIL.
    /// Mirrors the timeout branch of `clusterCron`.
    pub(super) fn node_timeout(&mut self, _now_ms: u64, peer: &NodeName) {
        let Some(n) = self.table.get_mut(peer) else {
            return;
        };
        if n.has(flags::MYSELF | flags::HANDSHAKE | flags::NOADDR) || n.ping_sent_ms.is_none() {
            return;
        }
        if !n.has(flags::PFAIL | flags::FAIL) {
            n.flags |= flags::PFAIL;
        }
    }

    /// The report of `reporter` about `about` has expired.
    pub(super) fn report_expired(&mut self, about: &NodeName, reporter: &NodeName) {
        self.del_failure_report(about, reporter);
    }

    /// When each failure report expires: `(about, reporter, expiry_ms)`.
    pub fn failure_report_expiries(&self) -> Vec<(NodeName, NodeName, u64)> {
        let validity = self.report_validity_ms();
        self.table
            .nodes
            .values()
            .flat_map(|n| {
                n.fail_reports
                    .iter()
                    .map(move |(r, t)| (n.name, *r, t + validity))
            })
            .collect()
    }
}
