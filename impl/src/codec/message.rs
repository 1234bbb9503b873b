//! The Redis 7.0 cluster bus messages as Rust values.
//!
//! These types mirror `clusterMsg` and its payload union in Redis's
//! `src/cluster.h` (tag 7.0.15) field for field, so that a decoded frame can be
//! re-encoded to the identical bytes. Fixed-size byte arrays that Redis treats
//! as C strings (`myip`, gossip `ip`) are kept as raw arrays for that reason;
//! helpers give the string view.

/// Length of a node id: 40 lowercase hex characters (`CLUSTER_NAMELEN`).
pub const NODE_NAME_LEN: usize = 40;
/// Length of the IP fields (`NET_IP_STR_LEN`).
pub const NET_IP_STR_LEN: usize = 46;
/// Number of hash slots (`CLUSTER_SLOTS`).
pub const CLUSTER_SLOTS: usize = 16384;
/// Bytes of a slot bitmap.
pub const SLOT_BITMAP_LEN: usize = CLUSTER_SLOTS / 8;

/// Node flags as carried in headers and gossip entries (`CLUSTER_NODE_*`).
pub mod flags {
    /// A master (may own slots).
    pub const MASTER: u16 = 1;
    /// A replica (Redis calls it slave).
    pub const SLAVE: u16 = 2;
    /// Possibly failing: a ping timed out from the sender's point of view.
    pub const PFAIL: u16 = 4;
    /// Failed: agreed by a majority of slot-owning masters.
    pub const FAIL: u16 = 8;
    /// The line/entry describes the node printing it.
    pub const MYSELF: u16 = 16;
    /// Not yet confirmed by a first PONG.
    pub const HANDSHAKE: u16 = 32;
    /// Address unknown.
    pub const NOADDR: u16 = 64;
    /// Send MEET rather than PING on the first connection.
    pub const MEET: u16 = 128;
    /// Master eligible for replica migration.
    pub const MIGRATE_TO: u16 = 256;
    /// Replica that never starts a failover.
    pub const NOFAILOVER: u16 = 512;
}

/// Bits of `mflags[0]` (`CLUSTERMSG_FLAG0_*`).
pub mod mflags0 {
    /// Master paused for a manual failover; carries its offset.
    pub const PAUSED: u8 = 1;
    /// Grant the vote even if the master is not failing (manual failover).
    pub const FORCEACK: u8 = 2;
    /// Ping extensions follow the gossip section.
    pub const EXT_DATA: u8 = 4;
}

/// A 40-byte node name as it travels on the wire.
pub type NodeName = [u8; NODE_NAME_LEN];

/// The all-zero name Redis sends in `slaveof` for a master.
pub const NULL_NODE_NAME: NodeName = [0u8; NODE_NAME_LEN];

/// A slot bitmap: slot `j` is bit `j & 7` of byte `j >> 3`.
#[derive(Clone, PartialEq, Eq)]
pub struct SlotBitmap(pub Box<[u8; SLOT_BITMAP_LEN]>);

impl SlotBitmap {
    /// A bitmap with no slot set.
    pub fn empty() -> Self {
        SlotBitmap(Box::new([0u8; SLOT_BITMAP_LEN]))
    }
    /// Whether `slot` is set (false for slots beyond 16383).
    pub fn contains(&self, slot: u16) -> bool {
        let s = slot as usize;
        self.0.get(s >> 3).is_some_and(|b| b & (1 << (s & 7)) != 0)
    }
    /// Set `slot`; slots beyond 16383 are ignored rather than panicking.
    pub fn insert(&mut self, slot: u16) {
        let s = slot as usize;
        if let Some(b) = self.0.get_mut(s >> 3) {
            *b |= 1 << (s & 7);
        }
    }
    /// Clear `slot`; slots beyond 16383 are ignored.
    pub fn remove(&mut self, slot: u16) {
        let s = slot as usize;
        if let Some(b) = self.0.get_mut(s >> 3) {
            *b &= !(1 << (s & 7));
        }
    }
    /// How many slots are set.
    pub fn count(&self) -> usize {
        self.0.iter().map(|b| b.count_ones() as usize).sum()
    }
    /// Whether no slot is set.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|b| *b == 0)
    }
    /// The slots set in this bitmap, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        (0..CLUSTER_SLOTS as u16).filter(move |s| self.contains(*s))
    }
}

impl std::fmt::Debug for SlotBitmap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SlotBitmap({} slots)", self.count())
    }
}

