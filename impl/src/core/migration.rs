//! Slots being moved between masters: `CLUSTER SETSLOT`. Mirrors the
//! `setslot` branch of `clusterCommand` and the open-slot tables
//! (`migrating_slots_to`, `importing_slots_from`) of Redis 7.0.15.
//!
//! While slot `s` moves from A to B, A is *migrating* `s` to B and B is
//! *importing* it from A; clients are sent from A to B with `-ASK` for keys
//! A no longer has (see `commands::routing`). `SETSLOT s NODE B` ends the
//! move. On B, which was importing, it also takes a new configEpoch without
//! consensus, so that B's claim wins over A's everywhere it spreads.

use std::collections::BTreeMap;

use crate::codec::NodeName;

use super::{altered, name_from_str, name_str, Core, GossipChoice, Reply, CLUSTER_SLOTS};

/// What `CLUSTER SETSLOT <slot> ...` asks for. Ids stay text until the
/// core looks them up: one of the wrong length is a node nobody knows, and
/// the error quotes it as given (`clusterLookupNode`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SetSlot {
    /// `MIGRATING <id>`: I own the slot and am moving it to `id`.
    Migrating(String),
    /// `IMPORTING <id>`: the slot is moving to me from `id`.
    Importing(String),
    /// `STABLE`: neither migrating nor importing any more.
    Stable,
    /// `NODE <id>`: the slot is `id`'s now.
    Node(String),
}

/// The open slots of this node. Saved in nodes.conf on my own line
/// (`[slot->-id]`, `[slot-<-id]`) and shown the same way by CLUSTER NODES.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OpenSlots {
    /// `migrating_slots_to`: slot → the node it is moving to.
    #[serde(with = "super::snapshot::name_values")]
    pub migrating: BTreeMap<u16, NodeName>,
    /// `importing_slots_from`: slot → the node it is coming from.
    #[serde(with = "super::snapshot::name_values")]
    pub importing: BTreeMap<u16, NodeName>,
}

impl OpenSlots {
    /// Forget every open slot that names `node` (`clusterDelNode`).
    pub fn forget_node(&mut self, node: &NodeName) {
        self.migrating.retain(|_, n| n != node);
        self.importing.retain(|_, n| n != node);
    }

    /// Close every open slot (`clusterCloseAllSlots`).
    pub fn close_all(&mut self) {
        self.migrating.clear();
        self.importing.clear();
    }

    /// Both tables as nodes.conf lists them: (slot, id) in slot order.
    pub fn records(map: &BTreeMap<u16, NodeName>) -> Vec<(u16, String)> {
        map.iter().map(|(s, n)| (*s, name_str(n))).collect()
    }
}

impl Core {
    /// The node slot `slot` is migrating to, if it is.
    pub fn migrating_to(&self, slot: u16) -> Option<NodeName> {
        self.open_slots.migrating.get(&slot).copied()
    }

    /// The node slot `slot` is being imported from, if it is.
    pub fn importing_from(&self, slot: u16) -> Option<NodeName> {
        self.open_slots.importing.get(&slot).copied()
    }

