//! A model of the Redis Cluster bus, checked with stateright: to the end of
//! the state space where it fits the budget, within a stated depth elsewhere.
//!
//! # The protocol
//!
//! Redis Cluster nodes talk over a *bus*: one TCP link per pair of nodes, on
//! which they exchange PING and PONG packets every second or so. Every packet
//! carries a header with the sender's view of itself — its currentEpoch (the
//! highest election term it has seen), its configEpoch (the term in which it
//! got the slots it serves), whether it is a master or whose replica it is,
//! and which slots it serves — and a *gossip section* about a few other nodes.
//!
//! * **Handshake.** `CLUSTER MEET ip port` creates a HANDSHAKE node, known only
//!   by its address. A MEET packet goes there; the receiver adds the sender as
//!   a handshake node of its own and answers PONG; the PONG tells the meeting
//!   node the real id, and the handshake node is renamed. Gossip then
//!   introduces the nodes a peer knows: they are added under their real ids
//!   (no second handshake) and pinged like any other node.
//! * **Failure detection.** A PING unanswered for the node timeout (NT) makes
//!   the peer PFAIL. PFAIL nodes are gossiped; a master's gossip about a PFAIL
//!   node is a *failure report*. Reports from a majority of the masters that
//!   serve slots turn PFAIL into FAIL, and FAIL is broadcast and believed.
//! * **Failover.** A replica whose master is FAIL starts an election: it bumps
//!   currentEpoch and asks every master for a vote (AUTH_REQUEST). A master
//!   votes once per epoch (lastVoteEpoch, saved before the answer), only for a
//!   replica of a FAIL master, not twice for one master within 2·NT, and not if
//!   a slot the replica claims is served with a newer configEpoch. A majority
//!   of votes wins: the replica takes the epoch as its configEpoch and its
//!   master's slots, and PONGs everyone. A higher configEpoch wins every slot
//!   dispute; a node that claims slots with a stale configEpoch is sent an
//!   UPDATE, and an old master that learns it lost its slots becomes a replica
//!   of the new owner. Two masters with the same configEpoch make the one with
//!   the smaller id bump its epoch.
//!
//! # The model
//!
//! Slots are abstracted to one *shard* per initial master. Time is abstracted
//! away: every timeout is an action that may happen whenever Redis's guard
//! allows it, which covers every real timing. Links are FIFO per direction and
//! may break, losing what is in flight; nodes may crash and restart from what
//! nodes.conf holds. `specs/model.md` lists what is abstracted and why that is
//! sound for the properties, which are in [`properties`].

pub mod action;
pub mod config;
pub mod message;
pub mod network;
mod packing;
pub mod pins;
pub mod properties;
pub mod receive;
pub mod rules;
pub mod state;
pub mod step;
pub mod symmetry;
pub mod trace;

pub use action::Action;
pub use config::{Bug, Finding, ModelCfg, MoveStep, Reshard, Start};
pub use message::{Body, Epoch, Gossip, GossipList, Header, Msg, NodeIx, Shard, ShardSet};
pub use state::{Node, Peer, State};

use stateright::{Model, Property};

/// The stateright model of one configuration.
#[derive(Clone, Debug)]
pub struct ClusterModel {
    pub cfg: ModelCfg,
}

impl ClusterModel {
    /// The model of `cfg`. A configuration that does not fit the state's
    /// fixed capacities is a programming error in `ModelCfg::named`.
    pub fn new(cfg: ModelCfg) -> Self {
        if let Err(e) = cfg.validate() {
            panic!("configuration {}: {e}", cfg.name);
        }
        ClusterModel { cfg }
    }
}

impl Model for ClusterModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        vec![State::initial(&self.cfg)]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        step::enabled(&self.cfg, state, actions);
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let mut next = *last;
        step::apply(&self.cfg, &mut next, &action);
        Some(next)
    }

    fn format_action(&self, action: &Action) -> String {
        action.to_string()
    }

    fn properties(&self) -> Vec<Property<Self>> {
        properties::properties(self)
    }

    fn within_boundary(&self, state: &State) -> bool {
        properties::within_bounds(self, state)
    }
}
