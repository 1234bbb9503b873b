//! The CLUSTER subcommands that change protocol state. Mirrors the matching
//! branches of `clusterCommand`, plus `clusterSetMaster` and `clusterReset`.

use std::collections::BTreeSet;

use crate::codec::{flags, NodeName};

use super::handshake::CLUSTER_BLACKLIST_TTL_MS;
use super::{name_str, ClusterCommand, Core, Effect, Reply, CLUSTER_SLOTS};

impl Core {
    pub(super) fn command(&mut self, now_ms: u64, cmd: ClusterCommand) {
        let reply = match cmd {
            ClusterCommand::Meet {
                ip,
                port,
                cport,
                handshake_id,
            } => {
                if port == 0 || cport == 0 || !looks_like_ip(&ip) {
                    Reply::Error(format!("ERR Invalid node address specified: {ip}:{port}"))
                } else {
                    self.start_handshake(now_ms, &ip, port, cport, handshake_id);
                    Reply::Ok
                }
            }
            ClusterCommand::AddSlots(slots) => self.cmd_add_slots(&slots),
            ClusterCommand::DelSlots(slots) => self.cmd_del_slots(&slots),
            ClusterCommand::Replicate(id) => self.cmd_replicate(&id),
            ClusterCommand::Failover { mode } => self.cmd_failover(now_ms, mode),
            ClusterCommand::SetConfigEpoch(e) => self.cmd_set_config_epoch(e),
            ClusterCommand::BumpEpoch => {
                let bumped = self.bump_config_epoch_without_consensus();
                let word = if bumped { "BUMPED" } else { "STILL" };
                Reply::Status(format!("{word} {}", self.me().config_epoch))
            }
            ClusterCommand::Forget(id) => self.cmd_forget(now_ms, &id),
            ClusterCommand::Reset { hard, new_id } => {
                self.reset(hard, new_id);
                Reply::Ok
            }
            ClusterCommand::SetSlot {
                slot,
                action,
                keys_in_slot,
                entropy,
            } => self.cmd_set_slot(now_ms, slot, action, keys_in_slot, entropy),
            ClusterCommand::CountFailureReports(id) => match self.table.get(&id) {
                Some(n) => Reply::Integer(n.fail_reports.len() as i64),
                None => Reply::Error(format!("ERR Unknown node {}", name_str(&id))),
            },
        };
        self.out.push(Effect::Reply(reply));
    }

    /// Checks a slot list: in range and no duplicates.
    fn check_slot_list(slots: &[u16]) -> Result<(), Reply> {
        let mut seen = BTreeSet::new();
        for s in slots {
            if *s as usize >= CLUSTER_SLOTS {
                return Err(Reply::Error("ERR Invalid or out of range slot".into()));
            }
            if !seen.insert(*s) {
                return Err(Reply::Error(format!(
                    "ERR Slot {s} specified multiple times"
                )));
            }
        }
        Ok(())
    }

    fn cmd_add_slots(&mut self, slots: &[u16]) -> Reply {
        if let Err(r) = Self::check_slot_list(slots) {
            return r;
        }
        if let Some(s) = slots
            .iter()
            .find(|s| self.table.slot_owner[**s as usize].is_some())
        {
            return Reply::Error(format!("ERR Slot {s} is already busy"));
        }
        let me = self.myself;
        for s in slots {
            // Now the real owner: an import of it is over (`clusterUpdateSlots`).
            self.open_slots.importing.remove(s);
            self.table.add_slot(&me, *s);
        }
        self.save_config(false);
        Reply::Ok
    }

    fn cmd_del_slots(&mut self, slots: &[u16]) -> Reply {
        if let Err(r) = Self::check_slot_list(slots) {
            return r;
        }
        if let Some(s) = slots
            .iter()
            .find(|s| self.table.slot_owner[**s as usize].is_none())
        {
            return Reply::Error(format!("ERR Slot {s} is already unassigned"));
        }
        for s in slots {
            self.open_slots.importing.remove(s);
            self.table.del_slot(*s);
        }
        self.save_config(false);
        Reply::Ok
    }

