//! Building the messages this node sends. Mirrors `clusterBuildMessageHdr`,
//! `clusterSendPing`, `clusterSendFail`, `clusterSendUpdate`,
//! `clusterRequestFailoverAuth`, `clusterSendFailoverAuth`,
//! `clusterSendMFStart` and `clusterBroadcastPong`.

use crate::codec::{
    flags, mflags0, Body, GossipEntry, Header, Message, NodeName, NET_IP_STR_LEN, NULL_NODE_NAME,
};

use super::{Core, Effect, GossipChoice, LinkId, NodeEntry};

/// Writes `ip` into a NUL-padded wire field (truncated to leave a NUL).
pub(super) fn ip_field(ip: &str) -> [u8; NET_IP_STR_LEN] {
    crate::codec::c_str_field(ip.as_bytes())
}

/// Reads a NUL-padded wire IP field.
pub(super) fn ip_string(field: &[u8; NET_IP_STR_LEN]) -> String {
    String::from_utf8_lossy(crate::codec::c_str(field)).into_owned()
}

/// Seconds as gossip carries them (Redis divides its ms clock by 1000).
fn gossip_secs(ms: u64) -> u32 {
    (ms / 1000) as u32
}

impl Core {
    /// The header every message carries. Mirrors `clusterBuildMessageHdr`:
    /// a replica announces its master's slots and configEpoch.
    pub(super) fn build_header(&self) -> Header {
        let me = self.me();
        let master = me.master.and_then(|m| self.table.get(&m));
        let (myslots, config_epoch) = match (me.is_replica(), master) {
            (true, Some(m)) => (m.slots.clone(), m.config_epoch),
            _ => (me.slots.clone(), me.config_epoch),
        };
        let mut mflags = [0u8; 3];
        if me.is_master() && self.mf.end_ms.is_some() {
            mflags[0] |= mflags0::PAUSED;
        }
        Header {
            port: me.port,
            current_epoch: self.current_epoch,
            config_epoch,
            offset: self.repl_offset,
            sender: self.myself,
            myslots,
            slaveof: if me.is_replica() {
                me.master.unwrap_or(NULL_NODE_NAME)
            } else {
                NULL_NODE_NAME
            },
            myip: ip_field(&me.ip),
            notused1: [0u8; 30],
            pport: me.pport,
            cport: me.cport,
            flags: me.flags,
            state: if self.state_ok { 0 } else { 1 },
            mflags,
        }
    }

    /// One gossip entry describing `n`. Mirrors `clusterSetGossipEntry`.
    fn gossip_entry(n: &NodeEntry) -> GossipEntry {
        GossipEntry {
            nodename: n.name,
            ping_sent: gossip_secs(n.ping_sent_ms.unwrap_or(0)),
            pong_received: gossip_secs(n.pong_received_ms),
            ip: ip_field(&n.ip),
            port: n.port,
            cport: n.cport,
            flags: n.flags,
            pport: n.pport,
            notused1: 0,
        }
    }

    /// A PING, PONG or MEET with the chosen gossip plus every PFAIL node.
    /// Mirrors `clusterSendPing` (message part).
    pub(super) fn build_ping(&self, kind: PingKind, chosen: &[NodeName]) -> Message {
        let mut gossip: Vec<GossipEntry> = self
            .valid_gossip(chosen)
            .into_iter()
            .filter_map(|n| self.table.get(&n).map(Self::gossip_entry))
            .collect();
        gossip.extend(
            self.pfail_gossip_nodes()
                .iter()
                .filter_map(|n| self.table.get(n).map(Self::gossip_entry)),
        );
        let extensions = Vec::new();
        let body = match kind {
            PingKind::Ping => Body::Ping { gossip, extensions },
            PingKind::Pong => Body::Pong { gossip, extensions },
            PingKind::Meet => Body::Meet { gossip, extensions },
        };
        Message {
            header: self.build_header(),
            body,
        }
    }

    /// Sends a PING/PONG/MEET on `link`, choosing gossip per `choice`.
    /// A PING on an outbound link starts the ping timer of that node.
    pub(super) fn send_ping(
        &mut self,
        now_ms: u64,
        link: LinkId,
        kind: PingKind,
        choice: &GossipChoice,
        salt: u64,
    ) {
        let chosen = self.choose_gossip(choice, salt);
        let msg = self.build_ping(kind, &chosen);
        if let (LinkId::Outbound(peer), PingKind::Ping) = (link, kind) {
            if let Some(n) = self.table.get_mut(&peer) {
                n.ping_sent_ms = Some(now_ms);
            }
        }
        self.out.push(Effect::Send { link, msg });
    }

