//! Inputs of the core: messages, commands and timer expiries. Every choice
//! Redis makes at random travels inside an event, so that a run is fully
//! determined by its events.

use serde::{Deserialize, Serialize};

use super::snapshot::{name, name_list};
use crate::codec::{Message, NodeName};

/// One end of a bus connection, as the core names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LinkId {
    /// My outbound link to the node of that (current) name in my table.
    Outbound(NodeName),
    /// A connection a peer opened to me; the number is the runtime's.
    Inbound(u64),
}

/// How the gossip section of a message the core sends in reaction to an
/// event is chosen. Redis picks random nodes; the caller decides.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GossipChoice {
    /// Pick `gossip_wanted()` candidates with a pseudo-random walk seeded here
    /// (a deterministic function of the seed and the table).
    Seed(u64),
    /// Use exactly these nodes (those that are not candidates are skipped,
    /// and at most `gossip_wanted()` are used).
    Explicit(#[serde(with = "name_list")] Vec<NodeName>),
}

impl Default for GossipChoice {
    fn default() -> Self {
        GossipChoice::Seed(0)
    }
}

/// Which kind of manual failover `CLUSTER FAILOVER` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailoverMode {
    /// Coordinate with the master (MFSTART, wait for its offset).
    Default,
    /// Start an election without the master's agreement.
    Force,
    /// Bump the config epoch without consensus and take the slots.
    Takeover,
}

/// The CLUSTER subcommands that change or read protocol state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClusterCommand {
    /// CLUSTER MEET; `handshake_id` is the random name of the handshake node.
    Meet {
        ip: String,
        port: u16,
        cport: u16,
        #[serde(with = "name")]
        handshake_id: NodeName,
    },
    /// CLUSTER ADDSLOTS.
    AddSlots(Vec<u16>),
    /// CLUSTER DELSLOTS.
    DelSlots(Vec<u16>),
    /// `CLUSTER REPLICATE <id>`.
    Replicate(#[serde(with = "name")] NodeName),
    /// CLUSTER FAILOVER [FORCE|TAKEOVER].
    Failover { mode: FailoverMode },
    /// CLUSTER SET-CONFIG-EPOCH.
    SetConfigEpoch(u64),
    /// CLUSTER BUMPEPOCH.
    BumpEpoch,
    /// `CLUSTER FORGET <id>`.
    Forget(#[serde(with = "name")] NodeName),
    /// CLUSTER RESET (hard when `hard`); `new_id` is the new random name
    /// used by a hard reset.
    Reset {
        hard: bool,
        #[serde(with = "name")]
        new_id: NodeName,
    },
    /// `CLUSTER COUNT-FAILURE-REPORTS <id>`.
    CountFailureReports(#[serde(with = "name")] NodeName),
    /// `CLUSTER SETSLOT <slot> MIGRATING|IMPORTING|STABLE|NODE`.
    /// `keys_in_slot` is how many keys I hold in the slot; `entropy` seeds
    /// the gossip of the PONGs a finished import broadcasts.
    SetSlot {
        slot: u16,
        action: super::migration::SetSlot,
        keys_in_slot: u64,
        entropy: u64,
    },
}

/// Everything that can happen to a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)] // a Deliver is the common case; boxing it would cost an allocation each
pub enum Event {
    /// A decoded message arrived on `link`. `gossip` chooses the gossip of
    /// any PING/PONG sent in reaction; `entropy` names a node created by an
    /// inbound MEET. When `msg.header.myip` is empty (a Redis node without
    /// `cluster-announce-ip`), the runtime fills in the peer's address before
    /// handing the message over, as Redis's `nodeIp2String` does.
    #[serde(skip)]
    Deliver {
        link: LinkId,
        msg: Message,
        gossip: GossipChoice,
        entropy: u64,
    },
    /// A CLUSTER command from a client; answered with a `Reply` effect.
    Command(ClusterCommand),
    /// Time to ping `peer` (cron: oldest pong of the sample, or pong older
    /// than NT/2); `gossip` are the nodes to describe.
    PingDue {
        #[serde(with = "name")]
        peer: NodeName,
        #[serde(with = "name_list")]
        gossip: Vec<NodeName>,
    },
    /// A ping to `peer` has been outstanding for longer than NT: PFAIL.
    NodeTimeout(#[serde(with = "name")] NodeName),
    /// The failure report from `reporter` about `about` is older than 2·NT.
    ReportExpired {
        #[serde(with = "name")]
        about: NodeName,
        #[serde(with = "name")]
        reporter: NodeName,
    },
    /// My master is FAIL and no election is planned: plan one, `jitter_ms`
    /// (0..500) being Redis's `random() % 500`.
    ScheduleElection { jitter_ms: u64 },
    /// The planned election start time has come.
    ElectionDue,
    /// The election has been running for the auth timeout without a win.
    AuthTimeout,
    /// The manual failover deadline (`mf_end`) has passed.
    ManualFailoverTimeout,
    /// A handshake node has lived longer than the handshake timeout.
    HandshakeTimeout(#[serde(with = "name")] NodeName),
    /// A node without a link: open one (cron reconnect).
    Reconnect(#[serde(with = "name")] NodeName),
    /// My link to `peer` is old, a ping is outstanding and nothing came for
    /// NT/2: drop it so that it gets reopened.
    LinkStale(#[serde(with = "name")] NodeName),
    /// My outbound link to `peer` is connected; `gossip` for the first PING/MEET.
    LinkUp {
        #[serde(with = "name")]
        peer: NodeName,
        gossip: GossipChoice,
    },
    /// My outbound link to `peer` failed or closed.
    LinkDown(#[serde(with = "name")] NodeName),
    /// A connection a peer opened to me closed.
    InboundClosed(u64),
}
