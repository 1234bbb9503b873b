//! What a live run observes, in time order: every frame the tap sees (decoded
//! with the node crate's codec, or raw when it does not decode), connection
//! opens and closes, process events, faults, and snapshots of every node's
//! own view. One [`Recorder`] takes them all under one lock, so the order of
//! the log is the order of the timestamps.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use clusterbus_node::codec::{flags, mflags0, Body, Header, Message, MessageType, NodeName};
use clusterbus_node::config::FLAG_NAMES;
use clusterbus_node::slots::bitmap_to_ranges;
use serde::Serialize;

/// Most events one run keeps; beyond this they are counted, not stored, so
/// a runaway run cannot eat the machine's memory.
pub const MAX_EVENTS: usize = 500_000;

/// What happened to a frame at the tap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    Forwarded,
    Dropped,
    /// Held by a rule, forwarded later on release (or never, if the
    /// connection closed first).
    Held,
    Delayed,
}

/// Header fields of a frame, with ids turned into node indices where known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HeaderObs {
    pub sender_id: String,
    pub current_epoch: u64,
    pub config_epoch: u64,
    pub offset: u64,
    pub flags: Vec<&'static str>,
    /// The sender's master: node index, or null.
    pub master: Option<usize>,
    pub master_id: Option<String>,
    /// Claimed slots as inclusive ranges.
    pub slots: Vec<[u16; 2]>,
    /// `state`: 0 ok, 1 fail.
    pub state: u8,
    pub mflags: Vec<&'static str>,
    pub port: u16,
    pub cport: u16,
}

/// One gossip entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GossipObs {
    pub node: Option<usize>,
    pub id: String,
    pub flags: Vec<&'static str>,
    pub ping_sent: u32,
    pub pong_received: u32,
    pub port: u16,
    pub cport: u16,
}

/// The payload of a frame, by type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BodyObs {
    Gossip {
        gossip: Vec<GossipObs>,
        extensions: usize,
    },
    Fail {
        node: Option<usize>,
        id: String,
    },
    Update {
        node: Option<usize>,
        id: String,
        config_epoch: u64,
        slots: Vec<[u16; 2]>,
    },
    /// AUTH_REQUEST, AUTH_ACK, MFSTART: everything is in the header.
    Empty,
    /// PUBLISH, MODULE: only the length is kept.
    Opaque {
        len: usize,
    },
}

/// One observation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "ev", rename_all = "snake_case")]
pub enum Event {
    /// A decoded frame. `from`/`to` are node indices (null when the peer
    /// is not yet known); `tap` is the node whose tap carried it.
    Frame {
        t_us: u64,
        conn: u64,
        tap: usize,
        from: Option<usize>,
        to: Option<usize>,
        #[serde(rename = "type")]
        msg_type: &'static str,
        len: usize,
        fate: Fate,
        header: HeaderObs,
        body: BodyObs,
    },
    /// Bytes that do not decode, forwarded unchanged.
    Raw {
        t_us: u64,
        conn: u64,
        tap: usize,
        from: Option<usize>,
        to: Option<usize>,
        len: usize,
        error: String,
        hex: String,
    },
    /// A peer connected to a tap, which connected on to the node.
    ConnOpen { t_us: u64, conn: u64, tap: usize },
    /// A connection closed; bytes carried in each direction (in = to the node).
    ConnClose {
        t_us: u64,
        conn: u64,
        tap: usize,
        from: Option<usize>,
        bytes_in: u64,
        bytes_out: u64,
        reason: String,
    },
    /// start, kill, stop, cont, term, restart.
    Process {
        t_us: u64,
        node: usize,
        action: &'static str,
        pid: Option<u32>,
    },
    /// A tap verb: hold, release, drop, delay, cut, partition, heal.
    Fault {
        t_us: u64,
        verb: String,
        detail: String,
    },
    /// A node's own view (see `snapshot.rs`).
    Snapshot {
        t_us: u64,
        node: usize,
        snapshot: super::snapshot::Snapshot,
    },
    /// A scenario step reached (for people reading the trace).
    Note { t_us: u64, text: String },
}

impl Event {
    /// The event's time, microseconds since the run started.
    #[cfg(test)]
    pub fn t_us(&self) -> u64 {
        match self {
            Event::Frame { t_us, .. }
            | Event::Raw { t_us, .. }
            | Event::ConnOpen { t_us, .. }
            | Event::ConnClose { t_us, .. }
            | Event::Process { t_us, .. }
            | Event::Fault { t_us, .. }
            | Event::Snapshot { t_us, .. }
            | Event::Note { t_us, .. } => *t_us,
        }
    }
}

struct Log {
    events: Vec<Event>,
    lost: u64,
}

/// The run's log and node ids, shared by the tap, the poller and the driver.
#[derive(Clone)]
pub struct Recorder {
    start: Instant,
    log: Arc<Mutex<Log>>,
    ids: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    /// An empty log whose clock starts now, for `nodes` nodes.
    pub fn new(nodes: usize) -> Recorder {
        Recorder {
            start: Instant::now(),
            log: Arc::new(Mutex::new(Log {
                events: Vec::new(),
                lost: 0,
            })),
            ids: Arc::new(Mutex::new(vec![String::new(); nodes])),
        }
    }

    /// Records an event built from the current time, under the log's lock.
    pub fn record(&self, make: impl FnOnce(u64) -> Event) {
        let Ok(mut log) = self.log.lock() else {
            return;
        };
        let t = self.start.elapsed().as_micros() as u64;
        if log.events.len() < MAX_EVENTS {
            log.events.push(make(t));
        } else {
            log.lost += 1;
        }
    }

