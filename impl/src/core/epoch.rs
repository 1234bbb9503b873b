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
    /// lose all slots to it, follow it as a replica.
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
        for slot in slots.iter() {
            let owner = self.table.slot_owner[slot as usize];
            // An importing slot is being moved here by the operator: no
            // claim takes it meanwhile.
            if owner == Some(*sender) || self.open_slots.importing.contains_key(&slot) {
                continue;
            }
            let takes = match owner {
                None => true,
                Some(_) => self
                    .table
                    .slot_owner_epoch(slot)
                    .map(|e| e < epoch || altered!(self, StaleClaimWins))
                    .unwrap_or(true),
            };
            if !takes {
                continue;
            }
            if owner.is_some() && owner == cur_master {
                new_master = true;
            }
            self.table.del_slot(slot);
            self.table.add_slot(sender, slot);
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
        }
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
