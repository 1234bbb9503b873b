//! Config epochs and slot ownership: a higher configEpoch wins a slot, stale
//! owners learn it by UPDATE, equal epochs between masters are resolved by
//! the smaller node id bumping. Mirrors `clusterUpdateSlotsConfigWith`,
//! `clusterHandleConfigEpochCollision`, the UPDATE branch of
//! `clusterProcessPacket` and `clusterBumpConfigEpochWithoutConsensus`.

use super::altered;
use crate::codec::{NodeName, SlotBitmap};

use super::rules::{self, CollisionFacts};
use super::Core;

impl Core {
    /// `sender` claims `slots` with `epoch`: take every slot that is
    /// unclaimed or owned with a smaller configEpoch. If I (or my master)
    /// lose all slots to it, follow it as a replica; otherwise, if my master
    /// is a replica itself, follow its master.
    pub(super) fn update_slots_config_with(
        &mut self,
        sender: &NodeName,
        epoch: u64,
        slots: &SlotBitmap,
    ) {
        if *sender == self.myself {
            return;
        }
        let cur_master = if self.me().is_master() {
            Some(self.myself)
        } else {
            self.me().master
        };
        let mut new_master = false;
        let mut changed = false;
        for slot in 0..super::CLUSTER_SLOTS as u16 {
            let owner = self.table.slot_owner[slot as usize];
            if !slots.contains(slot) {
                // Bound to the sender, which no longer claims it: kept, but
                // marked, so that no UPDATE spreads a claim nobody makes.
                if owner == Some(*sender) {
                    self.not_claiming.insert(slot);
                }
                continue;
            }
            if owner == Some(*sender) {
                self.not_claiming.remove(slot);
                continue;
            }
            // An importing slot is being moved here by the operator: no
            // claim takes it meanwhile.
            if self.open_slots.importing.contains_key(&slot) {
                continue;
            }
            let takes = match owner {
                None => true,
                Some(_) => {
                    self.not_claiming.contains(slot)
                        || self
                            .table
                            .slot_owner_epoch(slot)
                            .map(|e| e < epoch || altered!(self, StaleClaimWins))
                            .unwrap_or(true)
                }
            };
            if !takes {
                continue;
            }
            if owner.is_some() && owner == cur_master {
                new_master = true;
            }
            self.table.del_slot(slot);
            self.table.add_slot(sender, slot);
            self.not_claiming.remove(slot);
            changed = true;
        }
        if changed {
            self.save_config(true);
        }
        let cur_master_empty = cur_master
            .and_then(|m| self.table.get(&m))
            .map(|m| m.numslots == 0)
            .unwrap_or(false);
        if new_master && cur_master_empty {
            self.log(format!(
                "configuration change: now a replica of {}",
                super::name_str(sender)
            ));
            self.set_my_master(sender);
            self.save_config(true);
        } else if let Some(grandmaster) = self.sub_replica_of() {
            // My master turned replica when its last slot went (a
            // migration), and nothing else would move me.
            self.log(format!(
                "a sub-replica: now a replica of grandmaster {}",
                super::name_str(&grandmaster)
            ));
            self.set_my_master(&grandmaster);
            self.save_config(true);
        }
    }

    /// My master's master, if my master is a replica of a node other than
    /// me (the sub-replica safeguard of `clusterUpdateSlotsConfigWith`).
    fn sub_replica_of(&self) -> Option<NodeName> {
        let master = self.me().master?;
        let grandmaster = self.table.get(&master)?.master?;
        (grandmaster != self.myself).then_some(grandmaster)
    }

    /// A master's header carries my configEpoch: if its id is greater than mine, I
    /// bump currentEpoch and take it as my configEpoch (synced before anything
    /// leaves). Mirrors `clusterHandleConfigEpochCollision`.
    pub(super) fn handle_config_epoch_collision(&mut self, sender: &NodeName, header_epoch: u64) {
        let Some(s) = self.table.get(sender) else {
            return;
        };
        let facts = CollisionFacts {
            i_am_master: self.me().is_master(),
            sender_is_master: s.is_master(),
            header_config_epoch: header_epoch,
            sender_config_epoch: s.config_epoch,
            my_config_epoch: self.me().config_epoch,
            sender_id_greater: *sender > self.myself,
        };
        if !rules::must_resolve_collision(&facts) {
            return;
        }
        self.current_epoch += 1;
        let e = self.current_epoch;
        self.me_mut().config_epoch = e;
        self.save_config(true);
        self.log(format!(
            "configEpoch collision with {}: configEpoch set to {}",
            super::name_str(sender),
            e
        ));
    }

