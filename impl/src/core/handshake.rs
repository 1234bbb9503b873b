//! Meeting nodes and keeping links: CLUSTER MEET, handshake completion and
//! timeout, address updates, reconnects and the pings that keep failure
//! detection fed. Mirrors `clusterStartHandshake`, `nodeUpdateAddressIfNeeded`,
//! `clusterRenameNode`, `clusterNodeCronHandleReconnect`,
//! `clusterLinkConnectHandler` and the ping part of `clusterCron`.

use super::altered;
use crate::codec::{flags, Header, NodeName};

use super::outgoing::{ip_string, PingKind};
use super::{Core, Effect, GossipChoice, LinkId, LinkState, NodeEntry};

/// Seconds a forgotten node may not be re-added (`CLUSTER_BLACKLIST_TTL`), in ms.
pub const CLUSTER_BLACKLIST_TTL_MS: u64 = 60_000;

impl Core {
    /// Adds a handshake node for `ip:port@cport` under `handshake_id` unless a
    /// handshake with that address is in progress. Mirrors `clusterStartHandshake`.
    pub(super) fn start_handshake(
        &mut self,
        now_ms: u64,
        ip: &str,
        port: u16,
        cport: u16,
        id: NodeName,
    ) -> bool {
        let in_progress = self.table.nodes.values().any(|n| {
            n.in_handshake() && n.ip.eq_ignore_ascii_case(ip) && n.port == port && n.cport == cport
        });
        if in_progress || port == 0 || cport == 0 || self.table.contains(&id) {
            return false;
        }
        let mut n = NodeEntry::new(id, flags::HANDSHAKE | flags::MEET, now_ms);
        n.ip = ip.to_string();
        n.port = port;
        n.cport = cport;
        self.table.nodes.insert(id, n);
        true
    }

    /// The first PONG on my link to a handshake node: it takes the sender's
    /// real name and role.
    pub(super) fn complete_handshake(&mut self, peer: &NodeName, h: &Header) {
        let real = h.sender;
        if altered!(self, NoHandshakeRename) {
            return;
        }
        self.table.rename(peer, &real);
        if let Some(n) = self.table.get_mut(&real) {
            n.flags &= !flags::HANDSHAKE;
            n.flags |= h.flags & (flags::MASTER | flags::SLAVE);
        }
        self.out.push(Effect::RenameLink {
            from: *peer,
            to: real,
        });
        self.save_config(false);
    }

    /// A PING from a known node on a link that is not mine to it, with a
    /// different address: adopt it and drop my link. Mirrors `nodeUpdateAddressIfNeeded`.
    pub(super) fn update_address_if_needed(&mut self, name: &NodeName, h: &Header) {
        let ip = ip_string(&h.myip);
        let Some(n) = self.table.get(name) else {
            return;
        };
        if n.has(flags::MYSELF) || ip.is_empty() {
            return;
        }
        if n.port == h.port && n.cport == h.cport && n.pport == h.pport && n.ip == ip {
            return;
        }
        self.free_link(name);
        if let Some(n) = self.table.get_mut(name) {
            n.ip = ip;
            n.port = h.port;
            n.pport = h.pport;
            n.cport = h.cport;
            n.flags &= !flags::NOADDR;
        }
        self.save_config(false);
    }

    /// Removes a node (never myself) and its link. Mirrors `clusterDelNode`.
    pub(super) fn del_node(&mut self, name: &NodeName) {
        if *name == self.myself {
            return;
        }
        self.free_link(name);
        self.inbound.retain(|_, n| n != name);
        self.open_slots.forget_node(name);
        self.table.del_node(name);
    }

    /// A handshake node lived too long: forget it.
    pub(super) fn handshake_timeout(&mut self, _now_ms: u64, peer: &NodeName) {
        if self
            .table
            .get(peer)
            .map(|n| n.in_handshake())
            .unwrap_or(false)
        {
            self.del_node(peer);
        }
    }

    /// Opens a link to a node that has none.
    pub(super) fn reconnect(&mut self, now_ms: u64, peer: &NodeName) {
        let Some(n) = self.table.get_mut(peer) else {
            return;
        };
        if n.has(flags::MYSELF | flags::NOADDR) || n.link.exists() {
            return;
        }
        n.link = LinkState::Connecting { since_ms: now_ms };
        let eff = Effect::Connect {
            node: *peer,
            ip: n.ip.clone(),
            cport: n.cport,
        };
        self.out.push(eff);
    }

    /// My link is connected: send MEET (for a node met by CLUSTER MEET) or
    /// PING, keeping an older pending ping time. Mirrors `clusterLinkConnectHandler`.
    pub(super) fn link_up(&mut self, now_ms: u64, peer: &NodeName, choice: &GossipChoice) {
        let Some(n) = self.table.get_mut(peer) else {
            return;
        };
        let since_ms = n.link.created_ms().unwrap_or(now_ms);
        n.link = LinkState::Up { since_ms };
        let old_ping = n.ping_sent_ms;
        let kind = if n.has(flags::MEET) {
            PingKind::Meet
        } else {
            PingKind::Ping
        };
        self.send_ping(now_ms, LinkId::Outbound(*peer), kind, choice, 0);
        if let Some(n) = self.table.get_mut(peer) {
            if old_ping.is_some() {
                n.ping_sent_ms = old_ping;
            }
            n.flags &= !flags::MEET;
        }
    }

    /// My link failed or closed. A failed connect counts as a ping sent now,
    /// so that an unreachable node still times out (the synchronous-error
    /// branch of `clusterNodeCronHandleReconnect`).
    pub(super) fn link_down(&mut self, now_ms: u64, peer: &NodeName) {
        let Some(n) = self.table.get_mut(peer) else {
            return;
        };
        if matches!(n.link, LinkState::Connecting { .. })
            && n.ping_sent_ms.is_none()
            && !n.in_handshake()
        {
            n.ping_sent_ms = Some(now_ms);
        }
        n.link = LinkState::Down;
    }

    /// The link looks dead (ping outstanding, nothing received): drop it.
    pub(super) fn link_stale(&mut self, peer: &NodeName) {
        self.free_link(peer);
    }

    /// Time to ping `peer`: send a PING with the chosen gossip.
    pub(super) fn ping_due(&mut self, now_ms: u64, peer: &NodeName, gossip: &[NodeName]) {
        let Some(n) = self.table.get(peer) else {
            return;
        };
        if !n.link.exists() || n.has(flags::MYSELF) {
            return;
        }
        self.send_ping(
            now_ms,
            LinkId::Outbound(*peer),
            PingKind::Ping,
            &GossipChoice::Explicit(gossip.to_vec()),
            0,
        );
    }

    /// Whether `name` was forgotten less than a minute ago.
    pub(super) fn is_blacklisted(&self, now_ms: u64, name: &NodeName) -> bool {
        self.blacklist
            .get(name)
            .map(|until| now_ms < *until)
            .unwrap_or(false)
    }
}
