//! Live nodes moved one step at a time: clusterbus-node processes in their
//! testing mode (`--cluster-test-control yes`), behind a tap that holds
//! every bus frame. A step is one core event injected into one node, or one
//! held frame let through to its receiver; either returns once the node has
//! carried out every effect (nodes.conf synced, frames written) and the tap
//! has read every frame it wrote. Between steps nothing moves: the nodes'
//! clocks and timers stand still and every frame waits in the tap.
//!
//! These are the verbs a model trace needs of live processes; the state
//! read back after each step is the node's whole core, as the in-process
//! replay holds it.

use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use clusterbus_node::codec::{self, Message};
use clusterbus_node::core::{Core, Event};

use super::error::LiveError;
use super::observe::Recorder;
use super::procs::{free_ports, Kind, NodeProc, NodeSpec};
use super::resp::{self, Reply};
use super::tap::{HeldFrame, Tap};

/// Longest one step may take: the node's own bound on writing its effects
/// (`test_control::WRITE_TIMEOUT`, 5 s) and some.
const STEP_LIMIT: Duration = Duration::from_secs(7);
/// How long the tap may take to read what a node wrote.
const TAP_LIMIT: Duration = Duration::from_secs(2);

/// A frame in flight, decoded.
#[derive(Clone, Debug)]
pub struct InFlight {
    pub held: HeldFrame,
    pub msg: Message,
}

/// N live nodes and their tap, in step mode.
pub struct Stepper {
    tap: Tap,
    nodes: Vec<NodeProc>,
    ids: Vec<String>,
    /// The core each node answered with after its last step (`None` while
    /// its process is down).
    cores: Vec<Option<Core>>,
    clocks: Vec<u64>,
    /// Frames the tap had read from each node when its process started.
    read_before: Vec<u64>,
    /// Frames let through to each node since its process started.
    released: Vec<u64>,
    /// Frames each node's process says it has written.
    written: Vec<u64>,
}

impl Stepper {
    /// Starts `n` nodes under `root`, every clock at `clock_ms`, with the
    /// tap holding every frame.
    pub fn start(
        n: usize,
        root: &Path,
        node_timeout_ms: u64,
        clock_ms: u64,
    ) -> Result<Stepper, LiveError> {
        let ports = free_ports(2 * n)?;
        let rec = Recorder::new(n);
        let bus: Vec<u16> = (0..n).map(|i| ports[2 * i + 1]).collect();
        let tap = Tap::start(bus.clone(), rec.clone())?;
        tap.hold_everything();
        let mut s = Stepper {
            tap,
            nodes: Vec::new(),
            ids: Vec::new(),
            cores: vec![None; n],
            clocks: vec![clock_ms; n],
            read_before: vec![0; n],
            released: vec![0; n],
            written: vec![0; n],
        };
        for i in 0..n {
            let spec = NodeSpec {
                kind: Kind::Clusterbus,
                dir: root.join(format!("node-{i}")),
                port: ports[2 * i],
                bus_port: bus[i],
                tap_port: s.tap.port(i),
                node_timeout_ms,
                test_clock_ms: Some(clock_ms),
            };
            s.nodes.push(NodeProc::start(spec)?);
            s.refresh(i)
                .map_err(|problem| LiveError::Node { node: i, problem })?;
            let id = s.cores[i]
                .as_ref()
                .map(|c| clusterbus_node::core::name_str(&c.id()));
            let id = id.unwrap_or_default();
            rec.set_id(i, id.clone());
            s.ids.push(id);
        }
        Ok(s)
    }

    /// Node `i`'s id.
    pub fn id(&self, i: usize) -> &str {
        &self.ids[i]
    }

    /// Node `i`'s client port.
    pub fn port(&self, i: usize) -> u16 {
        self.nodes[i].spec.port
    }

    /// The bus port node `i` announces (its tap's).
    pub fn bus_port(&self, i: usize) -> u16 {
        self.tap.port(i)
    }

    /// Reads node `i`'s state now, between steps.
    pub fn read(&mut self, i: usize) -> Result<(), String> {
        self.refresh(i)
    }

    /// Node `i`'s core as of its last step; `None` while it is down.
    pub fn core(&self, i: usize) -> Option<&Core> {
        self.cores[i].as_ref()
    }

    /// Node `i`'s clock.
    pub fn clock(&self, i: usize) -> u64 {
        self.clocks[i]
    }

