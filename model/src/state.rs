//! The state of the modelled cluster: each node's own view, the links between
//! nodes, and the history ("ghost") variables the properties read.

use crate::config::{ModelCfg, Start};
use crate::message::{Epoch, Msg, NodeIx, Shard, ShardSet, MAX_NODES, MAX_SHARDS};
use crate::network::Network;
use crate::symmetry::Swaps;
use serde::Serialize;
use tinyvec::ArrayVec;

/// Epochs a configuration may reach: 0 to `EPOCH_SLOTS - 1`.
pub const EPOCH_SLOTS: usize = 8;

/// `State::operator` once `redis-cli` gave up on a refused step.
pub const MOVE_ABORTED: u8 = 0xF;

/// A node's view of every node, indexed by node (its own entry unused).
pub type Peers = ArrayVec<[Peer; MAX_NODES]>;
/// Who owns each shard, indexed by shard.
pub type Owners = ArrayVec<[Option<NodeIx>; MAX_SHARDS]>;

/// What node `i` knows about peer `j` (an entry of `server.cluster->nodes`).
/// Hashed packed (see `packing`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Peer {
    /// Known by its real id (in the node table, not in handshake).
    pub known: bool,
    /// A HANDSHAKE node for `j`'s address; `Some(true)` while its MEET is unsent.
    pub handshake: Option<bool>,
    /// The peer's master as we believe it; `None` for a master.
    pub master: Option<NodeIx>,
    /// The peer's configEpoch as we believe it.
    pub config_epoch: Epoch,
    pub pfail: bool,
    pub fail: bool,
    /// Masters that reported `j` as failing (`fail_reports`), as a bit set.
    pub reports: u8,
    /// A PING is outstanding (`ping_sent != 0`).
    pub ping_pending: bool,
    /// The FAIL is older than 2·NT: the next PONG from it clears it even for
    /// a master with slots (`clearNodeFailureIfNeeded`). Known only where a
    /// timer of 2·NT or more ran since the FAIL (a vote cooldown, an auth
    /// timeout) or across a restart (FAIL times are loaded as long past).
    pub fail_aged: bool,
}

/// A replica's election in progress (`failover_auth_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Election {
    pub epoch: Epoch,
    /// Masters whose AUTH_ACK was counted, as a bit set.
    pub votes: u8,
}

/// One node. Hashed packed (see `packing`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Node {
    pub up: bool,
    // --- Saved in nodes.conf, restored on restart. ---
    pub current_epoch: Epoch,
    pub last_vote_epoch: Epoch,
    /// lastVoteEpoch as it is on disk (differs only under `Bug::VoteNotPersisted`).
    pub durable_last_vote_epoch: Epoch,
    pub config_epoch: Epoch,
    /// My master; `None` when I am a master.
    pub master: Option<NodeIx>,
    /// Who owns each shard in my view (`server.cluster->slots`).
    pub owners: Owners,
    /// Shards I am importing (`importing_slots_from`; the source is the
    /// configuration's, so only the shards are kept).
    pub importing: ShardSet,
    /// Shards whose owner in my view has stopped claiming them without
    /// anyone else taking them (`owner_not_claiming_slot`, not saved): any
    /// claim takes such a shard, and no UPDATE speaks of it.
    pub unclaimed: ShardSet,
    /// Indexed by node; my own entry is unused.
    pub peers: Peers,
    // --- Volatile, lost on crash. ---
    pub election: Option<Election>,
    /// Masters for whose replicas I voted within the last 2·NT (`voted_time`), bit set.
    pub recently_voted: u8,
}

/// History variables: written by transitions, read only by properties. Each
/// keeps only what its property needs, so that it multiplies the state space
/// as little as it can: what a property checks at the moment it could break
/// is kept as a flag, not as a record of every event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Ghost {
    /// `votes[candidate][epoch]`: the masters that voted for `candidate` in
    /// `epoch`, as a bit set.
    pub votes: [[u8; EPOCH_SLOTS]; MAX_NODES],
    /// `wins[epoch]`: the replicas that won an election in `epoch`, as a bit set.
    pub wins: [u8; EPOCH_SLOTS],
    /// A node reached FAIL from failure reports without a majority of its
    /// cluster's masters with slots.
    pub fail_without_majority: bool,
    /// Highest currentEpoch each node ever had.
    pub epoch_high: [Epoch; MAX_NODES],
    /// An election was started for a master that was not FAIL in the replica's view.
    pub election_without_fail: bool,
    /// A replica won while its master was not FAIL in its view.
    pub won_without_fail: bool,
    /// An old master that came back and now replicates the new owner of its shard.
    pub rejoined_as_replica: bool,
    /// A step happened that a timely network would not take (a timeout while
    /// the answer was still coming, a lost message): liveness is not promised.
    pub untimely: bool,
    /// Bit `e`: a node took configEpoch `e` without consensus (`SETSLOT
    /// NODE` of an imported shard).
    pub taken_alone: u8,
}

