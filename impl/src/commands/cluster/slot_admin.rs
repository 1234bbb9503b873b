//! The CLUSTER subcommands that assign slots to this node: ADDSLOTS,
//! ADDSLOTSRANGE, DELSLOTS, DELSLOTSRANGE, FLUSHSLOTS, and SETSLOT (of which
//! this node has no slot migration to offer yet).
//!
//! The slot list is checked here the way Redis checks it, one slot at a
//! time in argument order, so that the first problem Redis would report is
//! the one reported; the core then applies a list it will accept.

use crate::commands::{Context, Outcome};
use crate::core::migration::SetSlot;
use crate::core::{ClusterCommand, Core, CLUSTER_SLOTS};
use crate::resp::Frame;

use super::{args, to_core};

/// Whether a slot list assigns slots to me or takes them away.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Change {
    Add,
    Del,
}

impl Change {
    fn command(self, slots: Vec<u16>) -> ClusterCommand {
        match self {
            Change::Add => ClusterCommand::AddSlots(slots),
            Change::Del => ClusterCommand::DelSlots(slots),
        }
    }
}

/// The slots of one ADDSLOTS/DELSLOTS[RANGE], checked as they come.
struct SlotList<'a> {
    core: &'a Core,
    change: Change,
    seen: Vec<bool>,
    slots: Vec<u16>,
}

impl<'a> SlotList<'a> {
    fn new(core: &'a Core, change: Change) -> Self {
        SlotList {
            core,
            change,
            seen: vec![false; CLUSTER_SLOTS],
            slots: Vec::new(),
        }
    }

    /// Adds `start..=end`: each slot must be free (ADD) or assigned (DEL),
    /// and named once. Mirrors `checkSlotAssignmentsOrReply`.
    fn push_range(&mut self, start: u16, end: u16) -> Result<(), Frame> {
        for slot in start..=end {
            let owned = self.core.slot_owner(slot).is_some();
            match self.change {
                Change::Del if !owned => {
                    return Err(Frame::error(format!(
                        "ERR Slot {slot} is already unassigned"
                    )))
                }
                Change::Add if owned => {
                    return Err(Frame::error(format!("ERR Slot {slot} is already busy")))
                }
                _ => {}
            }
            if std::mem::replace(&mut self.seen[slot as usize], true) {
                return Err(Frame::error(format!(
                    "ERR Slot {slot} specified multiple times"
                )));
            }
            self.slots.push(slot);
        }
        Ok(())
    }

    fn into_command(self) -> ClusterCommand {
        self.change.command(self.slots)
    }
}

/// ADDSLOTS/DELSLOTS: every argument must be a slot before any is checked
/// against the table. Mirrors that branch of `clusterCommand`.
fn slot_args(core: &Core, change: Change, words: &[Vec<u8>]) -> Result<ClusterCommand, Frame> {
    let slots = words
        .iter()
        .map(|w| args::slot(w))
        .collect::<Result<Vec<u16>, Frame>>()?;
    let mut list = SlotList::new(core, change);
    for s in slots {
        list.push_range(s, s)?;
    }
    Ok(list.into_command())
}

/// ADDSLOTSRANGE/DELSLOTSRANGE: pairs of slots, each pair checked in turn.
/// Mirrors that branch of `clusterCommand`.
fn range_args(core: &Core, change: Change, words: &[Vec<u8>]) -> Result<ClusterCommand, Frame> {
    let mut list = SlotList::new(core, change);
    for pair in words.chunks_exact(2) {
        let (start, end) = (args::slot(&pair[0])?, args::slot(&pair[1])?);
        if start > end {
            return Err(Frame::error(format!(
                "ERR start slot number {start} is greater than end slot number {end}"
            )));
        }
        list.push_range(start, end)?;
    }
    Ok(list.into_command())
}

/// The arity error when the words after the subcommand are not pairs
/// (`addReplyErrorArity`).
fn odd_ranges(args: &[Vec<u8>], name: &str) -> Option<Outcome> {
    let unpaired = !args[1..].chunks_exact(2).remainder().is_empty();
    unpaired.then(|| Outcome::Reply(args::arity_error(&format!("cluster|{name}"))))
}

