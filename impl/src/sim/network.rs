//! The simulated network: TCP-like connections (FIFO per direction) between
//! nodes, and the faults a test can inject on them.

use std::collections::{BTreeMap, BTreeSet};

use crate::codec::{MessageType, NodeName};

/// One connection, opened by `from` for its table entry `key`, accepted by `to`.
#[derive(Clone, Debug)]
pub struct Conn {
    /// The connecting node.
    pub from: usize,
    /// The connector's name for the peer (its table key).
    pub key: NodeName,
    /// The accepting node.
    pub to: usize,
    /// Delivery time of the last message queued towards the acceptor / the
    /// connector, so that later messages never overtake it.
    pub last_to_acceptor_ms: u64,
    pub last_to_connector_ms: u64,
}

/// Faults on directed node pairs.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Pairs whose messages and connects are lost.
    pub blocked: BTreeSet<(usize, usize)>,
    /// Pairs that lose this fraction of their messages.
    pub drop: BTreeMap<(usize, usize), f64>,
    /// Pairs with extra latency, ms.
    pub delay: BTreeMap<(usize, usize), u64>,
    /// Message types lost everywhere.
    pub ignored: BTreeSet<MessageType>,
}

impl Faults {
    /// Whether `from -> to` is cut.
    pub fn is_blocked(&self, from: usize, to: usize) -> bool {
        self.blocked.contains(&(from, to))
    }
    /// Blocks both directions between `a` and `b`.
    pub fn cut(&mut self, a: usize, b: usize) {
        self.blocked.insert((a, b));
        self.blocked.insert((b, a));
    }
}

/// Connections by id, with lookups by the connector's key.
#[derive(Clone, Debug, Default)]
pub struct Connections {
    by_id: BTreeMap<u64, Conn>,
    by_key: BTreeMap<(usize, NodeName), u64>,
    next_id: u64,
}

impl Connections {
    /// Opens a connection and returns its id.
    pub fn open(&mut self, from: usize, key: NodeName, to: usize) -> u64 {
        self.next_id += 1;
        let c = Conn {
            from,
            key,
            to,
            last_to_acceptor_ms: 0,
            last_to_connector_ms: 0,
        };
        self.by_id.insert(self.next_id, c);
        self.by_key.insert((from, key), self.next_id);
        self.next_id
    }
    /// The connection `from` opened for `key`.
    pub fn outbound(&self, from: usize, key: &NodeName) -> Option<u64> {
        self.by_key.get(&(from, *key)).copied()
    }
    /// A connection by id.
    pub fn get(&self, id: u64) -> Option<&Conn> {
        self.by_id.get(&id)
    }
    /// A connection by id, mutable (its key changes only through `rename`).
    pub fn get_mut(&mut self, id: u64) -> Option<&mut Conn> {
        self.by_id.get_mut(&id)
    }
    /// Whether the connection is open.
    pub fn contains(&self, id: u64) -> bool {
        self.by_id.contains_key(&id)
    }
    /// Closes a connection and returns it.
    pub fn remove(&mut self, id: u64) -> Option<Conn> {
        let c = self.by_id.remove(&id)?;
        if self.by_key.get(&(c.from, c.key)) == Some(&id) {
            self.by_key.remove(&(c.from, c.key));
        }
        Some(c)
    }
    /// Re-keys `from`'s connection `old` as `new` (a handshake completed).
    pub fn rename(&mut self, from: usize, old: &NodeName, new: &NodeName) {
        let Some(id) = self.by_key.remove(&(from, *old)) else {
            return;
        };
        if let Some(c) = self.by_id.get_mut(&id) {
            c.key = *new;
        }
        self.by_key.insert((from, *new), id);
    }
    /// Every connection touching `node`.
    pub fn touching(&self, node: usize) -> Vec<u64> {
        self.by_id
            .iter()
            .filter(|(_, c)| c.from == node || c.to == node)
            .map(|(id, _)| *id)
            .collect()
    }
}
