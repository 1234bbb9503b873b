//! The bus tap: one listener per node, on the port the node announces as
//! its bus port. A peer's bus connection to node `i` lands here; the tap
//! opens its own connection to node `i`'s real bus port and pumps frames
//! both ways, byte for byte, decoding each with the node crate's codec and
//! asking the [`Rules`] what to do with it.
//!
//! Plain threads, not tokio: each direction is a blocking reader and a
//! blocking writer joined by a bounded queue, which is all a hold or a delay
//! needs, and the tap then runs the same in a test, in the CLI, and beside a
//! tokio node without sharing its runtime. Per node and peer that is four
//! threads; a 6-node cluster has about 30 connections.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::error::LiveError;
use super::observe::{Event, Recorder};
use super::pump::{self, Conn};
use super::rules::{Action, Nodes, Rule, RuleId, Rules};
use clusterbus_node::codec::MessageType;

/// How long the tap waits to connect on to a node's real bus port.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// How often an idle accept loop looks for a new connection or the stop flag.
const ACCEPT_POLL: Duration = Duration::from_millis(5);

/// What every connection's threads share.
pub struct Shared {
    pub rec: Recorder,
    pub rules: Mutex<Rules>,
    pub stop: AtomicBool,
    pub conns: Mutex<HashMap<u64, Arc<Conn>>>,
    next_conn: AtomicU64,
    /// Real bus ports, by node index.
    targets: Vec<u16>,
    /// Frames read from each node (attributed by the tap), by index.
    frames_from: Vec<AtomicU64>,
    /// Numbers the frames queued, on every connection.
    next_seq: AtomicU64,
}

impl Shared {
    /// The next frame's place in the order the tap reads them.
    pub(super) fn next_seq(&self) -> u64 {
        self.next_seq.fetch_add(1, Ordering::Relaxed)
    }

    pub(super) fn count_from(&self, i: usize) {
        if let Some(c) = self.frames_from.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A frame the tap holds (step mode).
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Clone, Debug)]
pub struct HeldFrame {
    /// The tap's connection, and its direction: 0 from the connector to
    /// the node whose tap it is, 1 back.
    pub conn: u64,
    pub dir: usize,
    /// Its place among its direction's queued frames.
    pub index: usize,
    /// The order the tap read it in, over every connection. Two frames one
    /// node sent to another on its two links to it were read in the order
    /// they were written, as far as two sockets tell.
    pub seq: u64,
    pub from: Option<usize>,
    pub to: Option<usize>,
    pub bytes: Vec<u8>,
}

#[cfg_attr(not(test), allow(dead_code))]
impl HeldFrame {
    /// Whether it reaches its receiver on the receiver's own outbound link
    /// (a reply, in Redis's terms: `!link->inbound`).
    pub fn on_receivers_outbound_link(&self) -> bool {
        self.dir == 1
    }
}

/// The tap of a whole cluster.
pub struct Tap {
    shared: Arc<Shared>,
    ports: Vec<u16>,
    threads: Vec<JoinHandle<()>>,
}

impl Tap {
    /// Listens on one free port per node; node `i`'s peers are forwarded to
    /// `127.0.0.1:targets[i]`.
    pub fn start(targets: Vec<u16>, rec: Recorder) -> Result<Tap, LiveError> {
        let shared = Arc::new(Shared {
            rec,
            rules: Mutex::new(Rules::default()),
            stop: AtomicBool::new(false),
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            frames_from: targets.iter().map(|_| AtomicU64::new(0)).collect(),
            next_seq: AtomicU64::new(0),
            targets: targets.clone(),
        });
        let mut ports = Vec::new();
        let mut threads = Vec::new();
        for i in 0..targets.len() {
            let l = TcpListener::bind("127.0.0.1:0")
                .map_err(|e| LiveError::io("bind a tap listener on 127.0.0.1", e))?;
            let port = l
                .local_addr()
                .map_err(|e| LiveError::io("read a tap listener's address", e))?
                .port();
            l.set_nonblocking(true)
                .map_err(|e| LiveError::io("make a tap listener non-blocking", e))?;
            ports.push(port);
            let s = shared.clone();
            threads.push(thread::spawn(move || accept_loop(i, l, s)));
        }
        Ok(Tap {
            shared,
            ports,
            threads,
        })
    }

    /// The port node `i` announces as its bus port.
    pub fn port(&self, i: usize) -> u16 {
        self.ports[i]
    }

    /// Adds a rule; it applies from the next frame on.
    pub fn add(&self, rule: Rule) -> RuleId {
        let detail = format!("{rule:?}");
        let verb = match rule.action {
            Action::Drop => "drop",
            Action::Hold => "hold",
            Action::Delay(_) => "delay",
        };
        let id = match self.shared.rules.lock() {
            Ok(mut r) => r.add(rule),
            Err(_) => 0,
        };
        self.fault(verb, format!("rule {id}: {detail}"));
        id
    }

    /// Holds frames from `from` to `to` until [`Tap::release`].
    pub fn hold(&self, from: Nodes, to: Nodes) -> RuleId {
        self.add(Rule {
            from,
            to,
            types: vec![],
            action: Action::Hold,
        })
    }

    /// Drops frames from `from` to `to` of `types` (all when empty).
    pub fn drop_frames(&self, from: Nodes, to: Nodes, types: Vec<MessageType>) -> RuleId {
        self.add(Rule {
            from,
            to,
            types,
            action: Action::Drop,
        })
    }

