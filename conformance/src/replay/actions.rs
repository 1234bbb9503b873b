//! Model actions as core events. Timer actions move the acting node's clock
//! just far enough for the core's own time guard to allow them: the model
//! says the timeout may happen, the clock makes it so.

use super::mapping::{Mapping, NODE_TIMEOUT_MS};
use super::Replayer;
use clusterbus_model::{Action, NodeIx, Shard, State};
use clusterbus_node::codec::{flags, NodeName};
use clusterbus_node::core::election::{auth_retry_ms, auth_timeout_ms};
use clusterbus_node::core::migration::SetSlot;
use clusterbus_node::core::{name_str, ClusterCommand, Event, GossipChoice, LinkState, NodeEntry};

impl Replayer {
    pub(super) fn perform(&mut self, _before: &State, action: &Action) -> Result<(), String> {
        let nt = NODE_TIMEOUT_MS;
        match *action {
            Action::Meet { node, peer, .. } => {
                let cmd = ClusterCommand::Meet {
                    ip: self.map.identity(peer).ip,
                    port: Mapping::port(peer),
                    cport: Mapping::cport(peer),
                    handshake_id: self.map.handshake_id(node, peer),
                };
                self.handle(node, Event::Command(cmd));
            }
            Action::SendPing {
                node,
                peer,
                ref gossip,
            } => {
                let entry = self.entry_for(node, peer)?;
                let names: Vec<NodeName> = gossip.iter().map(|g| self.map.id(g.node)).collect();
                let name = entry.name;
                if !entry.link.exists() {
                    self.handle(node, Event::Reconnect(name));
                }
                let linked = self
                    .core(node)
                    .and_then(|c| c.node(&name))
                    .is_some_and(|e| matches!(e.link, LinkState::Up { .. }));
                if entry.has(flags::HANDSHAKE) && !linked {
                    // The first packet on a new link: MEET, or PING for a
                    // handshake node a MEET created.
                    let gossip = GossipChoice::Explicit(names);
                    self.handle(node, Event::LinkUp { peer: name, gossip });
                } else {
                    self.handle(
                        node,
                        Event::PingDue {
                            peer: name,
                            gossip: names,
                        },
                    );
                }
            }
            Action::Deliver { from, to } => self.deliver_head(from, to)?,
            Action::NodeTimeout { node, peer } => {
                let id = self.map.id(peer);
                let entry = self.known_entry(node, peer)?;
                if entry.ping_sent_ms.is_none() {
                    if self.up(peer) {
                        return Err(format!("n{node} has no ping to n{peer} outstanding"));
                    }
                    // Cron's connect to a node that is down fails: that
                    // counts as a ping sent now.
                    self.handle(node, Event::LinkDown(id));
                    self.handle(node, Event::Reconnect(id));
                }
                // The core leaves the timing of this event to its caller.
                self.handle(node, Event::NodeTimeout(id));
            }
            Action::ReportExpired {
                node,
                about,
                reporter,
            } => {
                let (about, reporter) = (self.map.id(about), self.map.id(reporter));
                self.handle(node, Event::ReportExpired { about, reporter });
            }
            Action::FailUndo { node, about } => self.fail_undo(node, about)?,
            Action::ElectionDue { node } => self.election_due(node)?,
            Action::AuthTimeout { node } => {
                let deadline = self
                    .core(node)
                    .and_then(|c| c.auth_deadline_ms())
                    .ok_or_else(|| format!("n{node} runs no election"))?;
                self.advance(node, deadline + 1);
                self.handle(node, Event::AuthTimeout);
            }
            Action::VoteCooldown { node, master } => {
                let voted = self
                    .known_entry(node, master)?
                    .voted_time_ms
                    .ok_or_else(|| format!("n{node} never voted for a replica of n{master}"))?;
                self.advance(node, voted + 2 * nt);
            }
            Action::HandshakeTimeout { node, peer } => {
                let entry = self.entry_for(node, peer)?;
                if !entry.has(flags::HANDSHAKE) {
                    return Err(format!("n{node} has no handshake with n{peer}"));
                }
                let timeout = self
                    .core(node)
                    .map(|c| c.handshake_timeout_ms())
                    .unwrap_or(0);
                self.advance(node, entry.ctime_ms + timeout + 1);
                self.handle(node, Event::HandshakeTimeout(entry.name));
            }
            Action::Crash { node } => self.crash(node)?,
            Action::Restart { node } => self.restart(node)?,
            Action::LinkBreak { from, to } => self.queue(from, to).clear(),
            Action::SetSlotImporting { node, shard, from } => self.set_slot(
                node,
                shard,
                SetSlot::Importing(name_str(&self.map.id(from))),
            ),
            Action::SetSlotNode { node, shard, owner } => {
                self.set_slot(node, shard, SetSlot::Node(name_str(&self.map.id(owner))))
            }
        }
        Ok(())
    }