    /// A note in the log.
    pub fn note(&self, text: impl Into<String>) {
        let text = text.into();
        self.record(|t_us| Event::Note { t_us, text });
    }

    /// Microseconds since the run started.
    pub fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    /// A copy of the events so far, and how many were not kept.
    pub fn events(&self) -> (Vec<Event>, u64) {
        match self.log.lock() {
            Ok(log) => (log.events.clone(), log.lost),
            Err(_) => (Vec::new(), 0),
        }
    }

    /// Calls `f` on every event so far without copying the log.
    pub fn scan<T>(&self, f: impl FnOnce(&[Event]) -> T) -> Option<T> {
        self.log.lock().ok().map(|log| f(&log.events))
    }

    /// Sets node `i`'s id (from CLUSTER MYID).
    pub fn set_id(&self, i: usize, id: String) {
        if let Ok(mut ids) = self.ids.lock() {
            if let Some(slot) = ids.get_mut(i) {
                *slot = id;
            }
        }
    }

    /// Node ids by index.
    pub fn ids(&self) -> Vec<String> {
        self.ids.lock().map(|ids| ids.clone()).unwrap_or_default()
    }

    /// The index of the node with wire name `name`.
    pub fn index_of(&self, name: &NodeName) -> Option<usize> {
        let text = name_text(name);
        let ids = self.ids.lock().ok()?;
        ids.iter().position(|id| !id.is_empty() && *id == text)
    }
}

/// A wire name as text (ids are ASCII hex).
pub fn name_text(name: &NodeName) -> String {
    String::from_utf8_lossy(name)
        .trim_end_matches('\0')
        .to_string()
}

/// Bits Redis never prints in CLUSTER NODES but may send on the wire.
const WIRE_ONLY_FLAGS: [(u16, &str); 2] =
    [(flags::MEET, "meet"), (flags::MIGRATE_TO, "migrate_to")];

/// Node flag names as CLUSTER NODES spells them (the node crate's table;
/// PFAIL is `fail?`), plus `meet` and `migrate_to`.
pub fn flag_names(bits: u16) -> Vec<&'static str> {
    FLAG_NAMES
        .iter()
        .chain(WIRE_ONLY_FLAGS.iter())
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| *n)
        .collect()
}

fn mflag_names(m: [u8; 3]) -> Vec<&'static str> {
    [
        (mflags0::PAUSED, "paused"),
        (mflags0::FORCEACK, "forceack"),
        (mflags0::EXT_DATA, "ext_data"),
    ]
    .iter()
    .filter(|(b, _)| m[0] & b != 0)
    .map(|(_, n)| *n)
    .collect()
}

/// The wire type's name as Redis logs it.
pub fn type_name(t: MessageType) -> &'static str {
    match t {
        MessageType::Ping => "PING",
        MessageType::Pong => "PONG",
        MessageType::Meet => "MEET",
        MessageType::Fail => "FAIL",
        MessageType::Publish => "PUBLISH",
        MessageType::FailoverAuthRequest => "AUTH_REQUEST",
        MessageType::FailoverAuthAck => "AUTH_ACK",
        MessageType::Update => "UPDATE",
        MessageType::MfStart => "MFSTART",
        MessageType::Module => "MODULE",
        MessageType::PublishShard => "PUBLISHSHARD",
    }
}

fn ranges(bitmap: &clusterbus_node::codec::SlotBitmap) -> Vec<[u16; 2]> {
    bitmap_to_ranges(bitmap)
        .iter()
        .map(|r| [r.start, r.end])
        .collect()
}

/// The header as observed, ids resolved by `rec`.
pub fn header_obs(h: &Header, rec: &Recorder) -> HeaderObs {
    let is_replica = h.slaveof.iter().any(|b| *b != 0);
    HeaderObs {
        sender_id: name_text(&h.sender),
        current_epoch: h.current_epoch,
        config_epoch: h.config_epoch,
        offset: h.offset,
        flags: flag_names(h.flags),
        master: if is_replica {
            rec.index_of(&h.slaveof)
        } else {
            None
        },
        master_id: is_replica.then(|| name_text(&h.slaveof)),
        slots: ranges(&h.myslots),
        state: h.state,
        mflags: mflag_names(h.mflags),
        port: h.port,
        cport: h.cport,
    }
}

/// The body as observed.
pub fn body_obs(m: &Message, len: usize, rec: &Recorder) -> BodyObs {
    match &m.body {
        Body::Ping { gossip, extensions }
        | Body::Pong { gossip, extensions }
        | Body::Meet { gossip, extensions } => BodyObs::Gossip {
            gossip: gossip
                .iter()
                .map(|g| GossipObs {
                    node: rec.index_of(&g.nodename),
                    id: name_text(&g.nodename),
                    flags: flag_names(g.flags),
                    ping_sent: g.ping_sent,
                    pong_received: g.pong_received,
                    port: g.port,
                    cport: g.cport,
                })
                .collect(),
            extensions: extensions.len(),
        },
        Body::Fail { nodename } => BodyObs::Fail {
            node: rec.index_of(nodename),
            id: name_text(nodename),
        },
        Body::Update {
            config_epoch,
            nodename,
            slots,
        } => BodyObs::Update {
            node: rec.index_of(nodename),
            id: name_text(nodename),
            config_epoch: *config_epoch,
            slots: ranges(slots),
        },
        Body::FailoverAuthRequest | Body::FailoverAuthAck | Body::MfStart => BodyObs::Empty,
        _ => BodyObs::Opaque { len },
    }
}