    /// Delays frames from `from` to `to` by `by`.
    pub fn delay(&self, from: Nodes, to: Nodes, by: Duration) -> RuleId {
        self.add(Rule {
            from,
            to,
            types: vec![],
            action: Action::Delay(by),
        })
    }

    /// Removes a rule; frames it holds go on, in order per connection.
    pub fn release(&self, id: RuleId) {
        if let Ok(mut r) = self.shared.rules.lock() {
            r.remove(id);
        }
        for c in self.connections() {
            c.release(id);
        }
        self.fault("release", format!("rule {id}"));
    }

    /// Closes both sides of every connection between `a` and `b` (either
    /// way round); returns how many.
    pub fn cut(&self, a: Nodes, b: Nodes) -> usize {
        let mut n = 0;
        for c in self.connections() {
            let (x, y) = (Some(c.tap), c.peer());
            if (a.contains(x) && b.contains(y)) || (a.contains(y) && b.contains(x)) {
                c.cut();
                n += 1;
            }
        }
        self.fault("cut", format!("{a:?} from {b:?}: {n} connections"));
        n
    }

    /// Cuts `set` off from the other `n` nodes: drops every frame between
    /// the two sides and closes their connections. Heal with [`Tap::heal`].
    pub fn partition(&self, set: Nodes, n: usize) -> Vec<RuleId> {
        let rest = set.complement(n);
        self.fault("partition", format!("{set:?} from {rest:?}"));
        let ids = vec![
            self.drop_frames(set, rest, vec![]),
            self.drop_frames(rest, set, vec![]),
        ];
        self.cut(set, rest);
        ids
    }

    /// Removes a partition's rules.
    pub fn heal(&self, ids: &[RuleId]) {
        self.fault("heal", format!("rules {ids:?}"));
        for id in ids {
            self.release(*id);
        }
    }

    fn fault(&self, verb: &str, detail: String) {
        let verb = verb.to_string();
        self.shared
            .rec
            .record(|t_us| Event::Fault { t_us, verb, detail });
    }

    fn connections(&self) -> Vec<Arc<Conn>> {
        match self.shared.conns.lock() {
            Ok(c) => c.values().cloned().collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// Step mode, for the live replay (`stepper`): until the replayer drives
/// live processes, only the stepper's tests use it.
#[cfg_attr(not(test), allow(dead_code))]
impl Tap {
    /// Step mode: every frame from now on is held until
    /// [`Tap::release_frame`] lets it go, one at a time.
    pub fn hold_everything(&self) -> RuleId {
        self.hold(Nodes::ALL, Nodes::ALL)
    }

    /// Every frame held now, in the order the tap read them.
    pub fn held_frames(&self) -> Vec<HeldFrame> {
        let mut out = Vec::new();
        for c in self.connections() {
            for (dir, index, seq, bytes) in c.held() {
                let (from, to) = match dir {
                    0 => (c.peer(), Some(c.tap)),
                    _ => (Some(c.tap), c.peer()),
                };
                out.push(HeldFrame {
                    conn: c.id,
                    dir,
                    index,
                    seq,
                    from,
                    to,
                    bytes,
                });
            }
        }
        out.sort_by_key(|f| f.seq);
        out
    }

    /// Lets one held frame go (see [`pump::Conn::release_frame`]).
    pub fn release_frame(&self, f: &HeldFrame) -> Result<(), String> {
        let (conn, dir, index) = (f.conn, f.dir, f.index);
        let c = self
            .connections()
            .into_iter()
            .find(|c| c.id == conn)
            .ok_or_else(|| format!("the tap has no connection {conn}"))?;
        match c.release_frame(dir, index, f.seq) {
            true => Ok(()),
            false => Err(format!(
                "connection {conn} holds no frame {index} in direction {dir}"
            )),
        }
    }

    /// Frames the tap has read from node `i` since it started.
    pub fn frames_from(&self, i: usize) -> u64 {
        self.shared
            .frames_from
            .get(i)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        for c in self.connections() {
            c.cut();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn accept_loop(i: usize, l: TcpListener, s: Arc<Shared>) {
    while !s.stop.load(Ordering::Relaxed) {
        match l.accept() {
            Ok((client, _)) => open(i, client, &s),
            Err(e) if e.kind() == ErrorKind::WouldBlock => thread::sleep(ACCEPT_POLL),
            Err(_) => thread::sleep(ACCEPT_POLL),
        }
    }
}

/// A peer connected to node `i`'s tap: connect on, and start the pumps.
fn open(i: usize, client: TcpStream, s: &Arc<Shared>) {
    let id = s.next_conn.fetch_add(1, Ordering::Relaxed);
    s.rec.record(|t_us| Event::ConnOpen {
        t_us,
        conn: id,
        tap: i,
    });
    let target = std::net::SocketAddr::from(([127, 0, 0, 1], s.targets[i]));
    let server = match TcpStream::connect_timeout(&target, CONNECT_TIMEOUT) {
        Ok(server) => server,
        Err(e) => {
            let _ = client.shutdown(Shutdown::Both);
            s.rec.record(|t_us| Event::ConnClose {
                t_us,
                conn: id,
                tap: i,
                from: None,
                bytes_in: 0,
                bytes_out: 0,
                reason: format!("node {i}'s bus port: {e}"),
            });
            return;
        }
    };
    let _ = client.set_nonblocking(false);
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    match Conn::new(id, i, client, server) {
        Ok(conn) => {
            let conn = Arc::new(conn);
            if let Ok(mut m) = s.conns.lock() {
                m.insert(id, conn.clone());
            }
            pump::spawn(conn, s.clone());
        }
        Err(e) => s.rec.note(format!("conn {id}: {e}")),
    }
}