    /// The operator's `CLUSTER SETSLOT` on every slot of `shard`. The keys
    /// have moved by then: the node holds none in the slot.
    fn set_slot(&mut self, i: NodeIx, shard: Shard, action: SetSlot) {
        let (start, end) = self.map.shard_range(shard);
        for slot in start..=end {
            let cmd = ClusterCommand::SetSlot {
                slot,
                action: action.clone(),
                keys_in_slot: 0,
                entropy: 0,
            };
            self.handle(i, Event::Command(cmd));
        }
    }

    /// Node `i`'s table entry for `peer`: by its id, else a handshake node
    /// at its address.
    fn entry_for(&self, i: NodeIx, peer: NodeIx) -> Result<NodeEntry, String> {
        let core = self.core(i).ok_or_else(|| format!("n{i} is down"))?;
        if let Some(e) = core.node(&self.map.id(peer)) {
            return Ok(e.clone());
        }
        let cport = Mapping::cport(peer);
        core.nodes()
            .find(|e| e.has(flags::HANDSHAKE) && e.cport == cport)
            .cloned()
            .ok_or_else(|| format!("n{i} has no entry for n{peer}"))
    }

    fn known_entry(&self, i: NodeIx, peer: NodeIx) -> Result<NodeEntry, String> {
        let core = self.core(i).ok_or_else(|| format!("n{i} is down"))?;
        core.node(&self.map.id(peer))
            .cloned()
            .ok_or_else(|| format!("n{i} does not know n{peer}"))
    }

    /// Plan the election if needed (after a lost one, once the retry time
    /// has passed), wait for its start time, and start it.
    fn election_due(&mut self, i: NodeIx) -> Result<(), String> {
        let nt = NODE_TIMEOUT_MS;
        let core = self.core(i).ok_or_else(|| format!("n{i} is down"))?;
        let e = core.election().clone();
        if let (true, Some(t)) = (e.expired, e.auth_time_ms) {
            self.advance(i, t + auth_retry_ms(nt) + 1);
        }
        let now = self.clocks[i as usize];
        if self
            .core(i)
            .is_some_and(|c| c.election_needs_scheduling(now))
        {
            self.handle(i, Event::ScheduleElection { jitter_ms: 0 });
        }
        let start = self
            .core(i)
            .and_then(|c| c.election().auth_time_ms)
            .ok_or_else(|| format!("n{i} may not plan an election"))?;
        if self.clocks[i as usize] > start + auth_timeout_ms(nt) {
            return Err(format!("n{i}'s planned election is too old to start"));
        }
        self.advance(i, start);
        self.handle(i, Event::ElectionDue);
        Ok(())
    }

    /// 2·NT after the FAIL, a PONG from the failed master clears it: node
    /// `i` pings `about` and gets its answer, ahead of anything else queued.
    fn fail_undo(&mut self, i: NodeIx, about: NodeIx) -> Result<(), String> {
        let nt = NODE_TIMEOUT_MS;
        // A FAIL loaded from nodes.conf has no time: it is long past.
        if let Some(failed) = self.known_entry(i, about)?.fail_time_ms {
            self.advance(i, failed + 2 * nt + 1);
        }
        let id = self.map.id(about);
        self.handle(
            i,
            Event::PingDue {
                peer: id,
                gossip: vec![],
            },
        );
        let ping = self
            .queue(i, about)
            .pop_back()
            .ok_or_else(|| format!("n{i} sent no PING to n{about}"))?;
        // The PONG is queued behind what was in flight, and ahead of what
        // the PING's gossip made `about` send besides; those stay in flight.
        let queued = self.queue(about, i).len();
        self.deliver(about, ping)?;
        let pong = self
            .queue(about, i)
            .remove(queued)
            .ok_or_else(|| format!("n{about} did not answer n{i}'s PING"))?;
        self.deliver(i, pong)
    }
}
