//! Processing one received message. Mirrors `clusterProcessPacket`, split
//! into its parts: the header (epochs), PING/MEET replies, the handshake
//! and address checks, roles, slots, gossip, and the other message types.
//!
//! Divergence from Redis 7.0: a currentEpoch learned from a header is saved
//! (without fsync). Redis only updates it in memory, so after a crash a node
//! may restart with an older currentEpoch than it had announced.

use crate::codec::{
    flags, mflags0, Body, GossipEntry, Header, Message, NodeName, SlotBitmap, NULL_NODE_NAME,
};

use super::outgoing::{ip_string, PingKind};
use super::{Core, Effect, GossipChoice, LinkId, NodeEntry};

/// Derives a node name (40 lowercase hex chars) from a caller's random value,
/// for nodes Redis would name with `getRandomHexChars`.
pub fn random_name(entropy: u64) -> NodeName {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut state = entropy;
    let mut out = [0u8; crate::codec::NODE_NAME_LEN];
    for chunk in out.chunks_mut(16) {
        let mut v = super::gossip::splitmix64(&mut state);
        for b in chunk.iter_mut() {
            *b = HEX[(v & 0xf) as usize];
            v >>= 4;
        }
    }
    out
}

/// What the header tells about a known, non-handshake sender.
#[derive(Clone, Copy, Debug, Default)]
struct SenderEpochs {
    current: u64,
    config: u64,
}

impl Core {
    pub(super) fn process_packet(
        &mut self,
        now_ms: u64,
        link: LinkId,
        msg: Message,
        gossip: &GossipChoice,
        entropy: u64,
    ) {
        let sender = self.resolve_sender(&link, &msg.header);
        let epochs = match sender {
            Some(s) => self.process_header(now_ms, &s, &msg.header),
            None => SenderEpochs::default(),
        };
        let h = &msg.header;
        match &msg.body {
            Body::Ping { gossip: g, .. } | Body::Meet { gossip: g, .. } => {
                let meet = matches!(msg.body, Body::Meet { .. });
                self.reply_to_ping(now_ms, link, sender, h, meet, g, gossip, entropy);
                let kind = if meet { PingKind::Meet } else { PingKind::Ping };
                self.process_ping_like(now_ms, link, sender, h, g, kind, epochs);
            }
            Body::Pong { gossip: g, .. } => {
                self.process_ping_like(now_ms, link, sender, h, g, PingKind::Pong, epochs)
            }
            Body::Fail { nodename } => self.process_fail(now_ms, sender, nodename),
            Body::FailoverAuthRequest => {
                if let Some(s) = sender {
                    self.send_failover_auth_if_needed(now_ms, &s, h);
                }
            }
            Body::FailoverAuthAck => {
                if let Some(s) = sender {
                    self.count_auth_ack(now_ms, &s, epochs.current, gossip);
                }
            }
            Body::MfStart => self.process_mfstart(now_ms, link, sender, gossip),
            Body::Update {
                config_epoch,
                nodename,
                slots,
            } => {
                if sender.is_some() {
                    self.process_update(nodename, *config_epoch, slots);
                }
            }
            Body::Publish { .. } | Body::PublishShard { .. } | Body::Module { .. } => {}
        }
    }

    /// The node a message comes from: my link's node when it is not in
    /// handshake, else the header's sender if known. Mirrors `getNodeFromLinkAndMsg`.
    fn resolve_sender(&mut self, link: &LinkId, h: &Header) -> Option<NodeName> {
        if let LinkId::Outbound(peer) = link {
            if let Some(n) = self.table.get(peer) {
                if !n.in_handshake() {
                    return Some(*peer);
                }
            }
        }
        let n = self.table.get(&h.sender)?;
        // A message claiming to come from myself is not from a known peer.
        if n.in_handshake() || h.sender == self.myself {
            return None;
        }
        if let LinkId::Inbound(id) = link {
            self.inbound.insert(*id, h.sender);
        }
        Some(h.sender)
    }

