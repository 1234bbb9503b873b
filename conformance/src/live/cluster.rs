//! A live cluster: N node processes of one kind behind one tap, a recorder
//! and a snapshot poller. Every process action is recorded and followed by
//! a snapshot of every node, so a trace shows what each node believed right
//! after each fault. Dropping a [`Cluster`] stops the poller, kills every
//! node by pid, then closes the tap.

use std::path::Path;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::error::LiveError;
use super::observe::{Event, Recorder};
use super::procs::{free_ports, Kind, NodeProc, NodeSpec};
use super::resp;
use super::snapshot::{self, Poller, Snapshot};
use super::tap::Tap;

/// How often a wait looks again.
const WAIT_POLL: Duration = Duration::from_millis(50);

/// The processes, the tap and the log of one run.
pub struct Cluster {
    // Field order is drop order: stop polling, kill the nodes, close the tap.
    poller: Option<Poller>,
    pub nodes: Vec<NodeProc>,
    pub tap: Tap,
    pub rec: Recorder,
    pub node_timeout_ms: u64,
}

impl Cluster {
    /// Starts `n` nodes of `kind` in `root/node-I/`, each announcing its tap
    /// port, and starts the poller once every node answers.
    pub fn start(
        kind: Kind,
        n: usize,
        node_timeout_ms: u64,
        root: &Path,
    ) -> Result<Cluster, LiveError> {
        Cluster::start_with(kind, n, node_timeout_ms, root, true)
    }

