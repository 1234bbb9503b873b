//! Node processes of one kind on 127.0.0.1: started in their own directory
//! with free ports, announcing the tap's port as their bus port, and
//! controlled by signal (kill -9, SIGSTOP/SIGCONT, SIGTERM) and restart on
//! the same directory and nodes.conf. A [`NodeProc`] kills its process by
//! pid when dropped, so every exit path (a failing test included) stops it.

use std::fs::OpenOptions;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::error::LiveError;
use super::resp;

/// How long a node may take to answer PING after it is started.
const READY_LIMIT: Duration = Duration::from_secs(10);

/// Which program every node of a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Debian's unmodified redis-server 7.0, in cluster mode.
    Redis,
    /// This project's reference node.
    Clusterbus,
}

impl Kind {
    /// The name used on the command line and in traces.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Redis => "redis-server",
            Kind::Clusterbus => "clusterbus-node",
        }
    }

    /// Parses `redis-server` or `clusterbus-node`.
    pub fn parse(text: &str) -> Result<Kind, LiveError> {
        match text {
            "redis-server" => Ok(Kind::Redis),
            "clusterbus-node" => Ok(Kind::Clusterbus),
            other => Err(LiveError::Usage(format!(
                "--server {other:?}: expected redis-server or clusterbus-node"
            ))),
        }
    }
}

/// Where one node lives and listens.
#[derive(Clone, Debug)]
pub struct NodeSpec {
    pub kind: Kind,
    pub dir: PathBuf,
    /// Client (RESP) port.
    pub port: u16,
    /// The node's real bus port, which only the tap connects to.
    pub bus_port: u16,
    /// The tap's port for this node, announced as its bus port.
    pub tap_port: u16,
    pub node_timeout_ms: u64,
    /// clusterbus-node only: start in the testing mode
    /// (`--cluster-test-control yes`) with the clock at this Unix ms.
    pub test_clock_ms: Option<u64>,
}

/// Whether the process is running, stopped by SIGSTOP, or gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcState {
    Running,
    Stopped,
    Dead,
}

/// One node process.
pub struct NodeProc {
    pub spec: NodeSpec,
    child: Option<Child>,
    pub state: ProcState,
    /// How many times it has been started (1 after the first start).
    pub starts: u32,
}

/// `k` distinct ports free now on 127.0.0.1, below the kernel's ephemeral
/// range. A port the OS hands out for `bind(0)` or an outgoing connection
/// (the tap's own listeners, its connections to the nodes, redis-cli) is
/// taken from that range, so it can never land on a node's port between the
/// check here and the node's bind, or while a killed node is restarted on
/// its port. All are held until all are chosen.
pub fn free_ports(k: usize) -> Result<Vec<u16>, LiveError> {
    let (low, _) = ephemeral_range();
    let floor: u16 = 10_000;
    let span = u32::from(low.saturating_sub(floor)).max(1);
    // Start somewhere that differs between concurrent runs.
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let salt = std::process::id()
        .wrapping_mul(2_654_435_761)
        .wrapping_add(CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) * 7_919);
    let mut held = Vec::with_capacity(k);
    let mut ports = Vec::with_capacity(k);
    for step in 0..span {
        if held.len() == k {
            break;
        }
        let port = floor + ((salt.wrapping_add(step)) % span) as u16;
        if let Ok(l) = TcpListener::bind(("127.0.0.1", port)) {
            held.push(l);
            ports.push(port);
        }
    }
    if ports.len() < k {
        return Err(LiveError::Usage(format!(
            "only {} free ports between {floor} and {low}",
            ports.len()
        )));
    }
    Ok(ports)
}

/// The kernel's ephemeral port range (`ip_local_port_range`), or Linux's
/// default where it cannot be read.
fn ephemeral_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|t| {
            let mut it = t.split_whitespace().map(|x| x.parse::<u16>().ok());
            Some((it.next()??, it.next()??))
        })
        .unwrap_or((32_768, 60_999))
}

/// Fails when redis-server and redis-cli 7.0 are not on PATH, so live runs
/// and their tests never pass without having run anything.
pub fn require_redis_tools() -> Result<(), LiveError> {
    for tool in ["redis-server", "redis-cli"] {
        let out = Command::new(tool).arg("--version").output();
        let text = out
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        if !(text.contains(" 7.0.") || text.contains("v=7.0.")) {
            return Err(LiveError::Missing(format!(
                "{tool} 7.0 is needed (found {text:?}); ./scripts/test.sh installs it"
            )));
        }
    }
    Ok(())
}