/// `CLUSTER ADDSLOTS <slot>...`: assign free slots to me.
pub(super) fn addslots(ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    to_core(slot_args(ctx.core, Change::Add, &args[1..]))
}

/// `CLUSTER DELSLOTS <slot>...`: unassign slots (mine or not).
pub(super) fn delslots(ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    to_core(slot_args(ctx.core, Change::Del, &args[1..]))
}

/// `CLUSTER ADDSLOTSRANGE <start> <end>...`: assign free ranges to me.
pub(super) fn addslotsrange(ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    odd_ranges(args, "addslotsrange")
        .unwrap_or_else(|| to_core(range_args(ctx.core, Change::Add, &args[1..])))
}

/// `CLUSTER DELSLOTSRANGE <start> <end>...`: unassign ranges.
pub(super) fn delslotsrange(ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    odd_ranges(args, "delslotsrange")
        .unwrap_or_else(|| to_core(range_args(ctx.core, Change::Del, &args[1..])))
}

/// CLUSTER FLUSHSLOTS: unassign all my slots; only with an empty data set.
/// Mirrors the `flushslots` branch of `clusterCommand`.
pub(super) fn flushslots(ctx: &mut Context, _args: &[Vec<u8>]) -> Outcome {
    if !ctx.db.is_empty() {
        return Outcome::Reply(Frame::error(
            "ERR DB must be empty to perform CLUSTER FLUSHSLOTS.",
        ));
    }
    let me = ctx.core.id();
    let mine = ctx.core.node(&me).map(|n| n.slots.iter().collect());
    Outcome::Cluster(ClusterCommand::DelSlots(mine.unwrap_or_default()))
}