    /// Names of the nodes a broadcast reaches: every node with a link that
    /// is neither myself nor in handshake. Mirrors `clusterBroadcastMessage`.
    pub(super) fn broadcast_targets(&self) -> Vec<NodeName> {
        self.table
            .nodes
            .values()
            .filter(|n| n.link.exists() && !n.has(flags::MYSELF) && !n.in_handshake())
            .map(|n| n.name)
            .collect()
    }

    /// Sends `msg` to every broadcast target.
    pub(super) fn broadcast(&mut self, msg: &Message) {
        for peer in self.broadcast_targets() {
            self.out.push(Effect::Send {
                link: LinkId::Outbound(peer),
                msg: msg.clone(),
            });
        }
    }

    /// PONG to every broadcast target, or only to my master's other replicas.
    /// Mirrors `clusterBroadcastPong`.
    pub(super) fn broadcast_pong(
        &mut self,
        now_ms: u64,
        local_replicas_only: bool,
        choice: &GossipChoice,
    ) {
        let my_master = if self.me().is_master() {
            Some(self.myself)
        } else {
            self.me().master
        };
        let targets: Vec<NodeName> = self
            .broadcast_targets()
            .into_iter()
            .filter(|p| {
                !local_replicas_only
                    || self
                        .table
                        .get(p)
                        .map(|n| n.is_replica() && n.master == my_master && my_master.is_some())
                        .unwrap_or(false)
            })
            .collect();
        for (i, peer) in targets.into_iter().enumerate() {
            self.send_ping(
                now_ms,
                LinkId::Outbound(peer),
                PingKind::Pong,
                choice,
                i as u64 + 1,
            );
        }
    }

    /// FAIL about `about`, to everyone. Mirrors `clusterSendFail`.
    pub(super) fn broadcast_fail(&mut self, about: &NodeName) {
        let msg = Message {
            header: self.build_header(),
            body: Body::Fail { nodename: *about },
        };
        self.broadcast(&msg);
    }

    /// UPDATE telling `link`'s node that `about` owns its slots. Mirrors `clusterSendUpdate`.
    pub(super) fn send_update(&mut self, link: LinkId, about: &NodeName) {
        let Some(n) = self.table.get(about) else {
            return;
        };
        // Only the slots it still claims (`owner_not_claiming_slot`).
        let mut slots = n.slots.clone();
        for slot in self.not_claiming.iter() {
            slots.remove(slot);
        }
        let body = Body::Update {
            config_epoch: n.config_epoch,
            nodename: n.name,
            slots,
        };
        let msg = Message {
            header: self.build_header(),
            body,
        };
        self.out.push(Effect::Send { link, msg });
    }

    /// AUTH_REQUEST to everyone; FORCEACK during a manual failover. Mirrors
    /// `clusterRequestFailoverAuth`.
    pub(super) fn broadcast_auth_request(&mut self) {
        let mut header = self.build_header();
        if self.mf.end_ms.is_some() {
            header.mflags[0] |= mflags0::FORCEACK;
        }
        let msg = Message {
            header,
            body: Body::FailoverAuthRequest,
        };
        self.broadcast(&msg);
    }

    /// AUTH_ACK to the replica `to`. Mirrors `clusterSendFailoverAuth`.
    pub(super) fn send_auth_ack(&mut self, to: &NodeName) {
        let Some(n) = self.table.get(to) else { return };
        if !n.link.exists() {
            return;
        }
        let msg = Message {
            header: self.build_header(),
            body: Body::FailoverAuthAck,
        };
        self.out.push(Effect::Send {
            link: LinkId::Outbound(*to),
            msg,
        });
    }

    /// MFSTART to my master. Mirrors `clusterSendMFStart`.
    pub(super) fn send_mfstart(&mut self, master: &NodeName) {
        let Some(n) = self.table.get(master) else {
            return;
        };
        if !n.link.exists() {
            return;
        }
        let msg = Message {
            header: self.build_header(),
            body: Body::MfStart,
        };
        self.out.push(Effect::Send {
            link: LinkId::Outbound(*master),
            msg,
        });
    }
}

/// Which of the three gossip-carrying messages to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PingKind {
    Ping,
    Pong,
    Meet,
}
