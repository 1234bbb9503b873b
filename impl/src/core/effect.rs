//! Outputs of the core: what the runtime must do, in order.
//!
//! The effects of one `handle` call are ordered. A `Persist { fsync: true }`
//! is a barrier: the runtime must finish writing and syncing the config
//! before it carries out any effect after it (a vote, an epoch bump, a won
//! election must be on disk before a message that depends on it leaves).
//! [`split_at_sync`] hands the list out in that shape, so that a
//! runtime written against it cannot send too early.

use crate::codec::{Message, NodeName};
use crate::config::NodesConf;

use super::event::LinkId;

/// A reply to a [`super::ClusterCommand`], in RESP terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`.
    Ok,
    /// A simple string such as `BUMPED 5`.
    Status(String),
    /// An integer reply.
    Integer(i64),
    /// An error, without the leading `-`, e.g. `ERR Unknown node ...`.
    Error(String),
}

/// One thing the runtime must do.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // a Send is the common case; boxing it would cost an allocation each
pub enum Effect {
    /// Send `msg` on `link` (queue it if the link is still connecting).
    Send { link: LinkId, msg: Message },
    /// Open an outbound link for the table entry `node`, at `ip:cport`.
    /// Report the result with `LinkUp`/`LinkDown`.
    Connect {
        node: NodeName,
        ip: String,
        cport: u16,
    },
    /// Close a link.
    Disconnect { link: LinkId },
    /// A handshake node got its real name: the outbound link keyed `from`
    /// is now keyed `to`.
    RenameLink { from: NodeName, to: NodeName },
    /// Write nodes.conf; with `fsync` the runtime must sync it before doing
    /// any later effect of this batch.
    Persist { conf: NodesConf, fsync: bool },
    /// Answer the command being handled.
    Reply(Reply),
    /// A line for the log.
    Log(String),
}

/// Splits the effects of one event at the last durable `Persist`:
/// `(durable, after)`, where `durable` holds every effect up to and including
/// that `Persist`. The runtime must complete `durable` (including its fsync)
/// before it starts `after`. Without a durable `Persist`, `durable` is empty.
pub fn split_at_sync(mut effects: Vec<Effect>) -> (Vec<Effect>, Vec<Effect>) {
    let cut = effects
        .iter()
        .rposition(|e| matches!(e, Effect::Persist { fsync: true, .. }))
        .map(|i| i + 1)
        .unwrap_or(0);
    let after = effects.split_off(cut);
    (effects, after)
}

/// The messages among `effects`, in order, with their links.
pub fn sends(effects: &[Effect]) -> impl Iterator<Item = (&LinkId, &Message)> {
    effects.iter().filter_map(|e| match e {
        Effect::Send { link, msg } => Some((link, msg)),
        _ => None,
    })
}