    fn cmd_replicate(&mut self, id: &NodeName) -> Reply {
        let Some(n) = self.table.get(id) else {
            return Reply::Error(format!("ERR Unknown node {}", name_str(id)));
        };
        if *id == self.myself {
            return Reply::Error("ERR Can't replicate myself".into());
        }
        if n.is_replica() {
            return Reply::Error("ERR I can only replicate a master, not a replica.".into());
        }
        if self.me().is_master() && self.me().numslots != 0 {
            return Reply::Error(
                "ERR To set a master the node must be empty and without assigned slots.".into(),
            );
        }
        self.set_my_master(id);
        self.save_config(false);
        Reply::Ok
    }

    /// Makes me a replica of `master`. Mirrors `clusterSetMaster`.
    pub(super) fn set_my_master(&mut self, master: &NodeName) {
        let me = self.myself;
        if self.me().is_master() {
            let m = self.me_mut();
            m.flags &= !(flags::MASTER | flags::MIGRATE_TO);
            m.flags |= flags::SLAVE;
            self.open_slots.close_all();
        }
        self.table.attach_replica(&me, master);
        self.reset_manual_failover();
    }

    fn cmd_set_config_epoch(&mut self, epoch: u64) -> Reply {
        if self.table.len() > 1 {
            return Reply::Error(
                "ERR The user can assign a config epoch only when the node does not know any other node.".into(),
            );
        }
        if self.me().config_epoch != 0 {
            return Reply::Error("ERR Node config epoch is already non-zero".into());
        }
        self.me_mut().config_epoch = epoch;
        if self.current_epoch < epoch {
            self.current_epoch = epoch;
        }
        self.save_config(true);
        Reply::Ok
    }

    fn cmd_forget(&mut self, now_ms: u64, id: &NodeName) -> Reply {
        if !self.table.contains(id) {
            return Reply::Error(format!("ERR Unknown node {}", name_str(id)));
        }
        if *id == self.myself {
            return Reply::Error("ERR I tried hard but I can't forget myself...".into());
        }
        if self.me().is_replica() && self.me().master == Some(*id) {
            return Reply::Error("ERR Can't forget my master!".into());
        }
        self.blacklist.retain(|_, until| *until > now_ms);
        self.blacklist
            .insert(*id, now_ms + CLUSTER_BLACKLIST_TTL_MS);
        self.del_node(id);
        self.save_config(false);
        Reply::Ok
    }

    /// CLUSTER RESET: become an empty master that knows nobody; a hard
    /// reset also zeroes the epochs and takes a new id. Mirrors `clusterReset`.
    fn reset(&mut self, hard: bool, new_id: NodeName) {
        let me = self.myself;
        if self.me().is_replica() {
            self.table.set_node_as_master(&me);
        }
        for s in 0..CLUSTER_SLOTS as u16 {
            self.table.del_slot(s);
        }
        let others: Vec<NodeName> = self
            .table
            .nodes
            .keys()
            .filter(|n| **n != me)
            .copied()
            .collect();
        for n in others {
            self.del_node(&n);
        }
        self.election = Default::default();
        self.reset_manual_failover();
        self.open_slots.close_all();
        if hard {
            self.current_epoch = 0;
            self.last_vote_epoch = 0;
            self.me_mut().config_epoch = 0;
            self.table.rename(&me, &new_id);
            self.myself = new_id;
        }
        self.save_config(true);
    }
}

/// Whether `ip` is an IPv4 or IPv6 literal (the check `clusterStartHandshake`
/// makes with `inet_pton`), without touching any network API.
fn looks_like_ip(ip: &str) -> bool {
    let v4 = {
        let parts: Vec<&str> = ip.split('.').collect();
        parts.len() == 4
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 3 && p.parse::<u8>().is_ok())
    };
    let v6 = ip.contains(':')
        && ip.len() <= 45
        && ip
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
    v4 || v6
}