    /// Epochs and offsets from a known sender's header.
    fn process_header(&mut self, now_ms: u64, sender: &NodeName, h: &Header) -> SenderEpochs {
        let is_my_master = self.me().is_replica() && self.me().master == Some(*sender);
        let Some(n) = self.table.get_mut(sender) else {
            return SenderEpochs::default();
        };
        n.data_received_ms = now_ms;
        if n.in_handshake() {
            return SenderEpochs::default();
        }
        n.repl_offset = h.offset;
        let raised = h.config_epoch > n.config_epoch;
        if raised {
            n.config_epoch = h.config_epoch;
        }
        if h.current_epoch > self.current_epoch {
            self.current_epoch = h.current_epoch;
            // Redis does not save here, so a restart can bring back an older
            // currentEpoch; saving keeps "epochs never decrease" true across
            // restarts (a deliberate divergence, see the module docs).
            self.save_config(false);
        }
        if raised {
            self.save_config(true);
        }
        if self.mf.end_ms.is_some()
            && is_my_master
            && h.mflags[0] & mflags0::PAUSED != 0
            && self.mf.master_offset.is_none()
        {
            self.mf.master_offset = Some(h.offset);
            self.handle_manual_failover();
        }
        SenderEpochs {
            current: h.current_epoch,
            config: h.config_epoch,
        }
    }

    /// Every PING and MEET is answered with a PONG on the same link; a MEET
    /// from an unknown node adds it (in handshake, under a random name) and
    /// its gossip is trusted.
    #[allow(clippy::too_many_arguments)]
    fn reply_to_ping(
        &mut self,
        now_ms: u64,
        link: LinkId,
        sender: Option<NodeName>,
        h: &Header,
        meet: bool,
        g: &[GossipEntry],
        choice: &GossipChoice,
        entropy: u64,
    ) {
        if sender.is_none() && meet {
            let mut n = NodeEntry::new(random_name(entropy), flags::HANDSHAKE, now_ms);
            n.ip = ip_string(&h.myip);
            n.port = h.port;
            n.pport = h.pport;
            n.cport = h.cport;
            self.table.nodes.insert(n.name, n);
            self.save_config(false);
            self.process_gossip(now_ms, None, g);
        }
        self.send_ping(now_ms, link, PingKind::Pong, choice, 0);
    }

    /// The config part of PING, PONG and MEET.
    #[allow(clippy::too_many_arguments)]
    fn process_ping_like(
        &mut self,
        now_ms: u64,
        link: LinkId,
        sender: Option<NodeName>,
        h: &Header,
        g: &[GossipEntry],
        kind: PingKind,
        epochs: SenderEpochs,
    ) {
        // My link's node, under its real name once a handshake completes.
        let mut link_node = None;
        if let LinkId::Outbound(peer) = link {
            match self.check_outbound_peer(&peer, sender, h) {
                Some(name) => link_node = Some(name),
                None => return,
            }
        }
        if let Some(s) = sender {
            if let Some(n) = self.table.get_mut(&s) {
                n.flags = (n.flags & !flags::NOFAILOVER) | (h.flags & flags::NOFAILOVER);
            }
            if kind == PingKind::Ping {
                self.update_address_if_needed(&s, h);
            }
        }
        if let (Some(peer), PingKind::Pong) = (link_node, kind) {
            self.pong_received(now_ms, &peer);
        }
        let Some(s) = sender else { return };
        self.update_sender_role(&s, &h.slaveof);
        self.update_sender_slots(&s, &h.myslots, epochs.config);
        self.handle_config_epoch_collision(&s, epochs.config);
        self.process_gossip(now_ms, Some(s), g);
    }

    /// On my outbound link: complete a handshake (rename the node, or drop
    /// it when the sender is already known), or detect that a different node
    /// answers at that address. Returns the link's node name when processing
    /// goes on.
    fn check_outbound_peer(
        &mut self,
        peer: &NodeName,
        sender: Option<NodeName>,
        h: &Header,
    ) -> Option<NodeName> {
        let n = self.table.get(peer)?;
        if n.in_handshake() {
            if let Some(s) = sender {
                self.update_address_if_needed(&s, h);
                self.del_node(peer);
                return None;
            }
            self.complete_handshake(peer, h);
            return Some(h.sender);
        }
        if *peer != h.sender {
            self.free_link(peer);
            if let Some(n) = self.table.get_mut(peer) {
                n.flags |= flags::NOADDR;
                n.ip.clear();
                n.port = 0;
                n.pport = 0;
                n.cport = 0;
            }
            self.save_config(false);
            return None;
        }
        Some(*peer)
    }

