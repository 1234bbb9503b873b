//! The simulator's boundary with the byte world: every message crosses
//! [`over_the_wire`] (encoded to the Redis 7.0 bus format and decoded by the
//! receiver) and every persisted config crosses [`to_disk`] / [`from_disk`]
//! (rendered as nodes.conf text and parsed back), so that simulated runs
//! exercise the same encodings a deployed node uses.

use crate::codec::{decode, encode, Message};
use crate::config::{parse, render, NodesConf};

/// What the receiving node gets for a message the sender emitted: the
/// message encoded to bytes and decoded again, or why the receiver could
/// not read it.
pub fn over_the_wire(msg: &Message) -> Result<Message, String> {
    let bytes = encode(msg);
    decode(&bytes).map_err(|e| {
        let kind = msg.body.message_type();
        format!("a {kind:?} of {} bytes did not decode: {e}", bytes.len())
    })
}

/// What a node's disk holds after a Persist: the nodes.conf text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disk(pub String);

/// Writes a config "to disk" as nodes.conf text.
pub fn to_disk(conf: &NodesConf) -> Disk {
    Disk(render(conf))
}

/// Reads a config back "from disk", parsing the nodes.conf text.
pub fn from_disk(disk: &Disk) -> Result<NodesConf, String> {
    parse(&disk.0).map_err(|e| format!("simulated nodes.conf: {e}"))
}