/// Message types (`CLUSTERMSG_TYPE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum MessageType {
    /// Liveness probe carrying gossip; answered by PONG.
    Ping = 0,
    /// Answer to PING/MEET, also broadcast to spread a new configuration.
    Pong = 1,
    /// Like PING, but makes the receiver add the sender to its cluster.
    Meet = 2,
    /// Broadcast: a node is marked FAIL.
    Fail = 3,
    /// Pub/Sub message propagated over the bus.
    Publish = 4,
    /// A replica asks for a vote.
    FailoverAuthRequest = 5,
    /// A master grants a vote.
    FailoverAuthAck = 6,
    /// Tells a node its slot claim is stale.
    Update = 7,
    /// Starts a manual failover.
    MfStart = 8,
    /// Module-defined message.
    Module = 9,
    /// Sharded Pub/Sub message.
    PublishShard = 10,
}

/// The fixed header every bus message starts with (`clusterMsg` minus `data`).
/// `sig`, `totlen`, `ver` and `count` are derived by the encoder from the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Sender's client (TCP) port (`port`).
    pub port: u16,
    pub current_epoch: u64,
    pub config_epoch: u64,
    /// Replication offset (`offset`).
    pub offset: u64,
    pub sender: NodeName,
    pub myslots: SlotBitmap,
    /// Name of the sender's master, or all zeros (`slaveof`).
    pub slaveof: NodeName,
    /// Sender's announced IP, NUL-padded; all zeros means "use the peer address".
    pub myip: [u8; NET_IP_STR_LEN],
    /// `notused1[30]`, kept so re-encoding is byte-exact.
    pub notused1: [u8; 30],
    /// Sender's plaintext port when TLS is on (`pport`).
    pub pport: u16,
    /// Sender's bus port (`cport`).
    pub cport: u16,
    pub flags: u16,
    /// Sender's view of the cluster state: 0 ok, 1 fail (`state`).
    pub state: u8,
    pub mflags: [u8; 3],
}

/// One entry of a PING/PONG/MEET gossip section (`clusterMsgDataGossip`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GossipEntry {
    pub nodename: NodeName,
    /// Seconds (truncated ms/1000) of the last ping sent to that node.
    pub ping_sent: u32,
    /// Seconds of the last pong received from that node.
    pub pong_received: u32,
    pub ip: [u8; NET_IP_STR_LEN],
    pub port: u16,
    pub cport: u16,
    pub flags: u16,
    pub pport: u16,
    pub notused1: u16,
}

/// A ping extension (`clusterMsgPingExt`), after the gossip section when
/// `mflags[0] & EXT_DATA`. Redis 7.0 sends only the hostname (type 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PingExt {
    pub ext_type: u16,
    /// `unused` u16 after the type, kept for byte-exactness.
    pub unused: u16,
    /// The payload, including any NUL padding up to the 8-byte boundary.
    pub data: Vec<u8>,
}

/// The payload after the header, by type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// PING, PONG, MEET: gossip entries and ping extensions.
    Ping {
        gossip: Vec<GossipEntry>,
        extensions: Vec<PingExt>,
    },
    Pong {
        gossip: Vec<GossipEntry>,
        extensions: Vec<PingExt>,
    },
    Meet {
        gossip: Vec<GossipEntry>,
        extensions: Vec<PingExt>,
    },
    /// FAIL: the node that failed.
    Fail {
        nodename: NodeName,
    },
    /// PUBLISH / PUBLISHSHARD: channel and message bytes.
    Publish {
        channel: Vec<u8>,
        message: Vec<u8>,
    },
    PublishShard {
        channel: Vec<u8>,
        message: Vec<u8>,
    },
    /// A replica asks masters for their vote in the current epoch.
    FailoverAuthRequest,
    /// A master grants its vote.
    FailoverAuthAck,
    /// UPDATE: "node `nodename` owns `slots` with `config_epoch`".
    Update {
        config_epoch: u64,
        nodename: NodeName,
        slots: SlotBitmap,
    },
    /// A replica asks its master to start a manual failover.
    MfStart,
    /// MODULE: module id, type and payload.
    Module {
        module_id: u64,
        module_type: u8,
        payload: Vec<u8>,
    },
}

/// A whole cluster bus message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The fixed header: who sends, its epochs, slots and flags.
    pub header: Header,
    /// The type-specific payload.
    pub body: Body,
}

impl Body {
    /// The wire type this body is sent as.
    pub fn message_type(&self) -> MessageType {
        match self {
            Body::Ping { .. } => MessageType::Ping,
            Body::Pong { .. } => MessageType::Pong,
            Body::Meet { .. } => MessageType::Meet,
            Body::Fail { .. } => MessageType::Fail,
            Body::Publish { .. } => MessageType::Publish,
            Body::PublishShard { .. } => MessageType::PublishShard,
            Body::FailoverAuthRequest => MessageType::FailoverAuthRequest,
            Body::FailoverAuthAck => MessageType::FailoverAuthAck,
            Body::Update { .. } => MessageType::Update,
            Body::MfStart => MessageType::MfStart,
            Body::Module { .. } => MessageType::Module,
        }
    }
}