    /// A PONG on my link: the node answered. Clears PFAIL, maybe FAIL.
    fn pong_received(&mut self, now_ms: u64, peer: &NodeName) {
        let Some(n) = self.table.get_mut(peer) else {
            return;
        };
        n.pong_received_ms = now_ms;
        n.ping_sent_ms = None;
        if n.timed_out() {
            n.flags &= !flags::PFAIL;
            self.save_config(false);
        } else if n.failed() {
            self.clear_node_failure_if_needed(now_ms, peer);
        }
    }

    /// The sender's header says whether it is a master or whose replica it is.
    /// Mirrors the role-switch block of `clusterProcessPacket`.
    fn update_sender_role(&mut self, s: &NodeName, slaveof: &NodeName) {
        if *slaveof == NULL_NODE_NAME {
            if self.table.set_node_as_master(s) {
                self.save_config(false);
            }
            return;
        }
        let master = self.table.contains(slaveof).then_some(*slaveof);
        if self.table.get(s).map(|n| n.is_master()).unwrap_or(false) {
            self.table.del_node_slots(s);
            if let Some(n) = self.table.get_mut(s) {
                n.flags &= !(flags::MASTER | flags::MIGRATE_TO);
                n.flags |= flags::SLAVE;
            }
            self.save_config(false);
        }
        if let Some(m) = master {
            if self.table.get(s).and_then(|n| n.master) != Some(m) {
                self.table.attach_replica(s, &m);
                self.save_config(false);
            }
        }
    }

    /// Slot claims in the header: adopt newer claims of a master, and tell a
    /// sender with a stale claim about the newer owner (UPDATE).
    fn update_sender_slots(
        &mut self,
        s: &NodeName,
        claimed: &SlotBitmap,
        sender_config_epoch: u64,
    ) {
        let Some(n) = self.table.get(s) else { return };
        let sender_master = if n.is_master() { Some(*s) } else { n.master };
        let dirty = match sender_master.and_then(|m| self.table.get(&m)) {
            Some(m) => m.slots != *claimed,
            None => false,
        };
        if !dirty {
            return;
        }
        if n.is_master() {
            self.update_slots_config_with(s, sender_config_epoch, claimed);
        }
        if let Some(newer) = self.newer_owner_of_claim(s, claimed, sender_config_epoch) {
            if self.table.get(s).map(|n| n.link.exists()).unwrap_or(false) {
                self.send_update(LinkId::Outbound(*s), &newer);
            }
        }
    }

    /// The first owner (by slot) of a slot in `claimed` whose configEpoch is
    /// greater than the claimer's.
    fn newer_owner_of_claim(
        &self,
        s: &NodeName,
        claimed: &SlotBitmap,
        epoch: u64,
    ) -> Option<NodeName> {
        claimed.iter().find_map(|slot| {
            let owner = self.table.slot_owner[slot as usize]?;
            if owner == *s || self.not_claiming.contains(slot) {
                return None;
            }
            let e = self.table.get(&owner)?.config_epoch;
            (e > epoch).then_some(owner)
        })
    }

    /// A FAIL message from a known node is believed.
    fn process_fail(&mut self, now_ms: u64, sender: Option<NodeName>, about: &NodeName) {
        if sender.is_none() {
            return;
        }
        let Some(n) = self.table.get_mut(about) else {
            return;
        };
        if n.has(flags::FAIL | flags::MYSELF) {
            return;
        }
        n.flags |= flags::FAIL;
        n.flags &= !flags::PFAIL;
        n.fail_time_ms = Some(now_ms);
        self.save_config(false);
    }

    /// Drops the outbound link to `name`, if any.
    pub(super) fn free_link(&mut self, name: &NodeName) {
        if let Some(n) = self.table.get_mut(name) {
            if n.link.exists() {
                n.link = super::LinkState::Down;
                self.out.push(Effect::Disconnect {
                    link: LinkId::Outbound(*name),
                });
            }
        }
    }
}