    /// Moves node `i`'s clock forward to `ms` (never back); the node sees
    /// it with its next step.
    pub fn advance(&mut self, i: usize, ms: u64) {
        self.clocks[i] = self.clocks[i].max(ms);
    }

    /// Hands `event` to node `i` at its clock; returns the node's reply
    /// (the core's reply to a command, else `OK`).
    pub fn event(&mut self, i: usize, event: &Event) -> Result<String, String> {
        let json = event
            .to_json()
            .ok_or("a delivery is a frame let through, not an event")?;
        self.command(
            i,
            &["CLUSTERBUS.TEST", "CLOCK", &self.clocks[i].to_string()],
        )?;
        let reply = self.command(i, &["CLUSTERBUS.TEST", "EVENT", &json])?;
        self.after_step(i)?;
        Ok(reply)
    }

    /// Every frame in flight from `from` to `to`, in the order the tap read
    /// them (on one connection, the order they were sent).
    pub fn in_flight(&self, from: usize, to: usize) -> Vec<InFlight> {
        self.tap
            .held_frames()
            .into_iter()
            .filter(|h| h.from == Some(from) && h.to == Some(to))
            .filter_map(|held| {
                let msg = codec::decode(&held.bytes).ok()?;
                Some(InFlight { held, msg })
            })
            .collect()
    }

    /// Lets `frame` through to its receiver, and waits until the receiver
    /// has handled it and written what it caused.
    pub fn deliver(&mut self, frame: &HeldFrame) -> Result<(), String> {
        let to = frame.to.ok_or("a frame to an unknown node")?;
        // The receiver handles it at the stepper's clock.
        self.clock_to(to)?;
        self.tap.release_frame(frame)?;
        self.released[to] += 1;
        let n = self.released[to].to_string();
        self.command(to, &["CLUSTERBUS.TEST", "SYNC", &n])?;
        self.after_step(to)
    }

    /// kill -9 of node `i`'s process; its nodes.conf stays.
    pub fn crash(&mut self, i: usize) {
        self.nodes[i].kill9();
        self.cores[i] = None;
    }

    /// Starts node `i` again from its nodes.conf, its clock where it was.
    pub fn restart(&mut self, i: usize) -> Result<(), String> {
        self.nodes[i].spec.test_clock_ms = Some(self.clocks[i]);
        self.nodes[i].restart().map_err(|e| e.to_string())?;
        self.read_before[i] = self.tap.frames_from(i);
        self.released[i] = 0;
        self.refresh(i)
    }

    fn clock_to(&self, i: usize) -> Result<String, String> {
        self.command(
            i,
            &["CLUSTERBUS.TEST", "CLOCK", &self.clocks[i].to_string()],
        )
    }

    /// Waits until the tap has read every frame node `i` wrote, then reads
    /// its state.
    fn after_step(&mut self, i: usize) -> Result<(), String> {
        self.refresh(i)?;
        let written = self.written[i];
        let start = Instant::now();
        loop {
            let read = self.tap.frames_from(i) - self.read_before[i];
            if read >= written {
                return Ok(());
            }
            if start.elapsed() > TAP_LIMIT {
                return Err(format!(
                    "n{i} wrote {written} frames, the tap read {read} within {} s",
                    TAP_LIMIT.as_secs()
                ));
            }
            sleep(Duration::from_millis(1));
        }
    }

    /// Reads node `i`'s state.
    fn refresh(&mut self, i: usize) -> Result<(), String> {
        let text = self.command(i, &["CLUSTERBUS.TEST", "STATE"])?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("n{i}'s STATE: {e}"))?;
        let core = Core::from_json(&v["core"].to_string()).map_err(|e| format!("n{i}: {e}"))?;
        let count = |k: &str| v[k].as_u64().ok_or(format!("n{i}'s STATE has no {k}"));
        self.written[i] = count("frames_written")?;
        if let Some(clock) = v["clock_ms"].as_u64() {
            self.clocks[i] = self.clocks[i].max(clock);
        }
        self.cores[i] = Some(core);
        Ok(())
    }

    fn command(&self, i: usize, args: &[&str]) -> Result<String, String> {
        match resp::command_within(self.port(i), args, STEP_LIMIT) {
            Ok(Reply::Text(t)) => Ok(t),
            Ok(Reply::Error(e)) => Err(format!("n{i} {}: {e}", args[1])),
            Ok(Reply::Other) => Err(format!("n{i} {}: an unexpected reply", args[1])),
            Err(e) => Err(format!("n{i} {}: {e}", args[1])),
        }
    }
}
