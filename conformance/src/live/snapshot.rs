//! Every node's own view, polled: CLUSTER NODES, CLUSTER INFO and INFO
//! replication, parsed down to the fields that say who is who (timestamps
//! and message counters are left out, so two polls of a quiet cluster are
//! equal). The poller records a snapshot when it differs from the node's
//! last one; after a fault the driver records one of every node regardless.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serde::Serialize;

use super::observe::{Event, Recorder};
use super::resp;

/// How often every node is asked (the 100 ms).
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// One line of CLUSTER NODES, without ping/pong times.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeLine {
    pub id: String,
    pub addr: String,
    pub flags: Vec<String>,
    pub master: Option<String>,
    pub config_epoch: u64,
    pub link: String,
    /// Slot fields as printed (`0-5460`, `[..]` for migrations).
    pub slots: Vec<String>,
}

/// A node's view at one time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    pub nodes: Vec<NodeLine>,
    pub cluster_state: String,
    pub current_epoch: u64,
    pub my_epoch: u64,
    pub known_nodes: u64,
    pub size: u64,
    pub role: String,
    pub master_port: Option<u16>,
    pub master_link_status: Option<String>,
    pub connected_slaves: u64,
}

impl Snapshot {
    /// The line the node prints about itself.
    pub fn myself(&self) -> Option<&NodeLine> {
        self.nodes
            .iter()
            .find(|n| n.flags.iter().any(|f| f == "myself"))
    }
}

/// Parses CLUSTER NODES text.
pub fn parse_nodes(text: &str) -> Vec<NodeLine> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 8 {
                return None;
            }
            Some(NodeLine {
                id: f[0].to_string(),
                addr: f[1].to_string(),
                flags: f[2].split(',').map(str::to_string).collect(),
                master: (f[3] != "-").then(|| f[3].to_string()),
                config_epoch: f[6].parse().unwrap_or(0),
                link: f[7].to_string(),
                slots: f[8..].iter().map(|s| s.to_string()).collect(),
            })
        })
        .collect()
}

/// A slot field of a CLUSTER NODES line, `a-b` or `a`, as an inclusive
/// range; `None` for an open slot (`[slot->-id]`, `[slot-<-id]`).
pub fn slot_field_range(field: &str) -> Option<[u16; 2]> {
    match field.split_once('-') {
        Some((a, b)) => Some([a.parse().ok()?, b.parse().ok()?]),
        None => {
            let a = field.parse().ok()?;
            Some([a, a])
        }
    }
}

/// The value of `key:` in an INFO-style text.
pub fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .filter_map(|l| l.trim_end().split_once(':'))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

fn num(text: &str, key: &str) -> u64 {
    field(text, key).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// Asks the node on `port` for its view; `Err` when it does not answer
/// (down, stopped, busy).
pub fn take(port: u16) -> Result<Snapshot, String> {
    let nodes = resp::text(port, &["CLUSTER", "NODES"])?;
    let info = resp::text(port, &["CLUSTER", "INFO"])?;
    let repl = resp::text(port, &["INFO", "replication"])?;
    Ok(Snapshot {
        nodes: parse_nodes(&nodes),
        cluster_state: field(&info, "cluster_state").unwrap_or("").to_string(),
        current_epoch: num(&info, "cluster_current_epoch"),
        my_epoch: num(&info, "cluster_my_epoch"),
        known_nodes: num(&info, "cluster_known_nodes"),
        size: num(&info, "cluster_size"),
        role: field(&repl, "role").unwrap_or("").to_string(),
        master_port: field(&repl, "master_port").and_then(|v| v.parse().ok()),
        master_link_status: field(&repl, "master_link_status").map(str::to_string),
        connected_slaves: num(&repl, "connected_slaves"),
    })
}

/// The poller: one thread asking every node in turn.
pub struct Poller {
    stop: Arc<AtomicBool>,
    /// Nodes not to ask: a SIGSTOPped node would hold every poll for the
    /// whole reply timeout, and the other nodes' snapshots would come late.
    skip: Arc<Vec<AtomicBool>>,
    last: Arc<Mutex<Vec<Option<Snapshot>>>>,
    ports: Vec<u16>,
    rec: Recorder,
    thread: Option<JoinHandle<()>>,
}

impl Poller {
    /// Starts polling the nodes on `ports` (client ports, by node index).
    pub fn start(ports: Vec<u16>, rec: Recorder) -> Poller {
        let stop = Arc::new(AtomicBool::new(false));
        let last = Arc::new(Mutex::new(vec![None; ports.len()]));
        let skip: Arc<Vec<AtomicBool>> =
            Arc::new(ports.iter().map(|_| AtomicBool::new(false)).collect());
        let (s, l, p, r, k) = (
            stop.clone(),
            last.clone(),
            ports.clone(),
            rec.clone(),
            skip.clone(),
        );
        let thread = thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                poll_all(&p, &r, &l, &k, false);
                thread::sleep(POLL_INTERVAL);
            }
        });
        Poller {
            stop,
            skip,
            last,
            ports,
            rec,
            thread: Some(thread),
        }
    }

    /// Records a snapshot of every node that answers, changed or not.
    pub fn record_all(&self) {
        poll_all(&self.ports, &self.rec, &self.last, &self.skip, true);
    }

    /// Stops (`true`) or resumes asking node `i`.
    pub fn skip(&self, i: usize, skip: bool) {
        if let Some(flag) = self.skip.get(i) {
            flag.store(skip, Ordering::Relaxed);
        }
    }
}

fn poll_all(
    ports: &[u16],
    rec: &Recorder,
    last: &Mutex<Vec<Option<Snapshot>>>,
    skip: &[AtomicBool],
    force: bool,
) {
    for (i, port) in ports.iter().enumerate() {
        if skip.get(i).is_some_and(|k| k.load(Ordering::Relaxed)) {
            continue;
        }
        let Ok(snap) = take(*port) else { continue };
        let Ok(mut last) = last.lock() else { return };
        let changed = last.get(i).and_then(Option::as_ref) != Some(&snap);
        if changed || force {
            let s = snap.clone();
            rec.record(|t_us| Event::Snapshot {
                t_us,
                node: i,
                snapshot: s,
            });
        }
        if let Some(slot) = last.get_mut(i) {
            *slot = Some(snap);
        }
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