/// `CLUSTER SETSLOT <slot> IMPORTING|MIGRATING|NODE <id>|STABLE`: the
/// arguments are checked here, in Redis's order, and the rest of the checks
/// and the change are the core's (`Core::cmd_set_slot`). Mirrors the
/// `setslot` branch of `clusterCommand`.
pub(super) fn setslot(ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    if !ctx.core.is_master() {
        return Outcome::Reply(Frame::error("ERR Please use SETSLOT only with masters."));
    }
    let slot = match args::slot(&args[1]) {
        Ok(slot) => slot,
        Err(e) => return Outcome::Reply(e),
    };
    let word = &args[2];
    let id = || args::text(&args[3]);
    let action = match (word.to_ascii_lowercase().as_slice(), args.len()) {
        (b"migrating", 4) => SetSlot::Migrating(id()),
        (b"importing", 4) => SetSlot::Importing(id()),
        (b"node", 4) => SetSlot::Node(id()),
        (b"stable", 3) => SetSlot::Stable,
        _ => {
            return Outcome::Reply(Frame::error(
                "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP",
            ))
        }
    };
    Outcome::Cluster(ClusterCommand::SetSlot {
        slot,
        action,
        keys_in_slot: ctx.db.count_in_slot(slot) as u64,
        entropy: ctx.entropy,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::Fixture;
    use crate::commands::Outcome;
    use crate::core::ClusterCommand;
    use crate::resp::Frame;

    fn err(text: &str) -> Frame {
        Frame::error(text)
    }

    #[test]
    fn slot_lists_become_core_commands() {
        let mut t = Fixture::new();
        assert_eq!(
            t.run(&["ADDSLOTS", "3", "1"]),
            Outcome::Cluster(ClusterCommand::AddSlots(vec![3, 1]))
        );
        assert_eq!(
            t.run(&["addslotsrange", "0", "2", "5", "5"]),
            Outcome::Cluster(ClusterCommand::AddSlots(vec![0, 1, 2, 5]))
        );
        assert_eq!(t.reply(&["ADDSLOTSRANGE", "0", "16383"]), Frame::ok());
        assert_eq!(t.core.info().slots_assigned, 16384);
        assert_eq!(t.reply(&["DELSLOTSRANGE", "10", "19"]), Frame::ok());
        assert_eq!(t.reply(&["DELSLOTS", "0"]), Frame::ok());
        assert_eq!(t.core.info().slots_assigned, 16384 - 11);
        assert_eq!(t.reply(&["FLUSHSLOTS"]), Frame::ok());
        assert_eq!(t.core.info().slots_assigned, 0);
    }

    #[test]
    fn slot_errors_come_in_redis_order() {
        let mut t = Fixture::new();
        t.reply(&["ADDSLOTS", "2"]);
        let cases = [
            (&["ADDSLOTS", "x"][..], "ERR Invalid or out of range slot"),
            (&["ADDSLOTS", "16384"], "ERR Invalid or out of range slot"),
            (&["ADDSLOTS", "05"], "ERR Invalid or out of range slot"),
            // Every argument is parsed before any is checked.
            (&["ADDSLOTS", "2", "x"], "ERR Invalid or out of range slot"),
            (&["ADDSLOTS", "2"], "ERR Slot 2 is already busy"),
            (
                &["ADDSLOTS", "1", "1", "2"],
                "ERR Slot 1 specified multiple times",
            ),
            (&["ADDSLOTS", "1", "2", "1"], "ERR Slot 2 is already busy"),
            (&["DELSLOTS", "1"], "ERR Slot 1 is already unassigned"),
            (
                &["DELSLOTS", "2", "2"],
                "ERR Slot 2 specified multiple times",
            ),
            (
                &["ADDSLOTSRANGE", "5", "2"],
                "ERR start slot number 5 is greater than end slot number 2",
            ),
            (
                &["ADDSLOTSRANGE", "0", "10", "5", "20"],
                "ERR Slot 2 is already busy",
            ),
            (
                &["ADDSLOTSRANGE", "3", "10", "5", "20"],
                "ERR Slot 5 specified multiple times",
            ),
            (
                &["DELSLOTSRANGE", "5", "x"],
                "ERR Invalid or out of range slot",
            ),
            (
                &["ADDSLOTSRANGE", "1", "2", "3"],
                "ERR wrong number of arguments for 'cluster|addslotsrange' command",
            ),
            (
                &["DELSLOTSRANGE", "1", "2", "3"],
                "ERR wrong number of arguments for 'cluster|delslotsrange' command",
            ),
        ];
        for (words, text) in cases {
            assert_eq!(t.reply(words), err(text), "{words:?}");
        }
        t.set_key("foo");
        assert_eq!(
            t.reply(&["FLUSHSLOTS"]),
            err("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.")
        );
    }

    #[test]
    fn setslot_checks_arguments_in_redis_order() {
        let mut t = Fixture::new();
        t.reply(&["ADDSLOTS", "1"]);
        let invalid =
            err("ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP");
        assert_eq!(
            t.reply(&["SETSLOT", "x", "y"]),
            err("ERR Invalid or out of range slot")
        );
        assert_eq!(t.reply(&["SETSLOT", "1", "y"]), invalid);
        assert_eq!(t.reply(&["SETSLOT", "1", "stable", "x"]), invalid);
        assert_eq!(t.reply(&["SETSLOT", "1", "node"]), invalid);
        let cases = [
            (
                &["SETSLOT", "2", "MIGRATING", "x"][..],
                "ERR I'm not the owner of hash slot 2",
            ),
            (
                &["SETSLOT", "1", "migrating", "x"],
                "ERR I don't know about node x",
            ),
            (
                &["SETSLOT", "1", "importing", "x"],
                "ERR I'm already the owner of hash slot 1",
            ),
            (
                &["SETSLOT", "2", "importing", "x"],
                "ERR I don't know about node x",
            ),
            (&["SETSLOT", "2", "Node", "x"], "ERR Unknown node x"),
        ];
        for (words, text) in cases {
            assert_eq!(t.reply(words), err(text), "{words:?}");
        }
        assert_eq!(t.reply(&["SETSLOT", "1", "stable"]), Frame::ok());
        let me = "a".repeat(40);
        t.set_key("b"); // slot 3300
        assert_eq!(t.reply(&["ADDSLOTS", "3300"]), Frame::ok());
        assert_eq!(t.reply(&["SETSLOT", "3300", "node", &me]), Frame::ok());
    }
}