    /// As [`Cluster::start`]; with `tapped` false every node announces its
    /// real bus port, so the tap sees nothing (to measure what it costs).
    pub fn start_with(
        kind: Kind,
        n: usize,
        node_timeout_ms: u64,
        root: &Path,
        tapped: bool,
    ) -> Result<Cluster, LiveError> {
        if n == 0 || n > 64 {
            return Err(LiveError::Usage(format!("{n} nodes: between 1 and 64")));
        }
        let rec = Recorder::new(n);
        let free = free_ports(2 * n)?;
        let ports: Vec<(u16, u16)> = free.chunks(2).map(|p| (p[0], p[1])).collect();
        let tap = Tap::start(ports.iter().map(|p| p.1).collect(), rec.clone())?;
        let mut c = Cluster {
            poller: None,
            nodes: Vec::new(),
            tap,
            rec,
            node_timeout_ms,
        };
        for (i, (port, bus_port)) in ports.into_iter().enumerate() {
            let spec = NodeSpec {
                kind,
                dir: root.join(format!("node-{i}")),
                port,
                bus_port,
                tap_port: if tapped { c.tap.port(i) } else { bus_port },
                node_timeout_ms,
                test_clock_ms: None,
            };
            let p = NodeProc::start(spec)?;
            c.process_event(i, "start", p.pid());
            c.nodes.push(p);
            let id = c.cmd(i, &["CLUSTER", "MYID"])?.trim().to_string();
            if c.ids().contains(&id) {
                return Err(LiveError::Node {
                    node: i,
                    problem: format!("its port is served by another node ({id})"),
                });
            }
            c.rec.set_id(i, id);
        }
        let client_ports = c.nodes.iter().map(|p| p.spec.port).collect();
        c.poller = Some(Poller::start(client_ports, c.rec.clone()));
        Ok(c)
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Node ids by index.
    pub fn ids(&self) -> Vec<String> {
        self.rec.ids()
    }

    fn process_event(&self, node: usize, action: &'static str, pid: Option<u32>) {
        self.rec.record(|t_us| Event::Process {
            t_us,
            node,
            action,
            pid,
        });
    }

    fn after_fault(&self) {
        if let Some(p) = &self.poller {
            p.record_all();
        }
    }

    fn node(&mut self, i: usize) -> Result<&mut NodeProc, LiveError> {
        let n = self.nodes.len();
        self.nodes
            .get_mut(i)
            .ok_or_else(|| LiveError::Usage(format!("node {i}: the cluster has {n}")))
    }

    /// kill -9 node `i`.
    pub fn kill9(&mut self, i: usize) -> Result<(), LiveError> {
        let pid = self.node(i)?.pid();
        self.node(i)?.kill9();
        self.process_event(i, "kill", pid);
        self.after_fault();
        Ok(())
    }

    /// SIGSTOP node `i`.
    pub fn stop(&mut self, i: usize) -> Result<(), LiveError> {
        self.node(i)?.stop()?;
        if let Some(p) = &self.poller {
            p.skip(i, true);
        }
        let pid = self.node(i)?.pid();
        self.process_event(i, "stop", pid);
        self.after_fault();
        Ok(())
    }

    /// SIGCONT node `i`.
    pub fn cont(&mut self, i: usize) -> Result<(), LiveError> {
        self.node(i)?.cont()?;
        if let Some(p) = &self.poller {
            p.skip(i, false);
        }
        let pid = self.node(i)?.pid();
        self.process_event(i, "cont", pid);
        self.after_fault();
        Ok(())
    }

    /// SIGTERM node `i` and wait for it to exit.
    pub fn term(&mut self, i: usize) -> Result<(), LiveError> {
        let pid = self.node(i)?.pid();
        self.node(i)?.terminate()?;
        self.process_event(i, "term", pid);
        self.after_fault();
        Ok(())
    }

    /// Starts node `i` again on its directory, nodes.conf and ports.
    pub fn restart(&mut self, i: usize) -> Result<(), LiveError> {
        self.node(i)?.restart()?;
        let pid = self.node(i)?.pid();
        self.process_event(i, "restart", pid);
        self.after_fault();
        Ok(())
    }

    /// Records a snapshot of every node now (after a tap fault).
    pub fn snapshot_all(&self) {
        self.after_fault();
    }

    /// A command's text reply from node `i`.
    pub fn cmd(&self, i: usize, args: &[&str]) -> Result<String, LiveError> {
        let port = self.port(i)?;
        resp::text(port, args).map_err(|problem| LiveError::Node { node: i, problem })
    }

    /// Node `i`'s client port.
    pub fn port(&self, i: usize) -> Result<u16, LiveError> {
        self.nodes
            .get(i)
            .map(|p| p.spec.port)
            .ok_or_else(|| LiveError::Usage(format!("node {i}: no such node")))
    }

    /// Node `i`'s view now, if it answers.
    pub fn view(&self, i: usize) -> Option<Snapshot> {
        snapshot::take(self.port(i).ok()?).ok()
    }

    /// Polls `ok` until it holds or `limit` passes; the error names `what`
    /// and carries the tail of every node's log.
    pub fn wait_until(
        &self,
        what: &str,
        limit: Duration,
        mut ok: impl FnMut(&Cluster) -> bool,
    ) -> Result<Duration, LiveError> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if ok(self) {
                return Ok(start.elapsed());
            }
            sleep(WAIT_POLL);
        }
        let logs: Vec<String> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, p)| format!("--- node {i} ---\n{}", p.log_tail(15)))
            .collect();
        Err(LiveError::Timeout {
            what: format!("{what}\n{}", logs.join("\n")),
            limit_ms: limit.as_millis() as u64,
        })
    }

    /// `redis-cli --cluster create` over every node, `replicas` per master.
    pub fn cli_create(&self, replicas: usize) -> Result<String, LiveError> {
        let mut args = vec![
            "60".to_string(),
            "redis-cli".into(),
            "--cluster".into(),
            "create".into(),
        ];
        args.extend(
            self.nodes
                .iter()
                .map(|p| format!("127.0.0.1:{}", p.spec.port)),
        );
        args.extend([
            "--cluster-replicas".into(),
            replicas.to_string(),
            "--cluster-yes".into(),
        ]);
        let out = Command::new("timeout")
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| LiveError::io("run redis-cli --cluster create", e))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            return Err(LiveError::Node {
                node: 0,
                problem: format!("redis-cli --cluster create failed: {text}"),
            });
        }
        Ok(text)
    }
}
