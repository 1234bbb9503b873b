//! The tokio runtime: a thin shell that moves bytes and time in and out of
//! the sans-IO core. It owns the sockets (the bus listener, one outbound
//! link per peer, the RESP port), the clock (a 100 ms cron tick) and the
//! randomness; the node task ([`node::NodeTask`]) owns all protocol state.
//!
//! Tasks: one accept loop per listener, two per bus link (reader, writer),
//! one per client, and the node task. They talk to the node task through
//! one queue of [`Input`]s, so protocol state is never shared or locked.
//! The queue is bounded ([`INPUT_QUEUE_CAPACITY`]): when the node task
//! falls behind, a task with something to say waits, and so stops reading
//! its socket; TCP then slows the peer down. A flood of bus frames or
//! requests costs at most the queue's room, not memory without limit.

pub mod client;
pub mod clients;
pub mod data_file;
pub mod entropy;
mod link;
pub mod migrate;
pub mod node;
pub mod options;
pub mod process_stats;
pub mod replication;
pub mod test_control;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::codec::Message;
use crate::commands::{ServerFacts, Session};
use crate::core::{name_from_str, Core, CoreConfig, NodeIdentity};

use client::ClientRequest;
use data_file::DataFile;
use entropy::Entropy;
use link::Outbox;
use node::NodeTask;
use options::Settings;

/// Inputs the node task's queue holds before senders wait. Each client has
/// at most one request in flight, so this bounds bus frames mostly: 1024
/// frames of a few KiB.
pub const INPUT_QUEUE_CAPACITY: usize = 1024;

/// What the socket tasks tell the node task.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // a BusFrame is the common case; boxing it would cost an allocation each
pub enum Input {
    /// A peer opened a bus connection to me.
    BusAccepted { conn: u64, outbox: Outbox },
    /// My outbound link `conn` is connected.
    BusConnected { conn: u64 },
    /// Link `conn` closed (or failed to connect).
    BusClosed { conn: u64 },
    /// A decoded message on link `conn`, from `peer_ip`.
    BusFrame {
        conn: u64,
        msg: Message,
        peer_ip: String,
    },
    /// A client connection was accepted.
    ClientOpened(clients::ClientOpened),
    /// A client connection ended, or became a replica's feed.
    ClientClosed { id: u64 },
    /// A client request.
    Client(ClientRequest),
    /// The requests of one pipeline.
    ClientBatch(client::ClientBatch),
    /// A replica sent PSYNC: attach it and answer with its feed.
    ReplicaAttach {
        ip: String,
        port: u16,
        reply: tokio::sync::oneshot::Sender<replication::FeedReceiver>,
    },
    /// A replica acknowledged an offset.
    ReplicaAck { id: u64, offset: u64 },
    /// A replica's connection closed.
    ReplicaGone { id: u64 },
    /// Replica side: the master's snapshot arrived (connection `generation`).
    ReplSnapshot {
        generation: u64,
        replid: String,
        offset: u64,
        payload: Vec<u8>,
    },
    /// Replica side: one command of the master's stream; `offset` after it.
    ReplCommand {
        generation: u64,
        args: Vec<Vec<u8>>,
        offset: u64,
    },
    /// Replica side: the link to the master is down.
    ReplLinkDown { generation: u64 },
    /// A background save of dump.rdb ended.
    DataSaved { result: Result<(), String> },
}

/// Unix time in milliseconds: the only clock the node reads.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Starts connection tasks and numbers connections.
#[derive(Clone)]
pub struct Spawner {
    next_conn: Arc<AtomicU64>,
    /// Bus frames written to sockets, on every link.
    frames_written: Arc<AtomicU64>,
    inputs: mpsc::Sender<Input>,
    connect_timeout: Duration,
}

impl Spawner {
    /// Bus frames written to sockets so far, on every link.
    pub fn frames_written(&self) -> u64 {
        self.frames_written.load(Ordering::Relaxed)
    }

    /// The queue every task reports to.
    pub fn inputs(&self) -> &mpsc::Sender<Input> {
        &self.inputs
    }

    fn next_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Opens an outbound bus link in the background; messages queued on the
    /// returned outbox go out once it is connected.
    pub fn connect(&self, ip: &str, cport: u16) -> (u64, Outbox) {
        let conn = self.next_id();
        let (tx, mut rx) = link::channel();
        let inputs = self.inputs.clone();
        let addr = format!("{ip}:{cport}");
        let timeout = self.connect_timeout;
        let written = self.frames_written.clone();
        tokio::spawn(async move {
            let attempt = tokio::time::timeout(timeout, TcpStream::connect(&addr));
            // The node task may drop the link while it is still connecting.
            let result = tokio::select! {
                r = attempt => r,
                _ = &mut rx.closed => return,
            };
            match result {
                Ok(Ok(stream)) => {
                    if inputs.send(Input::BusConnected { conn }).await.is_ok() {
                        link::run(conn, stream, rx, inputs, written).await;
                    }
                }
                Ok(Err(e)) => {
                    tracing::debug!("bus connect to {addr}: {e}");
                    let _ = inputs.send(Input::BusClosed { conn }).await;
                }
                Err(_) => {
                    tracing::debug!("bus connect to {addr}: timed out");
                    let _ = inputs.send(Input::BusClosed { conn }).await;
                }
            }
        });
        (conn, tx)
    }
}

/// A node that is listening, before it runs.
pub struct Node {
    task: NodeTask,
    inputs: mpsc::Receiver<Input>,
    bus: TcpListener,
    clients: TcpListener,
    spawner: Spawner,
    requirepass: Option<String>,
}