    /// An UPDATE says `about` owns `slots` with `epoch`. An UPDATE about
    /// myself is ignored (Redis would adopt its epoch, then discard the slots;
    /// no correct peer sends one, since UPDATE names another owner).
    pub(super) fn process_update(&mut self, about: &NodeName, epoch: u64, slots: &SlotBitmap) {
        if *about == self.myself {
            return;
        }
        let Some(n) = self.table.get(about) else {
            return;
        };
        if n.config_epoch >= epoch {
            return;
        }
        if n.is_replica() {
            self.table.set_node_as_master(about);
        }
        if let Some(n) = self.table.get_mut(about) {
            n.config_epoch = epoch;
        }
        self.save_config(true);
        self.update_slots_config_with(about, epoch, slots);
    }

    /// The greatest configEpoch I know of, currentEpoch included. Mirrors `clusterGetMaxEpoch`.
    pub fn max_epoch(&self) -> u64 {
        self.table
            .nodes
            .values()
            .map(|n| n.config_epoch)
            .max()
            .unwrap_or(0)
            .max(self.current_epoch)
    }

    /// Takes a new configEpoch without agreement when mine is 0 or not the
    /// maximum. Returns whether it bumped. Mirrors
    /// `clusterBumpConfigEpochWithoutConsensus`.
    pub(super) fn bump_config_epoch_without_consensus(&mut self) -> bool {
        if rules::must_bump_without_consensus(self.me().config_epoch, self.max_epoch()) {
            self.current_epoch += 1;
            let e = self.current_epoch;
            self.me_mut().config_epoch = e;
            self.save_config(true);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::core;
    use super::super::NodeEntry;
    use crate::codec::{flags, SlotBitmap};

    fn slots(list: &[u16]) -> SlotBitmap {
        let mut b = SlotBitmap::empty();
        for s in list {
            b.insert(*s);
        }
        b
    }

    /// `owner_not_claiming_slot`: a slot its owner stops claiming is kept,
    /// marked, and then goes to a claim of any configEpoch; the mark keeps
    /// it out of the UPDATE about its owner.
    #[test]
    fn a_slot_its_owner_stops_claiming_goes_to_any_claimant() {
        let mut c = core(b'c', 7002, 1000);
        let (a, b) = ([b'a'; 40], [b'b'; 40]);
        for (name, epoch) in [(a, 1), (b, 2)] {
            let mut n = NodeEntry::new(name, flags::MASTER, 0);
            n.config_epoch = epoch;
            c.table.nodes.insert(name, n);
        }
        c.table.add_slot(&b, 10);
        c.table.add_slot(&b, 11);
        c.update_slots_config_with(&b, 2, &slots(&[10]));
        assert!(c.not_claiming.contains(11));
        assert_eq!(c.table.slot_owner[11], Some(b), "kept, only marked");
        c.send_update(super::super::LinkId::Outbound(a), &b);
        let sent = super::super::tests::msgs(&std::mem::take(&mut c.out));
        match &sent[0].1.body {
            crate::codec::Body::Update { slots: s, .. } => assert_eq!(s, &slots(&[10])),
            other => panic!("expected an UPDATE, got {other:?}"),
        }
        // a claims slot 11 with configEpoch 1, below b's 2: it takes it.
        c.update_slots_config_with(&a, 1, &slots(&[11]));
        assert_eq!(c.table.slot_owner[11], Some(a));
        assert!(!c.not_claiming.contains(11));
        // Slot 10 is still b's and claimed: the same claim is refused.
        c.update_slots_config_with(&a, 1, &slots(&[10]));
        assert_eq!(c.table.slot_owner[10], Some(b));
    }

    /// The sub-replica safeguard: a replica whose master became a replica
    /// follows its grandmaster on the next claim it reads.
    #[test]
    fn a_sub_replica_follows_its_grandmaster() {
        let mut c = core(b'c', 7002, 1000);
        let (a, b, d) = ([b'a'; 40], [b'b'; 40], [b'd'; 40]);
        for name in [a, b, d] {
            c.table
                .nodes
                .insert(name, NodeEntry::new(name, flags::MASTER, 0));
        }
        c.table.add_slot(&d, 5);
        c.set_my_master(&a);
        c.table.attach_replica(&a, &b);
        c.update_slots_config_with(&d, 0, &slots(&[5, 6]));
        assert_eq!(c.me().master, Some(b));
    }
}
