//! Which of a link's messages in flight the wire has shown.
//!
//! The model has one FIFO queue per directed link; the wire has two TCP
//! connections per pair of nodes. A node writes its PONG replies on the
//! connection the PING came in on (opened by the peer) and everything else
//! on the connection it opened itself, and the two are flushed
//! independently: a PONG built before a FAIL can reach the wire after it.
//! So the frames of one model link show in the order of two interleaved
//! streams, not of one queue, and what has been shown is a set of queue
//! positions, not a prefix. Delivery stays FIFO: only a shown head may be
//! delivered.

use clusterbus_model::network::MAX_IN_FLIGHT;
use clusterbus_model::{Body, Msg};

/// The shown positions of one link's queue (bit `i`: the `i`-th oldest);
/// the PONGs whose gossip a PING behind them stands for (`search`'s
/// `convey`), and those PINGs, which are read with their PONG.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Shown {
    shown: u16,
    with_gossip: u16,
    conveyed: u16,
}

const _: () = assert!(MAX_IN_FLIGHT <= 16, "a link's positions fit in a u16");

/// The connection a frame travelled on, as the sender's stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// The connection the sender opened: its PINGs, MEETs, FAILs,
    /// UPDATEs, AUTH messages and broadcast PONGs.
    Own,
    /// The connection the receiver opened: PONG replies to its PINGs.
    Reply,
}

impl Stream {
    /// The stream a model message's frame travels on.
    fn of(m: &Msg) -> Stream {
        match m.body {
            Body::Pong { reply: true, .. } => Stream::Reply,
            _ => Stream::Own,
        }
    }
}

fn full(len: usize) -> u16 {
    ((1u32 << len) - 1) as u16
}

/// Bits below `i` stay, the ones above move down one.
fn without(bits: u16, i: usize) -> u16 {
    (bits & full(i)) | ((bits >> 1) & !full(i))
}

impl Shown {
    pub fn is_shown(self, i: usize) -> bool {
        self.shown & (1 << i) != 0
    }

    /// Whether the oldest message has been shown (it may be delivered).
    pub fn head_shown(self) -> bool {
        self.is_shown(0)
    }

    /// How many positions are shown.
    pub fn count(self) -> u32 {
        self.shown.count_ones()
    }

    /// Whether every one of `len` messages has been shown.
    pub fn all(self, len: usize) -> bool {
        self.shown == full(len)
    }

    /// The number shown when they are exactly the oldest ones.
    pub fn prefix(self) -> Option<usize> {
        let k = self.shown.trailing_ones() as usize;
        (self.shown == full(k)).then_some(k)
    }

    /// The head was delivered: every position moves up one. With the
    /// position (after the move) of the PING that carries its gossip, if
    /// it has one: the oldest conveyed, since PONGs show in order and each
    /// conveys at most one.
    pub fn delivered(self) -> Option<(Shown, Option<usize>)> {
        if !self.head_shown() {
            return None;
        }
        let rest = self.removed(0);
        let gossip = (self.with_gossip & 1 != 0 && rest.conveyed != 0)
            .then(|| rest.conveyed.trailing_zeros() as usize);
        Some((rest, gossip))
    }

    /// Forgets positions beyond a queue now `len` long. Every model step
    /// that removes messages other than the head removes the newest (a
    /// link break empties the queue; FAIL undo takes the PONG it just
    /// queued), so the older positions keep their meaning.
    pub fn clamp(self, len: usize) -> Shown {
        Shown {
            shown: self.shown & full(len),
            with_gossip: self.with_gossip & full(len),
            conveyed: self.conveyed & full(len),
        }
    }

    /// Position `i` was delivered: the ones behind it move up one.
    pub fn removed(self, i: usize) -> Shown {
        Shown {
            shown: without(self.shown, i),
            with_gossip: without(self.with_gossip, i),
            conveyed: without(self.conveyed, i),
        }
    }

    /// Position `i` shows.
    pub fn show(self, i: usize) -> Shown {
        Shown {
            shown: self.shown | 1 << i,
            ..self
        }
    }

