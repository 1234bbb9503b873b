//! The messages in flight: one FIFO queue per directed link, kept as a
//! single fixed-capacity list ordered by link. A state then holds only the
//! messages that exist (most links are empty most of the time), equal
//! networks are equal lists, and a link's queue is a contiguous slice.

use crate::message::{Msg, NodeIx, MAX_NODES};
use serde::Serialize;
use tinyvec::ArrayVec;

/// Messages that may be in flight at once. A configuration's bounds must keep
/// every state it explores within this (`ModelCfg::validate` checks).
pub const MAX_IN_FLIGHT: usize = 12;

/// Every link's queue. Messages are ordered by `(from, to)`, and in sending
/// order within one link.
/// Hashed packed (see `packing`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Network {
    /// `links[k]` is the link (`from * MAX_NODES + to`) of `msgs[k]`.
    links: ArrayVec<[u8; MAX_IN_FLIGHT]>,
    msgs: ArrayVec<[Msg; MAX_IN_FLIGHT]>,
    /// A send found the list full: the state is beyond every configuration's
    /// bounds, and the checker does not explore it.
    overflowed: bool,
}

fn link_key(from: NodeIx, to: NodeIx) -> u8 {
    from * MAX_NODES as u8 + to
}

impl Network {
    /// The positions of link `from → to`'s queue in the list.
    fn range(&self, from: NodeIx, to: NodeIx) -> std::ops::Range<usize> {
        let key = link_key(from, to);
        let start = self.links.partition_point(|&k| k < key);
        let end = start + self.links[start..].partition_point(|&k| k == key);
        start..end
    }

    /// What is in flight from `from` to `to`, oldest first.
    pub fn link(&self, from: NodeIx, to: NodeIx) -> &[Msg] {
        &self.msgs[self.range(from, to)]
    }

    /// Queue `msg` at the end of `from → to`.
    pub fn push(&mut self, from: NodeIx, to: NodeIx, msg: Msg) {
        if self.msgs.len() == MAX_IN_FLIGHT {
            self.overflowed = true;
            return;
        }
        let at = self.range(from, to).end;
        self.links.insert(at, link_key(from, to));
        self.msgs.insert(at, msg);
    }

    /// Take the oldest message of `from → to`.
    pub fn pop_front(&mut self, from: NodeIx, to: NodeIx) -> Option<Msg> {
        let r = self.range(from, to);
        if r.is_empty() {
            return None;
        }
        self.links.remove(r.start);
        Some(self.msgs.remove(r.start))
    }

    /// Take the `k`-th message (oldest is 0) of `from → to` out of its queue.
    pub fn take(&mut self, from: NodeIx, to: NodeIx, k: usize) -> Option<Msg> {
        let r = self.range(from, to);
        if k >= r.len() {
            return None;
        }
        self.links.remove(r.start + k);
        Some(self.msgs.remove(r.start + k))
    }

    /// Lose everything in flight on `from → to`.
    pub fn clear(&mut self, from: NodeIx, to: NodeIx) {
        let r = self.range(from, to);
        self.links.drain(r.clone());
        self.msgs.drain(r);
    }

    /// Lose everything in flight to or from `node`.
    pub fn clear_node(&mut self, node: NodeIx) {
        let touches = |k: u8| k / MAX_NODES as u8 == node || k % MAX_NODES as u8 == node;
        let mut k = 0;
        while k < self.links.len() {
            if touches(self.links[k]) {
                self.links.remove(k);
                self.msgs.remove(k);
            } else {
                k += 1;
            }
        }
    }

    /// Messages in flight on all links.
    pub fn len(&self) -> usize {
        self.msgs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.msgs.is_empty()
    }

    /// The longest queue of any one link.
    pub fn longest_queue(&self) -> usize {
        let mut longest = 0;
        let mut run = 0;
        for (k, key) in self.links.iter().enumerate() {
            run = if k > 0 && self.links[k - 1] == *key {
                run + 1
            } else {
                1
            };
            longest = longest.max(run);
        }
        longest
    }

    /// A send was refused for want of room (the state is out of bounds).
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Every message in flight with its link, ordered by link.
    pub fn iter(&self) -> impl Iterator<Item = (NodeIx, NodeIx, &Msg)> {
        self.links
            .iter()
            .zip(self.msgs.iter())
            .map(|(&k, m)| (k / MAX_NODES as u8, k % MAX_NODES as u8, m))
    }

    /// The network with every node index mapped through `perm` (for symmetry).
    pub fn permuted(&self, perm: &[NodeIx], msg: impl Fn(&Msg) -> Msg) -> Network {
        let mut out = Network {
            overflowed: self.overflowed,
            ..Network::default()
        };
        for (from, to, m) in self.iter() {
            out.push(perm[from as usize], perm[to as usize], msg(m));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Body, Header};

    fn msg(sender: NodeIx, current_epoch: u8) -> Msg {
        Msg {
            header: Header {
                sender,
                current_epoch,
                ..Header::default()
            },
            body: Body::AuthAck,
        }
    }

    #[test]
    fn links_are_fifo_and_independent() {
        let mut net = Network::default();
        net.push(1, 0, msg(1, 1));
        net.push(0, 1, msg(0, 1));
        net.push(1, 0, msg(1, 2));
        net.push(0, 2, msg(0, 3));
        assert_eq!(net.link(1, 0), &[msg(1, 1), msg(1, 2)]);
        assert_eq!(net.longest_queue(), 2);
        assert_eq!(net.pop_front(1, 0), Some(msg(1, 1)));
        assert_eq!(net.link(0, 1), &[msg(0, 1)]);
        net.clear(0, 1);
        assert_eq!(net.link(0, 1), &[] as &[Msg]);
        net.push(1, 0, msg(1, 3));
        assert_eq!(net.take(1, 0, 2), None);
        assert_eq!(net.take(1, 0, 0), Some(msg(1, 2)));
        assert_eq!(net.take(1, 0, 0), Some(msg(1, 3)));
        net.clear_node(2);
        assert!(net.is_empty());
    }

    #[test]
    fn the_same_messages_make_the_same_network() {
        let (mut a, mut b) = (Network::default(), Network::default());
        a.push(0, 1, msg(0, 1));
        a.push(2, 1, msg(2, 1));
        b.push(2, 1, msg(2, 1));
        b.push(0, 1, msg(0, 1));
        assert_eq!(a, b);
    }

    #[test]
    fn a_full_network_marks_itself() {
        let mut net = Network::default();
        for k in 0..=MAX_IN_FLIGHT {
            net.push(0, 1, msg(0, k as u8));
        }
        assert_eq!(net.len(), MAX_IN_FLIGHT);
        assert!(net.overflowed());
    }
}