/// The clusterbus-node binary: `$CLUSTERBUS_NODE_BIN`, else the one built
/// beside this executable (`target/release/`, also from `target/release/deps/`).
pub fn clusterbus_node_bin() -> Result<PathBuf, LiveError> {
    if let Some(p) = std::env::var_os("CLUSTERBUS_NODE_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| LiveError::io("find this executable", e))?;
    let mut dir = exe.parent().map(Path::to_path_buf);
    for _ in 0..2 {
        let Some(d) = dir else { break };
        let candidate = d.join("clusterbus-node");
        if candidate.is_file() {
            return Ok(candidate);
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    Err(LiveError::Missing(
        "clusterbus-node binary not found beside this executable; run \
         `cargo build --release -p clusterbus-node` or set CLUSTERBUS_NODE_BIN"
            .into(),
    ))
}

impl NodeProc {
    /// Starts a node and waits until it answers PING.
    pub fn start(spec: NodeSpec) -> Result<NodeProc, LiveError> {
        std::fs::create_dir_all(&spec.dir)
            .map_err(|e| LiveError::io(format!("create {}", spec.dir.display()), e))?;
        let mut p = NodeProc {
            spec,
            child: None,
            state: ProcState::Dead,
            starts: 0,
        };
        p.spawn()?;
        Ok(p)
    }

    fn args(&self) -> Vec<String> {
        let s = &self.spec;
        let mut args: Vec<String> = vec![
            "--port".into(),
            s.port.to_string(),
            "--cluster-port".into(),
            s.bus_port.to_string(),
            "--cluster-announce-bus-port".into(),
            s.tap_port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--cluster-node-timeout".into(),
            s.node_timeout_ms.to_string(),
            "--dir".into(),
            s.dir.to_string_lossy().into_owned(),
            "--cluster-config-file".into(),
            "nodes.conf".into(),
        ];
        if let (Kind::Clusterbus, Some(ms)) = (s.kind, s.test_clock_ms) {
            args.extend(["--cluster-test-control".into(), "yes".into()]);
            args.extend(["--cluster-test-clock-ms".into(), ms.to_string()]);
        }
        if s.kind == Kind::Redis {
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
        }
        args
    }

    fn spawn(&mut self) -> Result<(), LiveError> {
        let program = match self.spec.kind {
            Kind::Redis => PathBuf::from("redis-server"),
            Kind::Clusterbus => clusterbus_node_bin()?,
        };
        let log_path = self.log_path();
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| LiveError::io(format!("open {}", log_path.display()), e))?;
        let err = log
            .try_clone()
            .map_err(|e| LiveError::io("clone a log handle", e))?;
        let child = Command::new(&program)
            .args(self.args())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(err))
            .spawn()
            .map_err(|e| LiveError::io(format!("start {}", program.display()), e))?;
        self.child = Some(child);
        self.state = ProcState::Running;
        self.starts += 1;
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> Result<(), LiveError> {
        let start = Instant::now();
        while start.elapsed() < READY_LIMIT {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                self.state = ProcState::Dead;
                return Err(LiveError::Node {
                    node: self.spec.port as usize,
                    problem: format!("exited at start ({status}); log: {}", self.log_tail(20)),
                });
            }
            // A PONG from a process that has exited came from someone else
            // on the port: that is checked on the next round.
            let pong = resp::text(self.spec.port, &["PING"]).is_ok_and(|t| t == "PONG");
            let alive = matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)));
            if pong && alive {
                return Ok(());
            }
            sleep(Duration::from_millis(50));
        }
        Err(LiveError::Timeout {
            what: format!(
                "the node on port {} to answer PING; log: {}",
                self.spec.port,
                self.log_tail(20)
            ),
            limit_ms: READY_LIMIT.as_millis() as u64,
        })
    }

    /// stdout and stderr of every start, appended.
    pub fn log_path(&self) -> PathBuf {
        self.spec.dir.join("node.log")
    }

    /// The last `n` lines of the log.
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// The process id while it runs or is stopped.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// kill -9 by pid, then reap. A stopped process dies too.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.state = ProcState::Dead;
    }

    /// SIGTERM, then wait (bounded) for it to exit; kill -9 if it does not.
    pub fn terminate(&mut self) -> Result<(), LiveError> {
        self.signal("TERM")?;
        let start = Instant::now();
        while start.elapsed() < READY_LIMIT {
            if let Some(Ok(Some(_))) = self.child.as_mut().map(|c| c.try_wait()) {
                self.child = None;
                self.state = ProcState::Dead;
                return Ok(());
            }
            sleep(Duration::from_millis(20));
        }
        self.kill9();
        Ok(())
    }

    /// SIGSTOP: the process keeps its sockets but runs no code.
    pub fn stop(&mut self) -> Result<(), LiveError> {
        self.signal("STOP")?;
        self.state = ProcState::Stopped;
        Ok(())
    }

    /// SIGCONT after [`NodeProc::stop`].
    pub fn cont(&mut self) -> Result<(), LiveError> {
        self.signal("CONT")?;
        self.state = ProcState::Running;
        Ok(())
    }

    /// Starts the node again on the same ports and directory (its nodes.conf).
    pub fn restart(&mut self) -> Result<(), LiveError> {
        self.kill9();
        self.spawn()
    }

    /// Sends a signal by pid with kill(1): no unsafe code, no extra crate.
    fn signal(&self, name: &str) -> Result<(), LiveError> {
        let Some(pid) = self.pid() else {
            return Err(LiveError::Usage(format!(
                "SIG{name} to the node on port {}: it is not running",
                self.spec.port
            )));
        };
        let status = Command::new("kill")
            .args(["-s", name, &pid.to_string()])
            .status()
            .map_err(|e| LiveError::io(format!("kill -s {name} {pid}"), e))?;
        if !status.success() {
            return Err(LiveError::Node {
                node: self.spec.port as usize,
                problem: format!("kill -s {name} {pid} failed ({status})"),
            });
        }
        Ok(())
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        self.kill9();
    }
}
