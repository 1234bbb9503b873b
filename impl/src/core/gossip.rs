//! The gossip section: how many entries a PING carries, which nodes may be
//! described, and what a receiver learns from them. Mirrors the gossip part
//! of `clusterSendPing` and `clusterProcessGossipSection`.

use std::collections::BTreeSet;

use crate::codec::{flags, GossipEntry, NodeName};

use super::outgoing::ip_string;
use super::rules::{gossip_wanted, report_counts};
use super::{Core, GossipChoice, NodeEntry};

/// Whether `n` may be picked as a random gossip entry: not myself, not PFAIL
/// (those are all appended anyway), not in handshake, with an address, and
/// linked or serving slots. Mirrors the skip rules of `clusterSendPing`.
fn is_gossip_candidate(n: &NodeEntry) -> bool {
    !n.has(flags::MYSELF)
        && !n.has(flags::PFAIL)
        && !n.has(flags::HANDSHAKE | flags::NOADDR)
        && (n.link.exists() || n.numslots > 0)
}

/// splitmix64: a deterministic mixer turning a caller's seed into indices.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Core {
    /// The nodes a caller may choose gossip entries from, ordered by name.
    pub fn gossip_candidates(&self) -> Vec<NodeName> {
        self.table
            .nodes
            .values()
            .filter(|n| is_gossip_candidate(n))
            .map(|n| n.name)
            .collect()
    }

    /// How many entries to choose among [`Core::gossip_candidates`] for the
    /// next PING (the PFAIL nodes are added on top by the core).
    pub fn gossip_wanted(&self) -> usize {
        gossip_wanted(self.table.len())
    }

    /// A gossip choice made with a caller's random `seed`, for a runtime or
    /// scheduler that wants Redis-like random entries.
    pub fn pick_gossip(&self, seed: u64) -> Vec<NodeName> {
        self.choose_gossip(&GossipChoice::Seed(seed), 0)
    }

    /// Keeps the chosen entries that are candidates, without duplicates, and
    /// at most `gossip_wanted()` of them.
    pub(super) fn valid_gossip(&self, chosen: &[NodeName]) -> Vec<NodeName> {
        let wanted = self.gossip_wanted();
        let mut seen = BTreeSet::new();
        chosen
            .iter()
            .filter(|n| self.table.get(n).map(is_gossip_candidate).unwrap_or(false))
            .filter(|n| seen.insert(**n))
            .take(wanted)
            .copied()
            .collect()
    }

    /// Every PFAIL node with an address, not in handshake.
    pub(super) fn pfail_gossip_nodes(&self) -> Vec<NodeName> {
        self.table
            .nodes
            .values()
            .filter(|n| n.has(flags::PFAIL) && !n.has(flags::HANDSHAKE | flags::NOADDR))
            .map(|n| n.name)
            .collect()
    }

    /// Turns a [`GossipChoice`] into names: explicit names as given, or a
    /// partial Fisher–Yates shuffle of the candidates driven by the seed
    /// (and `salt`, so a broadcast varies per destination).
    pub(super) fn choose_gossip(&self, choice: &GossipChoice, salt: u64) -> Vec<NodeName> {
        match choice {
            GossipChoice::Explicit(names) => names.clone(),
            GossipChoice::Seed(seed) => {
                let mut cands = self.gossip_candidates();
                let wanted = self.gossip_wanted().min(cands.len());
                let mut state = seed ^ salt.wrapping_mul(0xA24B_AED4_963E_E407);
                for i in 0..wanted {
                    let j = i + (splitmix64(&mut state) % (cands.len() - i) as u64) as usize;
                    cands.swap(i, j);
                }
                cands.truncate(wanted);
                cands
            }
        }
    }

    /// Learns from the gossip section of a PING/PONG/MEET from `sender`.
    /// Mirrors `clusterProcessGossipSection`.
    pub(super) fn process_gossip(
        &mut self,
        now_ms: u64,
        sender: Option<NodeName>,
        gossip: &[GossipEntry],
    ) {
        let sender_is_master = sender
            .and_then(|s| self.table.get(&s))
            .map(|s| s.is_master())
            .unwrap_or(false);
        for g in gossip {
            if self.table.contains(&g.nodename) {
                if let (true, Some(s)) = (report_counts(sender_is_master), sender) {
                    if g.nodename != self.myself {
                        self.gossip_failure_report(now_ms, &g.nodename, &s, g.flags);
                    }
                }
                self.gossip_pong_time(now_ms, g);
                self.gossip_address(g);
            } else if sender.is_some() {
                self.gossip_new_node(now_ms, g);
            }
        }
    }

    /// A master's gossip says `about` is (or is not) failing: add or drop its
    /// report, then check the FAIL quorum. Mirrors the report branch of
    /// `clusterProcessGossipSection`.
    fn gossip_failure_report(
        &mut self,
        now_ms: u64,
        about: &NodeName,
        reporter: &NodeName,
        gflags: u16,
    ) {
        if gflags & (flags::FAIL | flags::PFAIL) != 0 {
            self.add_failure_report(now_ms, about, reporter);
            self.mark_node_as_failing_if_needed(now_ms, about);
        } else {
            self.del_failure_report(about, reporter);
        }
    }

    /// Adopts a newer pong time from gossip when I have no ping pending and
    /// no failure report about the node. Mirrors the pong_received update of
    /// `clusterProcessGossipSection`.
    fn gossip_pong_time(&mut self, now_ms: u64, g: &GossipEntry) {
        let Some(n) = self.table.get_mut(&g.nodename) else {
            return;
        };
        if g.flags & (flags::FAIL | flags::PFAIL) == 0
            && n.ping_sent_ms.is_none()
            && n.fail_reports.is_empty()
        {
            let pong_ms = u64::from(g.pong_received) * 1000;
            if pong_ms <= now_ms + 500 && pong_ms > n.pong_received_ms {
                n.pong_received_ms = pong_ms;
            }
        }
    }

    /// A node I consider failing is gossiped as healthy at another address:
    /// adopt the address and drop my link. Mirrors the address branch of
    /// `clusterProcessGossipSection`.
    fn gossip_address(&mut self, g: &GossipEntry) {
        let ip = ip_string(&g.ip);
        let Some(n) = self.table.get(&g.nodename) else {
            return;
        };
        let moved = n.ip != ip || n.port != g.port || n.cport != g.cport;
        if n.has(flags::FAIL | flags::PFAIL)
            && g.flags & flags::NOADDR == 0
            && g.flags & (flags::FAIL | flags::PFAIL) == 0
            && moved
        {
            let name = n.name;
            self.free_link(&name);
            if let Some(n) = self.table.get_mut(&name) {
                n.ip = ip;
                n.port = g.port;
                n.pport = g.pport;
                n.cport = g.cport;
                n.flags &= !flags::NOADDR;
            }
        }
    }

    /// A known sender gossips about a node I have never heard of: add it
    /// under its real name, unless it has no address or is blacklisted.
    fn gossip_new_node(&mut self, now_ms: u64, g: &GossipEntry) {
        if g.flags & flags::NOADDR != 0 || self.is_blacklisted(now_ms, &g.nodename) {
            return;
        }
        let mut n = NodeEntry::new(g.nodename, g.flags & !(flags::MYSELF), now_ms);
        n.ip = ip_string(&g.ip);
        n.port = g.port;
        n.pport = g.pport;
        n.cport = g.cport;
        self.table.nodes.insert(n.name, n);
    }
}
