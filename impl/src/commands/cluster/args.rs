//! Reading CLUSTER arguments the way Redis 7.0 reads them, and the error
//! replies it gives when they are wrong. Shared by every subcommand group.

use crate::codec::{NodeName, NODE_NAME_LEN};
use crate::commands::server::not_an_integer;
use crate::core::CLUSTER_SLOTS;
use crate::resp::{string2ll, Frame};

pub(super) use crate::commands::server::syntax_error;
pub(super) use crate::commands::{arity_error, unknown_subcommand};

/// Redis prints at most this many bytes of a subcommand name in an error
/// (`%.128s`).
const MAX_NAME_IN_ERROR: usize = 128;

/// An argument as text for an error message (Redis prints the raw bytes).
pub(super) fn text(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

/// An integer argument, or Redis's generic error for one that is not.
/// Mirrors `getLongLongFromObjectOrReply` with no custom message.
pub(super) fn integer(arg: &[u8]) -> Result<i64, Frame> {
    string2ll(arg).ok_or_else(not_an_integer)
}

/// A slot number in 0..16384. Mirrors `getSlotOrReply`.
pub(super) fn slot(arg: &[u8]) -> Result<u16, Frame> {
    string2ll(arg)
        .filter(|s| (0..CLUSTER_SLOTS as i64).contains(s))
        .map(|s| s as u16)
        .ok_or_else(|| Frame::error("ERR Invalid or out of range slot"))
}

/// A node id as `clusterLookupNode` accepts it: 40 characters, each a
/// lowercase letter or a digit. Mirrors `verifyClusterNodeId`; anything
/// else can name no node.
pub(super) fn node_id(arg: &[u8]) -> Option<NodeName> {
    let valid = arg.len() == NODE_NAME_LEN
        && arg
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !valid {
        return None;
    }
    let mut name = [0u8; NODE_NAME_LEN];
    name.copy_from_slice(arg);
    Some(name)
}

/// `ERR Unknown node <arg>`, as the lookups of FORGET, REPLICATE, REPLICAS
/// and COUNT-FAILURE-REPORTS reply.
pub(super) fn unknown_node(arg: &[u8]) -> Frame {
    Frame::error(format!("ERR Unknown node {}", text(arg)))
}

/// A node id that names a node, or the `Unknown node` error: the id must
/// be well formed, and known when `known` says so.
pub(super) fn known_node_id(
    arg: &[u8],
    known: impl Fn(&NodeName) -> bool,
) -> Result<NodeName, Frame> {
    node_id(arg)
        .filter(|id| known(id))
        .ok_or_else(|| unknown_node(arg))
}

/// The error for a known subcommand whose arguments match no form of it.
/// Mirrors `addReplySubcommandSyntaxError` (the name as the client sent it).
pub(super) fn subcommand_syntax_error(sub: &[u8]) -> Frame {
    Frame::error(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLUSTER HELP.",
        text(truncated(sub))
    ))
}

fn truncated(name: &[u8]) -> &[u8] {
    &name[..name.len().min(MAX_NAME_IN_ERROR)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_must_be_in_range() {
        assert_eq!(slot(b"0"), Ok(0));
        assert_eq!(slot(b"16383"), Ok(16383));
        let err = Err(Frame::error("ERR Invalid or out of range slot"));
        assert_eq!(slot(b"16384"), err);
        assert_eq!(slot(b"-1"), err);
        assert_eq!(slot(b"x"), err);
        assert_eq!(slot(b"05"), err);
        assert_eq!(slot(b"+5"), err);
    }

    #[test]
    fn node_ids_are_forty_lowercase_letters_or_digits() {
        let id = [b'a'; 40];
        assert_eq!(node_id(&id), Some(id));
        assert_eq!(node_id(&[b'a'; 39]), None);
        assert_eq!(node_id(&[b'A'; 40]), None);
        assert_eq!(node_id(&[b'-'; 40]), None);
        assert_eq!(
            known_node_id(b"abc", |_| true),
            Err(Frame::error("ERR Unknown node abc"))
        );
        assert_eq!(
            known_node_id(&id, |_| false),
            Err(Frame::error(format!("ERR Unknown node {}", "a".repeat(40))))
        );
    }

    #[test]
    fn subcommand_names_in_errors_are_cut_at_128_bytes() {
        let long = vec![b'x'; 200];
        let Frame::Error(e) = subcommand_syntax_error(&long) else {
            panic!("an error frame");
        };
        let x = "x".repeat(128);
        assert_eq!(
            e,
            format!(
                "ERR unknown subcommand or wrong number of arguments for '{x}'. Try CLUSTER HELP."
            )
        );
    }
}