impl Node {
    /// Loads (or creates) nodes.conf, loads dump.rdb if there is one, and
    /// binds both ports. A nodes.conf that does not parse is an error naming
    /// the file and line, a dump.rdb that does not load one naming the file
    /// and byte; either is left as is.
    pub async fn bind(settings: &Settings) -> Result<Node, String> {
        let mut entropy = Entropy::from_os();
        let now = match settings.test_control {
            Some(Some(start)) => start,
            _ => now_ms(),
        };
        let cfg = CoreConfig {
            node_timeout_ms: settings.node_timeout_ms,
            replica_validity_factor: settings.replica_validity_factor,
            require_full_coverage: settings.require_full_coverage,
        };
        let core = load_or_create(settings, cfg, &mut entropy, now)?;
        let clients = listen(SocketAddr::new(settings.bind, settings.port)).await?;
        let bus = listen(SocketAddr::new(settings.bind, settings.cluster_port)).await?;
        let (tx, rx) = mpsc::channel(INPUT_QUEUE_CAPACITY);
        let spawner = Spawner {
            next_conn: Arc::new(AtomicU64::new(1)),
            frames_written: Arc::new(AtomicU64::new(0)),
            inputs: tx,
            connect_timeout: Duration::from_millis(settings.node_timeout_ms.max(1000)),
        };
        let facts = ServerFacts {
            version: "7.0.15".into(),
            run_id: entropy.hex_id(),
            process_id: std::process::id(),
            tcp_port: settings.port,
            requirepass: settings.requirepass.clone(),
            config_file: settings
                .config_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            ..ServerFacts::default()
        };
        let data = DataFile::new(
            settings.data_path.clone(),
            settings.save_points.clone(),
            now,
        );
        let mut task = NodeTask::new(
            core,
            facts,
            entropy,
            (settings.config_path.clone(), data),
            spawner.clone(),
        );
        // A data file that does not load stops the start, untouched.
        let mut db = std::mem::take(&mut task.db);
        task.data.load(&mut db, now)?;
        task.db = db;
        task.set_masterauth(settings.masterauth.clone());
        if settings.test_control.is_some() {
            tracing::warn!(
                "cluster-test-control yes: a testing mode; timers are stopped and clients drive the protocol"
            );
            task.test = Some(test_control::TestControl::new(now));
        }
        task.save_config()
            .map_err(|e| format!("{}: cannot write: {e}", settings.config_path.display()))?;
        Ok(Node {
            task,
            inputs: rx,
            bus,
            clients,
            spawner,
            requirepass: settings.requirepass.clone(),
        })
    }

    /// This node's id.
    pub fn id(&self) -> String {
        crate::core::name_str(&self.task.core.id())
    }

    /// Serves until `shutdown` completes, then saves nodes.conf and returns.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let Node {
            task,
            inputs,
            bus,
            clients,
            spawner,
            requirepass,
        } = self;
        let bus_loop = tokio::spawn(accept_bus(bus, spawner.clone()));
        let session = Session {
            authenticated: requirepass.is_none(),
            ..Session::default()
        };
        let client_loop = tokio::spawn(accept_clients(clients, spawner.inputs.clone(), session));
        drop(spawner);
        task.run(inputs, shutdown).await;
        bus_loop.abort();
        client_loop.abort();
    }
}

async fn listen(addr: SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))
}

fn load_or_create(
    settings: &Settings,
    cfg: CoreConfig,
    entropy: &mut Entropy,
    now: u64,
) -> Result<Core, String> {
    let path = &settings.config_path;
    let ip = match &settings.announce_ip {
        Some(ip) => ip.clone(),
        None if !settings.bind.is_unspecified() => settings.bind.to_string(),
        None => String::new(),
    };
    let (port, cport) = (settings.announce_port, settings.announce_bus_port);
    if path.exists() {
        let conf = crate::config::load(path).map_err(|e| e.to_string())?;
        let mut core =
            Core::restart(&conf, cfg, now).map_err(|e| format!("{}: {e}", path.display()))?;
        // The ports (and an announced IP) come from the settings, not the
        // file: an operator may have moved the node.
        core.set_my_address(&ip, port, cport);
        let id = crate::core::name_str(&core.id());
        tracing::info!("loaded {}; I am {id}", path.display());
        return Ok(core);
    }
    let id = entropy.hex_id();
    let me = NodeIdentity {
        id: name_from_str(&id).ok_or("a drawn node id is not 40 characters")?,
        ip,
        port,
        cport,
    };
    tracing::info!("no {}; I am a new node: {id}", path.display());
    Ok(Core::new(me, cfg, now))
}

async fn accept_bus(listener: TcpListener, spawner: Spawner) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let conn = spawner.next_id();
        let (tx, rx) = link::channel();
        if spawner
            .inputs
            .send(Input::BusAccepted { conn, outbox: tx })
            .await
            .is_err()
        {
            return;
        }
        tokio::spawn(link::run(
            conn,
            stream,
            rx,
            spawner.inputs.clone(),
            spawner.frames_written.clone(),
        ));
    }
}

async fn accept_clients(listener: TcpListener, inputs: mpsc::Sender<Input>, session: Session) {
    // Client ids start at 1 and are never reused (`server.next_client_id`).
    let mut next_id = 1u64;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let session = Session {
            id: next_id,
            ..session.clone()
        };
        next_id += 1;
        tokio::spawn(client::run(stream, inputs.clone(), session));
    }
}
