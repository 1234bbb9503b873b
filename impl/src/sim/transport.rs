//! Carrying effects over the simulated network: connects, closes, sends
//! (with faults applied and FIFO order kept per direction) and deliveries.

use crate::codec::{Message, NodeName};
use crate::core::{Event, GossipChoice, LinkId};

use super::{wire, Pending, Sim};

impl Sim {
    fn node_at(&self, ip: &str, cport: u16) -> Option<usize> {
        self.nodes
            .iter()
            .position(|n| n.identity.ip == ip && n.identity.cport == cport)
    }

    pub(super) fn connect(&mut self, i: usize, key: NodeName, ip: &str, cport: u16) {
        if let Some(old) = self.conns.outbound(i, &key) {
            self.close_conn(old, true);
        }
        match self.node_at(ip, cport) {
            Some(to) if self.is_up(to) && !self.faults.is_blocked(i, to) => {
                let conn = self.conns.open(i, key, to);
                self.push(self.latency_ms, Pending::LinkUp { node: i, key, conn });
            }
            _ => self.push(self.latency_ms, Pending::LinkDown { node: i, key }),
        }
    }

    /// Closes a connection; the other side learns it after the latency.
    pub(super) fn close_conn(&mut self, id: u64, by_connector: bool) {
        let Some(c) = self.conns.remove(id) else {
            return;
        };
        if by_connector {
            self.push(
                self.latency_ms,
                Pending::InboundClosed {
                    node: c.to,
                    conn: id,
                },
            );
        } else {
            self.push(
                self.latency_ms,
                Pending::LinkDown {
                    node: c.from,
                    key: c.key,
                },
            );
        }
    }

    pub(super) fn disconnect(&mut self, i: usize, link: LinkId) {
        match link {
            LinkId::Outbound(key) => {
                if let Some(id) = self.conns.outbound(i, &key) {
                    self.close_conn(id, true);
                }
            }
            LinkId::Inbound(id) => self.close_conn(id, false),
        }
    }

    pub(super) fn send(&mut self, i: usize, link: LinkId, msg: Message) {
        self.stats.messages_sent += 1;
        *self
            .sent_by_type
            .entry(msg.body.message_type())
            .or_default() += 1;
        let (id, to_acceptor) = match link {
            LinkId::Outbound(key) => match self.conns.outbound(i, &key) {
                Some(id) => (id, true),
                None => {
                    self.stats.messages_dropped += 1;
                    return;
                }
            },
            LinkId::Inbound(id) => (id, false),
        };
        let Some(c) = self.conns.get(id) else {
            self.stats.messages_dropped += 1;
            return;
        };
        let dst = if to_acceptor { c.to } else { c.from };
        let p_drop = self.faults.drop.get(&(i, dst)).copied().unwrap_or(0.0);
        let ignored = self.faults.ignored.contains(&msg.body.message_type());
        if ignored || self.faults.is_blocked(i, dst) || (p_drop > 0.0 && self.rng.chance(p_drop)) {
            self.stats.messages_dropped += 1;
            return;
        }
        let extra = self.faults.delay.get(&(i, dst)).copied().unwrap_or(0);
        let mut at = self.now_ms + self.latency_ms + extra;
        if let Some(c) = self.conns.get_mut(id) {
            let last = if to_acceptor {
                &mut c.last_to_acceptor_ms
            } else {
                &mut c.last_to_connector_ms
            };
            at = at.max(*last);
            *last = at;
        }
        let msg = match wire::over_the_wire(&msg) {
            Ok(m) => Box::new(m),
            Err(e) => {
                self.stats.messages_dropped += 1;
                self.wire_errors
                    .push(format!("t={} node {i}: {e}", self.now_ms));
                return;
            }
        };
        self.push(
            at - self.now_ms,
            Pending::Msg {
                conn: id,
                to_acceptor,
                msg,
            },
        );
    }

    pub(super) fn deliver(&mut self, p: Pending) {
        match p {
            Pending::Msg {
                conn,
                to_acceptor,
                msg,
            } => {
                let Some(c) = self.conns.get(conn) else {
                    self.stats.messages_dropped += 1;
                    return;
                };
                let (dst, src, link) = if to_acceptor {
                    (c.to, c.from, LinkId::Inbound(conn))
                } else {
                    (c.from, c.to, LinkId::Outbound(c.key))
                };
                if self.faults.is_blocked(src, dst) || !self.is_up(dst) {
                    self.stats.messages_dropped += 1;
                    return;
                }
                self.stats.messages_delivered += 1;
                let gossip = GossipChoice::Seed(self.rng.next_u64());
                let entropy = self.rng.next_u64();
                self.handle(
                    dst,
                    Event::Deliver {
                        link,
                        msg: *msg,
                        gossip,
                        entropy,
                    },
                );
            }
            Pending::LinkUp { node, key, conn } => {
                if self.conns.contains(conn) {
                    let gossip = GossipChoice::Seed(self.rng.next_u64());
                    self.handle(node, Event::LinkUp { peer: key, gossip });
                }
            }
            Pending::LinkDown { node, key } => {
                if self.conns.outbound(node, &key).is_none() {
                    self.handle(node, Event::LinkDown(key));
                }
            }
            Pending::InboundClosed { node, conn } => self.handle(node, Event::InboundClosed(conn)),
        }
    }
}
