//! Reading a `clusterbus-observed` v1 trace (specified in `specs/traces.md`)
//! back from its JSON lines. Only the fields validation reads are typed;
//! anything else on a line is ignored, so the format may grow fields
//! without breaking the reader. A line that does not parse is an error
//! naming the line, never a panic.

use std::path::Path;

use serde::Deserialize;

/// The trace's first line.
#[derive(Clone, Debug, Deserialize)]
pub struct TraceHead {
    pub format: String,
    pub version: u32,
    pub server: String,
    pub scenario: String,
    pub node_timeout_ms: u64,
    #[serde(default)]
    pub seed: u64,
    pub nodes: Vec<NodeObs>,
    #[serde(default)]
    pub events_lost: u64,
    #[serde(default)]
    pub error: Option<String>,
}

/// One node of the run.
#[derive(Clone, Debug, Deserialize)]
pub struct NodeObs {
    pub index: usize,
    pub id: String,
}

/// A frame header as recorded.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
pub struct HeaderRead {
    pub sender_id: String,
    pub current_epoch: u64,
    pub config_epoch: u64,
    #[serde(default)]
    pub flags: Vec<String>,
    pub master_id: Option<String>,
    pub slots: Vec<[u16; 2]>,
    #[serde(default)]
    pub mflags: Vec<String>,
}

/// One gossip entry as recorded.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
pub struct GossipRead {
    pub id: String,
    pub flags: Vec<String>,
}

/// A frame body as recorded.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BodyRead {
    Gossip {
        gossip: Vec<GossipRead>,
    },
    Fail {
        id: String,
    },
    Update {
        id: String,
        config_epoch: u64,
        slots: Vec<[u16; 2]>,
    },
    Empty,
    Opaque {
        #[serde(default)]
        len: usize,
    },
}

/// One CLUSTER NODES line as recorded.
#[derive(Clone, Debug, Deserialize)]
pub struct LineRead {
    pub id: String,
    pub flags: Vec<String>,
    pub master: Option<String>,
    pub config_epoch: u64,
    pub slots: Vec<String>,
}

/// A node's recorded view.
#[derive(Clone, Debug, Deserialize)]
pub struct SnapshotRead {
    pub nodes: Vec<LineRead>,
    pub current_epoch: u64,
}

/// One event line; kinds validation does not read are `Other`.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "ev", rename_all = "snake_case")]
pub enum EventRead {
    Frame {
        t_us: u64,
        conn: u64,
        tap: usize,
        to: Option<usize>,
        #[serde(rename = "type")]
        msg_type: String,
        fate: String,
        header: Box<HeaderRead>,
        body: Box<BodyRead>,
    },
    Raw {
        error: String,
    },
    ConnOpen {},
    ConnClose {
        t_us: u64,
        tap: usize,
        from: Option<usize>,
    },
    Process {
        t_us: u64,
        node: usize,
        action: String,
    },
    Fault {},
    Snapshot {
        t_us: u64,
        node: usize,
        snapshot: SnapshotRead,
    },
    Note {
        text: String,
    },
}

/// A whole trace: its head, its events, and each event's line as written
/// (1-based line numbers are `index + 2`), kept for the failure report.
#[derive(Clone, Debug)]
pub struct ObservedTrace {
    pub head: TraceHead,
    pub events: Vec<EventRead>,
    pub lines: Vec<String>,
    pub head_line: String,
}

/// Parses a trace from its text.
pub fn parse(text: &str) -> Result<ObservedTrace, String> {
    let mut it = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, first) = it.next().ok_or("the trace is empty")?;
    let head: TraceHead =
        serde_json::from_str(first).map_err(|e| format!("line 1 (the trace's head): {e}"))?;
    if head.format != super::super::live::output::FORMAT
        || head.version != super::super::live::output::VERSION
    {
        return Err(format!(
            "line 1: format {:?} version {}, expected {:?} version {}",
            head.format,
            head.version,
            super::super::live::output::FORMAT,
            super::super::live::output::VERSION
        ));
    }
    let mut events = Vec::new();
    let mut lines = Vec::new();
    for (k, line) in it {
        let e: EventRead =
            serde_json::from_str(line).map_err(|e| format!("line {}: {e}", k + 1))?;
        events.push(e);
        lines.push(line.to_string());
    }
    Ok(ObservedTrace {
        head,
        events,
        lines,
        head_line: first.to_string(),
    })
}

/// Reads and parses the trace in `path`.
pub fn read(path: &Path) -> Result<ObservedTrace, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text)
}
