//! Test support for real processes on 127.0.0.1: `clusterbus-node` and
//! unmodified `redis-server` 7.0 nodes started side by side, driven with
//! the real `redis-cli`, killed (and reaped) when dropped. Every wait is
//! bounded; a timeout fails the test with the logs of every node.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Which program a node runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Clusterbus,
    Redis,
}

/// One running node.
pub struct Proc {
    pub kind: Kind,
    child: Option<Child>,
    pub port: u16,
    pub bus_port: u16,
    pub dir: PathBuf,
    pub node_timeout_ms: u64,
    /// Flags after the harness's own.
    pub extra: Vec<String>,
}

/// A port the OS says is free now on 127.0.0.1.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("listener has an address").port()
}

/// Fails loudly when redis-server/redis-cli 7.0 are missing: these tests
/// must not pass vacuously.
pub fn require_redis_tools() {
    for tool in ["redis-server", "redis-cli"] {
        let out = Command::new(tool).arg("--version").output();
        let text = out
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        assert!(
            text.contains(" 7.0.") || text.contains("v=7.0."),
            "{tool} 7.0 is needed (found {text:?}); run ./scripts/test.sh, which installs it"
        );
    }
}

impl Proc {
    /// Starts a node of `kind` with its files in `dir`.
    pub fn start(kind: Kind, dir: &Path, node_timeout_ms: u64) -> Proc {
        let (port, bus_port) = (free_port(), free_port());
        Proc::start_on(kind, dir, port, bus_port, node_timeout_ms)
    }

    /// Starts a node of `kind` on the given ports.
    pub fn start_on(kind: Kind, dir: &Path, port: u16, bus_port: u16, nt: u64) -> Proc {
        Proc::start_with(kind, dir, (port, bus_port), nt, &[])
    }