    /// `CLUSTER SETSLOT`. `keys_in_slot` is how many keys I hold in `slot`
    /// (`countKeysInSlot`: the core holds no data, the command layer does).
    pub(super) fn cmd_set_slot(
        &mut self,
        now_ms: u64,
        slot: u16,
        action: SetSlot,
        keys_in_slot: u64,
        entropy: u64,
    ) -> Reply {
        if !self.me().is_master() {
            return Reply::Error("ERR Please use SETSLOT only with masters.".into());
        }
        if slot as usize >= CLUSTER_SLOTS {
            return Reply::Error("ERR Invalid or out of range slot".into());
        }
        let mine = self.table.slot_owner[slot as usize] == Some(self.myself);
        let reply = match action {
            SetSlot::Migrating(to) => {
                if !mine {
                    return Reply::Error(format!("ERR I'm not the owner of hash slot {slot}"));
                }
                match self.master_named(&to, "I don't know about node") {
                    Ok(to) => self.open_slots.migrating.insert(slot, to),
                    Err(e) => return e,
                };
                Reply::Ok
            }
            SetSlot::Importing(from) => {
                if mine {
                    return Reply::Error(format!("ERR I'm already the owner of hash slot {slot}"));
                }
                match self.master_named(&from, "I don't know about node") {
                    Ok(from) => self.open_slots.importing.insert(slot, from),
                    Err(e) => return e,
                };
                Reply::Ok
            }
            SetSlot::Stable => {
                self.open_slots.migrating.remove(&slot);
                self.open_slots.importing.remove(&slot);
                Reply::Ok
            }
            SetSlot::Node(owner) => {
                let owner = match self.master_named(&owner, "Unknown node") {
                    Ok(owner) => owner,
                    Err(e) => return e,
                };
                if mine && owner != self.myself && keys_in_slot != 0 {
                    return Reply::Error(format!(
                        "ERR Can't assign hashslot {slot} to a different node while I still hold keys for this hash slot."
                    ));
                }
                self.assign_slot(now_ms, slot, owner, keys_in_slot, entropy);
                Reply::Ok
            }
        };
        self.update_state();
        self.save_config(false);
        reply
    }

    /// `id` must be a node I know and a master; the error names it with
    /// `unknown` (Redis words the two lookups differently).
    fn master_named(&self, id: &str, unknown: &str) -> Result<NodeName, Reply> {
        let found = name_from_str(id).and_then(|name| self.table.get(&name));
        match found {
            None => Err(Reply::Error(format!("ERR {unknown} {id}"))),
            Some(n) if n.is_replica() => {
                Err(Reply::Error("ERR Target node is not a master".into()))
            }
            Some(n) => Ok(n.name),
        }
    }