    /// The PING at `ping` carries the gossip of the PONG at `pong`.
    pub fn conveyed(self, pong: usize, ping: usize) -> Shown {
        Shown {
            with_gossip: self.with_gossip | 1 << pong,
            conveyed: self.conveyed | 1 << ping,
            ..self
        }
    }

    /// The position a frame of `stream` showing `is_it` takes in `queue`:
    /// the oldest unshown message it matches, if every unshown one before
    /// it may still be on its way on the other stream.
    pub fn next_for(
        self,
        queue: &[Msg],
        stream: Stream,
        is_it: impl Fn(&Msg) -> bool,
    ) -> Option<usize> {
        for (i, m) in queue.iter().enumerate() {
            if self.is_shown(i) {
                continue;
            }
            if is_it(m) {
                return Some(i);
            }
            if Stream::of(m) == stream {
                return None;
            }
        }
        None
    }

    /// Whether a new message of `stream` may follow everything unshown in
    /// `queue` (each may still be on its way on the other stream).
    pub fn may_follow(self, queue: &[Msg], stream: Stream) -> bool {
        queue
            .iter()
            .enumerate()
            .all(|(i, m)| self.is_shown(i) || Stream::of(m) != stream)
    }

    /// The oldest unshown position.
    pub fn first_unshown(self) -> usize {
        self.shown.trailing_ones() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clusterbus_model::{GossipList, Header, ShardSet};

    fn msg(body: Body) -> Msg {
        Msg {
            header: Header {
                sender: 2,
                current_epoch: 3,
                config_epoch: 3,
                master: None,
                shards: ShardSet::single(2),
            },
            body,
        }
    }

    #[test]
    fn a_reply_may_pass_own_messages_and_not_another_reply() {
        let pong = msg(Body::Pong {
            gossip: GossipList::new(),
            reply: true,
        });
        let fail = msg(Body::Fail { about: 0 });
        let q = [pong, fail];
        let s = Shown::default();
        // The FAIL shows first on the sender's own connection...
        let i = s.next_for(&q, Stream::Own, |m| *m == fail);
        assert_eq!(i, Some(1));
        let s = s.show(1);
        assert!(!s.head_shown(), "the PONG ahead is not delivered unshown");
        // ... then the PONG on the connection its PING came in on.
        assert_eq!(s.next_for(&q, Stream::Reply, |m| *m == pong), Some(0));
        let s = s.show(0);
        assert!(s.all(2));
        assert_eq!(s.delivered().map(|(s, _)| s.prefix()), Some(Some(1)));
        // A reply never passes another reply, nor an own frame an own message.
        let q2 = [pong, pong];
        assert_eq!(
            Shown::default().next_for(&q2, Stream::Reply, |_| false),
            None
        );
        let q3 = [fail, pong];
        assert_eq!(
            Shown::default().next_for(&q3, Stream::Own, |m| *m == pong),
            None
        );
        assert!(Shown::default().may_follow(&[pong], Stream::Own));
        assert!(!Shown::default().may_follow(&[fail], Stream::Own));
    }

    #[test]
    fn a_pongs_gossip_is_read_with_it() {
        // [PONG with gossip, FAIL, PING standing for the gossip]
        let s = Shown::default().show(0).show(1).show(2).conveyed(0, 2);
        let (rest, at) = s.delivered().expect("the head was shown");
        assert_eq!(at, Some(1), "the PING, now behind the FAIL");
        assert_eq!(rest.removed(1), Shown::default().show(0));
        // A PONG without conveyed gossip delivers alone.
        let s = Shown::default().show(0).show(1).conveyed(1, 2);
        assert_eq!(s.delivered().map(|(_, at)| at), Some(None));
        assert_eq!(Shown::default().delivered(), None);
    }

    #[test]
    fn clamp_keeps_the_older_positions() {
        let s = Shown::default().show(0).show(2);
        assert_eq!(s.clamp(2), Shown::default().show(0));
        assert_eq!(s.prefix(), None);
        assert_eq!(s.first_unshown(), 1);
        assert_eq!(s.count(), 2);
    }
}
