//! The CLUSTER subcommands of the client port. Mirrors `clusterCommand` in
//! Redis 7.0's `src/cluster.c`, with the arity checks `processCommand`
//! makes from the command table (`src/commands/cluster-*.json`).
//!
//! [`execute`] finds the subcommand, checks its arity, and hands the words
//! to one handler. Subcommands that only read state answer at once
//! ([`nodes`], [`info`], [`slots`], `keys`); those that change protocol
//! state parse their arguments into a [`crate::core::ClusterCommand`]
//! (`admin`, `slot_admin`), which the runtime gives to the core: the
//! core's reply is the client's. Argument errors are answered here, with
//! Redis's texts.
//!
//! Not supported yet (clear errors, not silent no-ops): slot migration
//! (`SETSLOT ... IMPORTING|MIGRATING|NODE|STABLE`) and `LINKS`.

mod admin;
mod args;
mod help;
pub mod info;
mod keys;
pub mod nodes;
mod slot_admin;
pub mod slots;

use super::{Context, Outcome};

/// A handler: the context and every word after `CLUSTER` (the subcommand
/// name first).
type Handler = fn(&mut Context, &[Vec<u8>]) -> Outcome;

/// One row of the subcommand table.
struct Subcommand {
    /// Lowercase name, as in Redis's full name `cluster|<name>`.
    name: &'static str,
    /// Redis's arity, counting `CLUSTER` itself: `n` exactly `n` words,
    /// `-n` at least `n`.
    arity: i32,
    run: Handler,
}

/// Every subcommand, with the arity of its `cluster-<name>.json`.
const SUBCOMMANDS: &[Subcommand] = &[
    sub("addslots", -3, slot_admin::addslots),
    sub("addslotsrange", -4, slot_admin::addslotsrange),
    sub("bumpepoch", 2, admin::bumpepoch),
    sub("count-failure-reports", 3, admin::count_failure_reports),
    sub("countkeysinslot", 3, keys::countkeysinslot),
    sub("delslots", -3, slot_admin::delslots),
    sub("delslotsrange", -4, slot_admin::delslotsrange),
    sub("failover", -2, admin::failover),
    sub("flushslots", 2, slot_admin::flushslots),
    sub("forget", 3, admin::forget),
    sub("getkeysinslot", 4, keys::getkeysinslot),
    sub("help", 2, help::help),
    sub("info", 2, info::info),
    sub("keyslot", 3, keys::keyslot),
    sub("links", 2, admin::links),
    sub("meet", -4, admin::meet),
    sub("myid", 2, nodes::myid),
    sub("nodes", 2, nodes::nodes),
    sub("replicas", 3, nodes::replicas),
    sub("replicate", 3, admin::replicate),
    sub("reset", -2, admin::reset),
    sub("saveconfig", 2, admin::saveconfig),
    sub("set-config-epoch", 3, admin::set_config_epoch),
    sub("setslot", -4, slot_admin::setslot),
    sub("shards", 2, slots::shards),
    sub("slaves", 3, nodes::replicas),
    sub("slots", 2, slots::slots),
];

const fn sub(name: &'static str, arity: i32, run: Handler) -> Subcommand {
    Subcommand { name, arity, run }
}

/// Runs `CLUSTER <args...>`; `args` are the words after `CLUSTER`. This is
/// what the command dispatcher calls. Mirrors `processCommand`'s lookup and
/// arity check of a subcommand, then `clusterCommand`.
pub fn execute(ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    let Some(name) = args.first() else {
        return Outcome::Reply(args::arity_error("cluster"));
    };
    let Some(sub) = SUBCOMMANDS
        .iter()
        .find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
    else {
        return Outcome::Reply(args::unknown_subcommand(b"CLUSTER", name));
    };
    if !arity_ok(sub.arity, args.len() + 1) {
        return Outcome::Reply(args::arity_error(&format!("cluster|{}", sub.name)));
    }
    (sub.run)(ctx, args)
}

/// Whether `words` (counting `CLUSTER`) fits `arity`. Mirrors the check
/// `processCommand` makes with `cmd->arity`.
fn arity_ok(arity: i32, words: usize) -> bool {
    let need = arity.unsigned_abs() as usize;
    if arity < 0 {
        words >= need
    } else {
        words == need
    }
}

/// The outcome of a parsed state change: hand it to the core, or reply
/// with the argument error.
fn to_core(parsed: Result<crate::core::ClusterCommand, crate::resp::Frame>) -> Outcome {
    match parsed {
        Ok(cmd) => Outcome::Cluster(cmd),
        Err(reply) => Outcome::Reply(reply),
    }
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use crate::resp::Frame;

    #[test]
    fn unknown_and_missing_subcommands() {
        let mut t = Fixture::new();
        assert_eq!(
            t.reply(&[]),
            Frame::error("ERR wrong number of arguments for 'cluster' command")
        );
        assert_eq!(
            t.reply(&["FooBar"]),
            Frame::error("ERR unknown subcommand 'FooBar'. Try CLUSTER HELP.")
        );
    }

    #[test]
    fn arity_is_checked_with_the_full_name() {
        let mut t = Fixture::new();
        for (words, name) in [
            (&["meet"][..], "meet"),
            (&["MEET", "1.2.3.4"], "meet"),
            (&["nodes", "x"], "nodes"),
            (&["addslots"], "addslots"),
            (&["addslotsrange", "1"], "addslotsrange"),
            (&["help", "x"], "help"),
            (&["setslot", "1"], "setslot"),
            (&["slaves"], "slaves"),
            (&["getkeysinslot", "1"], "getkeysinslot"),
        ] {
            assert_eq!(
                t.reply(words),
                Frame::error(format!(
                    "ERR wrong number of arguments for 'cluster|{name}' command"
                )),
                "{words:?}"
            );
        }
    }

    #[test]
    fn subcommand_names_match_in_any_case() {
        let mut t = Fixture::new();
        assert_eq!(t.reply(&["MyId"]), Frame::bulk(t.core.id().to_vec()));
    }
}
