//! CLUSTER HELP: one status line per usage and per description, framed by
//! the header and footer every Redis HELP reply has (`addReplyHelp`).

use crate::commands::{Context, Outcome};
use crate::resp::Frame;

/// Usage, then what it does, for each subcommand this node knows.
const USAGE: &[(&str, &str)] = &[
    ("ADDSLOTS <slot> [<slot> ...]", "Give these unassigned slots to this node."),
    (
        "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
        "Give these unassigned slot ranges (inclusive) to this node.",
    ),
    ("BUMPEPOCH", "Take a new config epoch unless mine is already the largest."),
    ("COUNT-FAILURE-REPORTS <node-id>", "Number of valid failure reports about <node-id>."),
    ("COUNTKEYSINSLOT <slot>", "Number of keys this node holds in <slot>."),
    ("DELSLOTS <slot> [<slot> ...]", "Make these slots unassigned in this node's view."),
    (
        "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
        "Make these slot ranges (inclusive) unassigned in this node's view.",
    ),
    ("FAILOVER [FORCE|TAKEOVER]", "Make this replica take its master's place."),
    ("FORGET <node-id>", "Drop <node-id> from the node table for a minute."),
    ("GETKEYSINSLOT <slot> <count>", "Up to <count> names of keys in <slot>."),
    ("FLUSHSLOTS", "Unassign every slot of this node (its data set must be empty)."),
    ("INFO", "The cluster's state, sizes, epochs and bus message counts."),
    ("KEYSLOT <key>", "The hash slot of <key>."),
    ("MEET <ip> <port> [<bus-port>]", "Start a handshake with the node at that address."),
    ("MYID", "This node's id."),
    (
        "NODES",
        "The node table, one line a node:\n<id> <ip:port@cport> <flags> <master> <ping-sent> <pong-recv> <epoch> <link> <slot> ...",
    ),
    ("REPLICATE <node-id>", "Become a replica of the master <node-id>."),
    ("RESET [HARD|SOFT]", "Forget every other node and every slot (default: soft)."),
    ("SET-CONFIG-EPOCH <epoch>", "Set the config epoch of a node that knows no other."),
    (
        "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
        "Slot migration: not supported by this node yet.",
    ),
    ("REPLICAS <node-id>", "The NODES lines of the replicas of <node-id>."),
    ("SAVECONFIG", "Save nodes.conf (it is saved after every change anyway)."),
    ("SLOTS", "Slot ranges with the address and id of their master and replicas."),
    ("SHARDS", "Each master's slot ranges, with details of its nodes."),
];

/// CLUSTER HELP. Mirrors `addReplyHelp` as the `help` branch of
/// `clusterCommand` calls it (descriptions indented by four spaces, one
/// line each).
pub(super) fn help(_ctx: &mut Context, _args: &[Vec<u8>]) -> Outcome {
    let status = |s: &str| Frame::Simple(s.to_string());
    let mut lines = vec![status(
        "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    )];
    for (usage, what) in USAGE {
        lines.push(status(usage));
        lines.extend(what.lines().map(|l| status(&format!("    {l}"))));
    }
    lines.push(status("HELP"));
    lines.push(status("    Prints this help."));
    Outcome::Reply(Frame::Array(lines))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::Fixture;
    use crate::resp::Frame;

    #[test]
    fn help_is_an_array_of_status_lines_with_redis_header_and_footer() {
        let mut t = Fixture::new();
        let Frame::Array(lines) = t.reply(&["HELP"]) else {
            panic!("an array");
        };
        assert!(lines.iter().all(|l| matches!(l, Frame::Simple(_))));
        assert_eq!(
            lines[0],
            Frame::Simple(
                "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into()
            )
        );
        assert_eq!(
            lines[lines.len() - 2..],
            [
                Frame::Simple("HELP".into()),
                Frame::Simple("    Prints this help.".into())
            ]
        );
        assert!(lines.contains(&Frame::Simple("MEET <ip> <port> [<bus-port>]".into())));
    }
}