/// The whole cluster. Hashed packed (see `packing`), as the representative
/// of its orbit where the configuration has interchangeable nodes (see
/// `symmetry`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct State {
    pub nodes: ArrayVec<[Node; MAX_NODES]>,
    /// Messages in flight, FIFO per directed link.
    pub net: Network,
    /// Operator MEETs not yet issued, as indices into `ModelCfg::meets` (bit set).
    pub meets_pending: u8,
    pub crashes: u8,
    pub link_breaks: u8,
    pub ghost: Ghost,
    /// The operator's slot migration (`ModelCfg::reshard`): how many of its
    /// steps are done, or `MOVE_ABORTED` once a step was refused.
    pub operator: u8,
    /// The configuration's interchangeable nodes (constant; not hashed).
    #[serde(skip)]
    pub symmetry: Swaps,
}

impl State {
    pub fn initial(cfg: &ModelCfg) -> State {
        let n = cfg.node_count();
        let shards = cfg.masters as usize;
        let nodes = (0..n as NodeIx)
            .map(|i| Node::initial(cfg, i, n, shards))
            .collect();
        State {
            nodes,
            net: Network::default(),
            meets_pending: ((1u16 << cfg.meets.len()) - 1) as u8,
            crashes: 0,
            link_breaks: 0,
            operator: 0,
            ghost: Ghost {
                epoch_high: [initial_epoch(cfg); MAX_NODES],
                ..Ghost::default()
            },
            symmetry: cfg.symmetry(),
        }
    }

    pub fn n(&self) -> usize {
        self.nodes.len()
    }

    /// What is in flight from `from` to `to`, oldest first.
    pub fn link(&self, from: NodeIx, to: NodeIx) -> &[Msg] {
        self.net.link(from, to)
    }

    pub fn in_flight(&self) -> usize {
        self.net.len()
    }
}

/// currentEpoch every node starts with (a formed cluster's masters hold
/// configEpochs 1..=M), the greatest configEpoch at the start.
pub(crate) fn initial_epoch(cfg: &ModelCfg) -> Epoch {
    match cfg.start {
        Start::Strangers => 0,
        Start::Formed => cfg.masters,
    }
}

impl Node {
    fn initial(cfg: &ModelCfg, me: NodeIx, n: usize, shards: usize) -> Node {
        let formed = cfg.start == Start::Formed;
        // Masters hold configEpochs 1..=M; others see a replica with its master's.
        let own_epoch = |j: NodeIx| if formed && j < cfg.masters { j + 1 } else { 0 };
        let epoch_of = |j: NodeIx| own_epoch(cfg.initial_master(j).filter(|_| formed).unwrap_or(j));
        let peers = (0..n as NodeIx)
            .map(|j| Peer {
                known: formed && j != me,
                master: if formed { cfg.initial_master(j) } else { None },
                config_epoch: epoch_of(j),
                ..Peer::default()
            })
            .collect();
        let owners = (0..shards as Shard)
            .map(|s| (formed || s == me).then_some(s))
            .collect();
        Node {
            up: true,
            current_epoch: initial_epoch(cfg),
            last_vote_epoch: 0,
            durable_last_vote_epoch: 0,
            config_epoch: own_epoch(me),
            master: cfg.initial_master(me),
            owners,
            importing: ShardSet::EMPTY,
            unclaimed: ShardSet::EMPTY,
            peers,
            election: None,
            recently_voted: 0,
        }
    }

    /// The shards I claim: those I own, if I am a master.
    pub fn my_shards(&self, me: NodeIx) -> ShardSet {
        if self.master.is_some() {
            return ShardSet::EMPTY;
        }
        self.shards_of(me)
    }

    /// Whether no one claims `shard` in my view (`isSlotUnclaimed`).
    pub fn is_unclaimed(&self, shard: Shard) -> bool {
        self.owners[shard as usize].is_none() || self.unclaimed.contains(shard)
    }

    /// The shards `j` owns in my view (`j->slots`).
    pub fn shards_of(&self, j: NodeIx) -> ShardSet {
        self.owners
            .iter()
            .enumerate()
            .filter(|(_, o)| **o == Some(j))
            .map(|(s, _)| s as Shard)
            .collect()
    }

    /// configEpoch of `j` in my view (my own when `j` is me).
    pub fn epoch_of(&self, me: NodeIx, j: NodeIx) -> Epoch {
        if j == me {
            self.config_epoch
        } else {
            self.peers[j as usize].config_epoch
        }
    }

    /// Whether `j` is a master in my view.
    pub fn is_master(&self, me: NodeIx, j: NodeIx) -> bool {
        if j == me {
            self.master.is_none()
        } else {
            self.peers[j as usize].master.is_none()
        }
    }

    /// Masters owning slots in my view (`server.cluster->size`).
    pub fn cluster_size(&self) -> usize {
        let mut owners: Vec<NodeIx> = self.owners.iter().flatten().copied().collect();
        owners.sort_unstable();
        owners.dedup();
        owners.len()
    }

    /// Nodes I have in my table (real ids), excluding myself.
    pub fn known_peers(&self) -> impl Iterator<Item = NodeIx> + '_ {
        self.peers
            .iter()
            .enumerate()
            .filter(|(_, p)| p.known)
            .map(|(j, _)| j as NodeIx)
    }
}