    /// `SETSLOT <slot> NODE <owner>` once its checks passed.
    fn assign_slot(
        &mut self,
        now_ms: u64,
        slot: u16,
        owner: NodeName,
        keys_in_slot: u64,
        entropy: u64,
    ) {
        // A migrating slot without keys left is closed by the assignment.
        if keys_in_slot == 0 {
            self.open_slots.migrating.remove(&slot);
        }
        let was_mine = self.table.slot_owner[slot as usize] == Some(self.myself);
        self.table.del_slot(slot);
        self.table.add_slot(&owner, slot);
        // A master left without slots follows the new owner
        // (`cluster-allow-replica-migration`, on by default).
        if was_mine && owner != self.myself && self.me().numslots == 0 {
            self.set_my_master(&owner);
            self.save_config(true);
        }
        if owner == self.myself && self.open_slots.importing.remove(&slot).is_some() {
            // The move is done: a new configEpoch makes my claim win over
            // the old owner's wherever it spreads.
            if !altered!(self, SetSlotNoBump) {
                self.bump_config_epoch_without_consensus();
            }
            self.broadcast_pong(now_ms, false, &GossipChoice::Seed(entropy));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SetSlot;
    use crate::codec::{MessageType, NodeName};
    use crate::commands::testkit::two_shards;
    use crate::core::{name_str, ClusterCommand, Core, CoreConfig, Effect, Event, Reply};

    fn set_slot(core: &mut Core, slot: u16, action: SetSlot, keys: u64) -> Vec<Effect> {
        core.handle(
            0,
            Event::Command(ClusterCommand::SetSlot {
                slot,
                action,
                keys_in_slot: keys,
                entropy: 7,
            }),
        )
    }

    fn reply(effects: &[Effect]) -> Option<&Reply> {
        effects.iter().find_map(|e| match e {
            Effect::Reply(r) => Some(r),
            _ => None,
        })
    }

    fn id(core: &Core) -> String {
        name_str(&core.id())
    }

    #[test]
    fn an_import_is_saved_shown_and_survives_a_restart() {
        let (mut m0, m1, _) = two_shards();
        let from = id(&m1);
        let effects = set_slot(&mut m0, 9000, SetSlot::Importing(from.clone()), 0);
        assert_eq!(reply(&effects), Some(&Reply::Ok));
        assert_eq!(m0.importing_from(9000), Some(m1.id()));
        let conf = m0.persisted();
        let mine = conf
            .nodes
            .iter()
            .find(|r| r.id == id(&m0))
            .expect("my line");
        assert_eq!(mine.importing, vec![(9000, from.clone())]);
        let theirs = conf.nodes.iter().find(|r| r.id == from).expect("m1's line");
        assert!(
            theirs.importing.is_empty(),
            "only my own line lists open slots"
        );
        let back = Core::restart(&conf, CoreConfig::default(), 0).expect("restart");
        assert_eq!(back.importing_from(9000), Some(m1.id()));
        assert_eq!(back.migrating_to(9000), None);
    }

    #[test]
    fn a_finished_import_bumps_the_epoch_and_tells_everyone() {
        let (mut m0, m1, _) = two_shards();
        assert!(
            m0.config_epoch() < m1.config_epoch(),
            "m0 has the older epoch"
        );
        set_slot(&mut m0, 9000, SetSlot::Importing(id(&m1)), 0);
        let me = id(&m0);
        let effects = set_slot(&mut m0, 9000, SetSlot::Node(me), 0);
        assert_eq!(reply(&effects), Some(&Reply::Ok));
        assert_eq!(m0.slot_owner(9000), Some(m0.id()));
        assert_eq!(m0.importing_from(9000), None);
        assert!(m0.config_epoch() > m1.config_epoch(), "bumped past m1");
        let pongs = effects
            .iter()
            .filter(|e| matches!(e, Effect::Send { msg, .. } if msg.body.message_type() == MessageType::Pong))
            .count();
        assert_eq!(pongs, 3, "one PONG to each of the other three nodes");
        // Without the import, taking a slot is a plain assignment.
        let (mut m0, m1, _) = two_shards();
        let before = m0.config_epoch();
        let me = id(&m0);
        set_slot(&mut m0, 9001, SetSlot::Node(me), 0);
        assert_eq!(m0.slot_owner(9001), Some(m0.id()));
        assert_eq!(m0.config_epoch(), before);
        assert!(m1.is_master());
    }

    #[test]
    fn a_source_keeps_its_slot_while_keys_remain_and_follows_the_target_once_empty() {
        let (m0, mut m1, _) = two_shards();
        let to = id(&m0);
        assert_eq!(
            reply(&set_slot(&mut m1, 9000, SetSlot::Migrating(to.clone()), 3)),
            Some(&Reply::Ok)
        );
        assert_eq!(m1.migrating_to(9000), Some(m0.id()));
        let refused = set_slot(&mut m1, 9000, SetSlot::Node(to.clone()), 3);
        assert_eq!(
            reply(&refused),
            Some(&Reply::Error(
                "ERR Can't assign hashslot 9000 to a different node while I still hold keys for this hash slot."
                    .into()
            ))
        );
        assert_eq!(m1.slot_owner(9000), Some(m1.id()));
        set_slot(&mut m1, 9000, SetSlot::Node(to.clone()), 0);
        assert_eq!(m1.slot_owner(9000), Some(m0.id()));
        assert_eq!(m1.migrating_to(9000), None, "closed with its last key gone");
        assert!(m1.is_master(), "m1 still has slots");
        for slot in (8192..=16383).filter(|s| *s != 9000) {
            set_slot(&mut m1, slot, SetSlot::Node(to.clone()), 0);
        }
        assert!(
            !m1.is_master(),
            "a master left without slots follows the new owner"
        );
        assert_eq!(m1.master(), Some(m0.id()));
        let replica: NodeName = two_shards().2.id();
        assert_eq!(
            reply(&set_slot(&mut m1, 1, SetSlot::Stable, 0)),
            Some(&Reply::Error(
                "ERR Please use SETSLOT only with masters.".into()
            ))
        );
        let mut m1 = two_shards().1;
        assert_eq!(
            reply(&set_slot(
                &mut m1,
                9000,
                SetSlot::Migrating(name_str(&replica)),
                0
            )),
            Some(&Reply::Error("ERR Target node is not a master".into()))
        );
    }
}