    /// Starts a node of `kind` on the given ports, with `extra` flags.
    pub fn start_with(
        kind: Kind,
        dir: &Path,
        (port, bus_port): (u16, u16),
        nt: u64,
        extra: &[&str],
    ) -> Proc {
        std::fs::create_dir_all(dir).expect("create node dir");
        let mut p = Proc {
            kind,
            child: None,
            port,
            bus_port,
            dir: dir.to_path_buf(),
            node_timeout_ms: nt,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        p.spawn();
        p
    }

    fn spawn(&mut self) {
        let (port, bus, nt) = (
            self.port.to_string(),
            self.bus_port.to_string(),
            self.node_timeout_ms.to_string(),
        );
        let dir = self
            .dir
            .to_str()
            .expect("temp dir path is UTF-8")
            .to_string();
        let mut args: Vec<String> = [
            "--port",
            &port,
            "--cluster-port",
            &bus,
            "--bind",
            "127.0.0.1",
            "--cluster-node-timeout",
            &nt,
            "--dir",
            &dir,
            "--cluster-config-file",
            "nodes.conf",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let program = match self.kind {
            Kind::Clusterbus => env!("CARGO_BIN_EXE_clusterbus-node").to_string(),
            Kind::Redis => {
                for a in [
                    "--cluster-enabled",
                    "yes",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--repl-diskless-sync-delay",
                    "0",
                    "--daemonize",
                    "no",
                ] {
                    args.push(a.to_string());
                }
                "redis-server".to_string()
            }
        };
        args.extend(self.extra.iter().cloned());
        let log = std::fs::File::create(self.dir.join("node.log")).expect("create node.log");
        let err = log.try_clone().expect("clone log handle");
        let child = Command::new(program)
            .args(&args)
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(err))
            .spawn()
            .expect("spawn node");
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "node on port {} exited early ({status}): {}",
                    self.port,
                    self.log()
                );
            }
            if self.cli(&["PING"]).trim() == "PONG" {
                return;
            }
            sleep(Duration::from_millis(50));
        }
        panic!(
            "node on port {} not ready in 10 s: {}",
            self.port,
            self.log()
        );
    }

    /// `host:port` as redis-cli takes it.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The node's log (stdout and stderr for clusterbus-node).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("node.log")).unwrap_or_default()
    }

    /// kill -9, then reap.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the node again on the same ports and dir (from its nodes.conf).
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// Whether this harness has started it and not killed it.
    pub fn started(&self) -> bool {
        self.child.is_some()
    }

    /// Waits up to `limit` for the process to exit by itself; its status.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                self.child = None;
                return Some(status);
            }
            sleep(Duration::from_millis(20));
        }
        None
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// `redis-cli -p PORT args...`, its stdout (empty on failure).
    pub fn cli(&self, args: &[&str]) -> String {
        let out = cli_output(&[&["-p", &self.port.to_string()], args].concat());
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// One field of `INFO section` (or `CLUSTER INFO` for section "cluster-info").
    pub fn info_field(&self, section: &str, field: &str) -> Option<String> {
        let text = if section == "cluster-info" {
            self.cli(&["CLUSTER", "INFO"])
        } else {
            self.cli(&["INFO", section])
        };
        text.lines()
            .filter_map(|l| l.trim_end().split_once(':'))
            .find(|(k, _)| *k == field)
            .map(|(_, v)| v.to_string())
    }

    /// `cluster_state:ok` in CLUSTER INFO.
    pub fn state_ok(&self) -> bool {
        self.info_field("cluster-info", "cluster_state").as_deref() == Some("ok")
    }

    /// CLUSTER MYID.
    pub fn id(&self) -> String {
        self.cli(&["CLUSTER", "MYID"]).trim().to_string()
    }

    /// The CLUSTER NODES line about `id` in this node's view.
    pub fn view_of(&self, id: &str) -> Option<String> {
        self.cli(&["CLUSTER", "NODES"])
            .lines()
            .find(|l| l.starts_with(id))
            .map(str::to_string)
    }

    /// The flags field of this node's view of `id`.
    pub fn flags_of(&self, id: &str) -> String {
        self.view_of(id)
            .and_then(|l| l.split(' ').nth(2).map(str::to_string))
            .unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `redis-cli args...`, with a bound on how long it may run.
pub fn cli_output(args: &[&str]) -> Output {
    let out = Command::new("timeout")
        .arg("60")
        .arg("redis-cli")
        .args(args)
        .stdin(Stdio::null())
        .output();
    out.expect("run redis-cli (run ./scripts/test.sh to install it)")
}

/// Polls `ok` every 100 ms until it holds or `limit` passes; returns the
/// time it took, or panics with `what` and the nodes' logs.
pub fn wait_until(
    what: &str,
    limit: Duration,
    procs: &[&Proc],
    mut ok: impl FnMut() -> bool,
) -> Duration {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ok() {
            return start.elapsed();
        }
        sleep(Duration::from_millis(100));
    }
    let logs: Vec<String> = procs
        .iter()
        .map(|p| {
            format!(
                "--- node {} ({:?}) ---\n{}\nCLUSTER NODES:\n{}",
                p.port,
                p.kind,
                tail(&p.log(), 40),
                p.cli(&["CLUSTER", "NODES"])
            )
        })
        .collect();
    panic!(
        "timed out after {limit:?} waiting for {what}\n{}",
        logs.join("\n")
    );
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The master `redis-cli --cluster create` gave a replica, and that replica.
pub fn master_with_replica(nodes: &[Proc]) -> (usize, usize) {
    let ids: Vec<String> = nodes.iter().map(Proc::id).collect();
    for (r, node) in nodes.iter().enumerate() {
        let line = node.view_of(&ids[r]).unwrap_or_default();
        let fields: Vec<&str> = line.split(' ').collect();
        if fields.get(2).is_some_and(|f| f.contains("slave")) {
            let master = fields[3];
            if let Some(m) = ids.iter().position(|id| id == master) {
                return (m, r);
            }
        }
    }
    panic!("no replica found in CLUSTER NODES");
}

/// `redis-cli --cluster create` over `procs` with `replicas` per master.
pub fn cluster_create(procs: &[&Proc], replicas: usize) -> Output {
    let addrs: Vec<String> = procs.iter().map(|p| p.addr()).collect();
    let mut args = vec!["--cluster", "create"];
    args.extend(addrs.iter().map(String::as_str));
    let r = replicas.to_string();
    args.extend(["--cluster-replicas", &r, "--cluster-yes"]);
    cli_output(&args)
}

/// Runs clusterbus-node on `dir` (fresh ports) where its start must fail:
/// its exit code and stderr. Bounded by `timeout` at 20 s.
pub fn failed_start(dir: &Path) -> (Option<i32>, String) {
    let out = Command::new("timeout")
        .arg("20")
        .arg(env!("CARGO_BIN_EXE_clusterbus-node"))
        .args([
            "--port",
            &free_port().to_string(),
            "--cluster-port",
            &free_port().to_string(),
        ])
        .arg("--dir")
        .arg(dir)
        .output()
        .expect("run clusterbus-node");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `redis-cli --cluster add-node --cluster-slave`: `replica` joins as a
/// replica of `master`.
pub fn add_replica(replica: &Proc, master: &Proc) {
    let master_id = master.id();
    let out = cli_output(&[
        "--cluster",
        "add-node",
        &replica.addr(),
        &master.addr(),
        "--cluster-slave",
        "--cluster-master-id",
        &master_id,
    ]);
    assert!(
        out.status.success(),
        "add-node {} as replica of {}: {}",
        replica.port,
        master.port,
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A one-node cluster of `kind` owning every slot, so every key is served.
pub fn owning_every_slot(kind: Kind, dir: &Path) -> Proc {
    let node = Proc::start(kind, dir, 1000);
    assert_eq!(
        node.cli(&["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]).trim(),
        "OK"
    );
    wait_until("the node is ok", Duration::from_secs(10), &[&node], || {
        node.state_ok()
    });
    node
}

/// A redis-server and a clusterbus-node, each a one-node cluster owning
/// every slot, to send the same requests to; with the dirs they live in.
pub struct SideBySide {
    pub redis: Proc,
    pub ours: Proc,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

pub fn side_by_side() -> SideBySide {
    require_redis_tools();
    let dirs = (
        tempfile::tempdir().expect("temp dir"),
        tempfile::tempdir().expect("temp dir"),
    );
    SideBySide {
        redis: owning_every_slot(Kind::Redis, dirs.0.path()),
        ours: owning_every_slot(Kind::Clusterbus, dirs.1.path()),
        _dirs: dirs,
    }
}
