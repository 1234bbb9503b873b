//! The node task: the one owner of the core, the scheduler and the data
//! set. It turns what the sockets and the clock bring into core events and
//! carries out the effects the core returns, in order: a durable `Persist`
//! is written and synced before any effect after it.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;

use tokio::sync::mpsc;

use crate::codec::{c_str, c_str_field, encode, Message, NodeName};
use crate::commands::multi::{Multi, Step};
use crate::commands::{self, core_reply, Context, Outcome, ServerFacts};
use crate::core::{name_str, Core, Effect, Event, GossipChoice, LinkId, Reply};
use crate::db::Db;
use crate::resp::Frame;
use crate::scheduler::{CronChoices, Scheduler};

use super::client::{BatchReply, ClientBatch, ClientReply, ClientRequest};
use super::clients::Clients;
use super::data_file::DataFile;
use super::entropy::Entropy;
use super::link::Outbox;
use super::process_stats::CommandCounters;
use super::replication::{Sink, Source};
use super::{now_ms, Input, Spawner};

/// Nodes Redis samples for the periodic ping (`clusterCron`: 5 random picks).
const PING_SAMPLE_SIZE: usize = 5;
/// A master pings its replicas through the stream every 10 s
/// (`repl-ping-replica-period`), so a silent master can be told from an idle one.
const REPL_PING_EVERY_TICKS: u64 = 100;
/// Keys looked at per cron tick by the active expiry.
const EXPIRE_BUDGET_PER_TICK: usize = 20;
/// Most requests held while clients are paused (a manual failover, CLIENT PAUSE).
/// Each connection has at most one request in flight, so this is Redis's
/// default `maxclients`; a write beyond it is refused rather than queued.
const PAUSED_WRITES_MAX: usize = 10_000;

/// Which node a connection belongs to, as the core names its links.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ConnKind {
    /// My link to the node currently named so in my table.
    Outbound(NodeName),
    /// A link a peer opened to me.
    Inbound,
}

struct Conn {
    kind: ConnKind,
    outbox: Outbox,
}

/// The node task's state.
pub struct NodeTask {
    pub core: Core,
    pub db: Db,
    pub facts: ServerFacts,
    scheduler: Scheduler,
    entropy: Entropy,
    config_path: PathBuf,
    conns: HashMap<u64, Conn>,
    outbound: HashMap<NodeName, u64>,
    spawner: Spawner,
    /// Master side of replication (also holds this node's replid and offset).
    source: Source,
    /// Replica side of replication.
    sink: Sink,
    /// Password to AUTH with at my master (`masterauth`).
    masterauth: Option<String>,
    /// Write requests held while a replica of mine takes over by CLUSTER
    /// FAILOVER (`pauseClients(PAUSE_DURING_FAILOVER, .., CLIENT_PAUSE_WRITE)`),
    /// run in order once the pause ends.
    paused_writes: VecDeque<ClientRequest>,
    /// The client connections (CLIENT LIST, `connected_clients`).
    clients: Clients,
    /// Requests run, per command (INFO stats and commandstats).
    counters: CommandCounters,
    /// SHUTDOWN was accepted: the run loop ends after this input.
    stopping: bool,
    /// dump.rdb.
    pub data: DataFile,
    /// BGSAVE SCHEDULE while a save ran: start another when it ends.
    save_scheduled: bool,
    /// Open transactions (MULTI), by client id.
    transactions: HashMap<u64, Multi>,
    /// Keys clients WATCH, and the watches changes broke.
    watches: commands::watch::Watches,
    /// CLIENT PAUSE in force: until when (Unix ms), and whether it holds
    /// every request (ALL) or the writes only.
    client_pause: Option<(u64, bool)>,
    /// (everything paused, writes paused) when held requests were last
    /// looked at.
    pause_state: (bool, bool),
    /// Connections kept from earlier MIGRATEs.
    migrate_conns: super::migrate::MigrateConns,
    /// Links whose peer stopped reading (outbox full): freed after the
    /// effects being carried out.
    overflowed: Vec<u64>,
    started_ms: u64,
    /// The testing mode, when on (`--cluster-test-control yes`).
    pub test: Option<super::test_control::TestControl>,
}

impl NodeTask {
    /// A node task around `core`, saving to `config_path`.
    pub fn new(
        core: Core,
        facts: ServerFacts,
        entropy: Entropy,
        (config_path, data): (PathBuf, DataFile),
        spawner: Spawner,
    ) -> NodeTask {
        let mut entropy = entropy;
        let source = Source::new(entropy.hex_id(), 0);
        NodeTask {
            source,
            sink: Sink::default(),
            masterauth: None,
            paused_writes: VecDeque::new(),
            clients: Clients::default(),
            counters: CommandCounters::default(),
            stopping: false,
            data,
            save_scheduled: false,
            transactions: HashMap::new(),
            migrate_conns: Default::default(),
            client_pause: None,
            pause_state: (false, false),
            watches: Default::default(),
            overflowed: Vec::new(),
            started_ms: now_ms(),
            test: None,
            core,
            db: Db::new(),
            facts,
            scheduler: Scheduler::new(),
            entropy,
            config_path,
            conns: HashMap::new(),
            outbound: HashMap::new(),
            spawner,
        }
    }

    /// Sets the password this node AUTHs with at its master.
    pub fn set_masterauth(&mut self, password: Option<String>) {
        self.masterauth = password;
    }

    /// Writes nodes.conf now (at start and at shutdown).
    pub fn save_config(&self) -> std::io::Result<()> {
        crate::config::save(&self.config_path, &self.core.persisted())
    }

    /// Runs until `inputs` closes or `shutdown` fires; saves the config last.
    pub async fn run(
        mut self,
        mut inputs: mpsc::Receiver<Input>,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(
            crate::core::CLUSTER_CRON_PERIOD_MS,
        ));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tick.tick() => match self.test.is_some() {
                    true => self.answer_syncs(),
                    false => self.cron(),
                },
                input = inputs.recv() => match input {
                    Some(input) => self.input(input),
                    None => break,
                },
            }
            if self.test.is_some() {
                self.answer_syncs();
            }
            self.release_paused_writes();
            if self.stopping {
                break;
            }
        }
        // Stopped by a signal, not SHUTDOWN (which saved what it was
        // told): save as SHUTDOWN without arguments does.
        let saved = match self.stopping {
            true => self.save_config().map_err(|e| e.to_string()),
            false => self.save_for_shutdown(None),
        };
        match saved {
            Ok(()) => tracing::info!("nodes.conf saved; shutting down"),
            Err(e) => tracing::error!("{e}"),
        }
    }

    /// The core's clock: the testing mode's, else the system's.
    fn now(&self) -> u64 {
        match &self.test {
            Some(t) => t.clock_ms,
            None => now_ms(),
        }
    }

    fn handle(&mut self, event: Event) -> Option<Reply> {
        let effects = self.core.handle(self.now(), event);
        let reply = self.apply(effects);
        for conn in std::mem::take(&mut self.overflowed) {
            tracing::warn!(
                "bus link {conn}: the peer is not reading ({} MiB queued); freeing the link",
                super::link::CLUSTER_LINK_SENDBUF_LIMIT_BYTES >> 20
            );
            self.closed(conn);
        }
        // A won election or a REPLICATE changes who I replicate from at
        // once, before the next write or stream command is handled.
        self.follow_master();
        reply
    }

    /// One cron tick: the scheduler's due events, then the active expiry.
    fn cron(&mut self) {
        let now = now_ms();
        self.counters.sample(now);
        self.migrate_conns.expire(now);
        if self.client_pause.is_some_and(|(end, _)| now >= end) {
            self.client_pause = None;
        }
        let names: Vec<NodeName> = self.core.nodes().map(|n| n.name).collect();
        let ping_sample = (0..PING_SAMPLE_SIZE)
            .map(|_| names[self.entropy.below(names.len() as u64) as usize])
            .collect();
        let choices = CronChoices {
            ping_sample,
            election_jitter_ms: self.entropy.below(500),
            gossip_seed: self.entropy.next_u64(),
        };
        for event in self.scheduler.tick(now, &self.core, &choices) {
            self.handle(event);
        }
        if self.data.due(now) {
            tracing::info!("save point reached: saving in the background");
            self.data
                .start_background(&self.db, now, self.spawner.inputs().clone());
        }
        // While writes are paused for a manual failover, nothing may move
        // the offset the replica waits for: no expiry, no stream PING
        // (`replicationCron` skips it then too).
        if self.core.is_master() && !self.writes_paused() {
            self.db.expire_some(now, EXPIRE_BUDGET_PER_TICK);
            if self
                .scheduler
                .iteration()
                .is_multiple_of(REPL_PING_EVERY_TICKS)
            {
                self.source.ping();
                self.core.set_repl_offset(self.source.offset);
            }
        }
        self.follow_master();
    }

    /// Keeps replication in line with my role in the core: a replica
    /// follows its master's client port; a node that became a master stops
    /// following and starts a new replication id, keeping its offset.
    fn follow_master(&mut self) {
        let target = self
            .core
            .master()
            .filter(|_| !self.core.is_master())
            .and_then(|m| self.core.node(&m))
            .filter(|m| !m.ip.is_empty() && m.port != 0)
            .map(|m| (m.ip.clone(), m.port));
        if target.is_some() {
            self.source.detach_all();
        } else if self.sink.following() {
            self.source = Source::new(self.entropy.hex_id(), self.sink.offset);
            self.core.set_repl_offset(self.sink.offset);
            self.core.set_replication_last_io(None);
        }
        let port = self.facts.tcp_port;
        let auth = self.masterauth.clone();
        self.sink.follow(target, port, auth, self.spawner.inputs());
    }

    fn input(&mut self, input: Input) {
        match input {
            Input::BusAccepted { conn, outbox } => {
                let kind = ConnKind::Inbound;
                self.conns.insert(conn, Conn { kind, outbox });
            }
            Input::BusConnected { conn } => {
                let kind = self.conns.get(&conn).map(|c| c.kind);
                // In the testing mode the driver sends the first PING.
                if let Some(ConnKind::Outbound(peer)) = kind.filter(|_| self.test.is_none()) {
                    let gossip = GossipChoice::Seed(self.entropy.next_u64());
                    self.handle(Event::LinkUp { peer, gossip });
                }
            }
            Input::BusClosed { conn } => self.closed(conn),
            Input::BusFrame { conn, msg, peer_ip } => self.frame(conn, msg, &peer_ip),
            Input::ClientOpened(opened) => {
                self.clients.open(opened, now_ms());
                self.facts.connected_clients = self.clients.len();
            }
            Input::ClientClosed { id } => {
                self.transactions.remove(&id);
                self.watches.unwatch(id);
                self.clients.close(id);
                self.facts.connected_clients = self.clients.len();
            }
            Input::Client(req) => self.client(req),
            Input::ClientBatch(batch) => self.client_batch(batch),
            // Only a master feeds replicas (no chained replication): a
            // replica drops the request, which closes that connection.
            Input::ReplicaAttach { ip, port, reply } if self.core.is_master() => {
                let fed = self.source.attach(&self.db, now_ms(), ip, port);
                let _ = reply.send(fed);
            }
            Input::ReplicaAttach { .. } => {}
            Input::ReplicaAck { id, offset } => self.source.ack(id, offset),
            Input::ReplicaGone { id } => self.source.detach(id),
            Input::ReplSnapshot {
                generation,
                replid,
                offset,
                payload,
            } => self.load_snapshot(generation, replid, offset, &payload),
            Input::ReplCommand {
                generation,
                args,
                offset,
            } => {
                if generation == self.sink.generation && !self.core.is_master() {
                    self.apply_replicated(commands::Request { args });
                    self.sink.offset = offset;
                    self.core.set_repl_offset(offset);
                    self.core.set_replication_last_io(Some(now_ms()));
                }
            }
            Input::ReplLinkDown { generation } => {
                if generation == self.sink.generation {
                    self.sink.link_up = false;
                }
            }
            Input::DataSaved { result } => {
                let now = now_ms();
                self.data.background_done(&result, now);
                if std::mem::take(&mut self.save_scheduled) {
                    self.data
                        .start_background(&self.db, now, self.spawner.inputs().clone());
                }
            }
        }
    }

    /// BGSAVE [SCHEDULE]'s reply (`bgsaveCommand`).
    fn bgsave(&mut self, schedule: bool) -> Frame {
        if !self.data.saving() {
            self.data
                .start_background(&self.db, now_ms(), self.spawner.inputs().clone());
            return Frame::Simple("Background saving started".into());
        }
        if schedule {
            self.save_scheduled = true;
            return Frame::Simple("Background saving scheduled".into());
        }
        Frame::error(
            "ERR Background save already in progress. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
        )
    }

    /// SAVE's reply (`saveCommand`): refused while a background save runs.
    fn save_now(&mut self) -> Frame {
        if self.data.saving() {
            return Frame::error("ERR Background save already in progress");
        }
        match self.data.save(&self.db, now_ms()) {
            Ok(()) => Frame::ok(),
            Err(e) => {
                tracing::error!("SAVE to {}: {e}", self.data.path().display());
                Frame::error("ERR")
            }
        }
    }

    fn load_snapshot(&mut self, generation: u64, replid: String, offset: u64, payload: &[u8]) {
        if generation != self.sink.generation {
            return;
        }
        // An RDB file, from a clusterbus master or a redis-server one. A
        // replica keeps keys that have expired: its master expires them.
        match crate::rdb::read_with(payload, crate::rdb::Others::Skip) {
            Ok(loaded) => {
                self.db.clear();
                self.watches.touch_all();
                let keys = loaded.entries.len();
                if !loaded.skipped.is_empty() {
                    let kinds: Vec<String> = loaded
                        .skipped
                        .iter()
                        .map(|(t, n)| format!("{n} {t}"))
                        .collect();
                    tracing::warn!(
                        "full resync: left out keys of types this node does not store: {}",
                        kinds.join(", ")
                    );
                }
                for (key, entry) in loaded.entries {
                    self.db.set(key, entry);
                }
                self.sink.offset = offset;
                self.sink.replid = replid;
                self.sink.link_up = true;
                self.core.set_repl_offset(offset);
                self.core.set_replication_last_io(Some(now_ms()));
                tracing::info!("full resync done: {keys} keys, offset {offset}");
            }
            Err(e) => {
                tracing::warn!("master sent a bad snapshot ({e}); resyncing");
                self.sink.reset();
            }
        }
    }

    /// Applies a command from my master's stream; its reply goes nowhere.
    fn apply_replicated(&mut self, req: commands::Request) {
        let flushed = self.flush_touching(&req.args, now_ms());
        let mut session = commands::Session {
            authenticated: true,
            ..Default::default()
        };
        let mut ctx = self.context(&mut session, now_ms(), 0);
        if let Outcome::Write { propagate, .. } = commands::execute_replicated(&mut ctx, &req) {
            self.data.note_write();
            self.touch_watched(&propagate);
            flushed.iter().for_each(|k| self.watches.touch(k));
        }
    }

    fn closed(&mut self, conn: u64) {
        match self.conns.remove(&conn).map(|c| c.kind) {
            Some(ConnKind::Outbound(peer)) => {
                if self.outbound.get(&peer) == Some(&conn) {
                    self.outbound.remove(&peer);
                }
                self.handle(Event::LinkDown(peer));
            }
            Some(ConnKind::Inbound) => {
                self.handle(Event::InboundClosed(conn));
            }
            None => {}
        }
    }

    fn frame(&mut self, conn: u64, mut msg: Message, peer_ip: &str) {
        // Every frame read counts, also one on a link just dropped: the
        // driver counts what it let through.
        if let Some(t) = self.test.as_mut() {
            t.frames_in += 1;
        }
        let link = match self.conns.get(&conn).map(|c| c.kind) {
            Some(ConnKind::Outbound(peer)) => LinkId::Outbound(peer),
            Some(ConnKind::Inbound) => LinkId::Inbound(conn),
            None => return,
        };
        // A sender without an announced IP means "the address you see me at"
        // (`nodeIp2String`).
        if c_str(&msg.header.myip).is_empty() {
            msg.header.myip = c_str_field(peer_ip.as_bytes());
        }
        let (gossip, entropy) = match self.test.as_mut() {
            Some(t) => (GossipChoice::Explicit(vec![]), t.next_entropy()),
            None => (
                GossipChoice::Seed(self.entropy.next_u64()),
                self.entropy.next_u64(),
            ),
        };
        self.handle(Event::Deliver {
            link,
            msg,
            gossip,
            entropy,
        });
    }

    /// A `CLUSTERBUS.TEST` request (the testing mode, `test_control`).
    fn test_request(&mut self, req: ClientRequest) {
        use super::test_control::{reply_when_written, Request};
        let request = match Request::parse(&req.args[1..]) {
            Ok(r) => r,
            Err(e) => {
                let frame = Frame::error(&e);
                let session = req.session;
                let _ = req.reply.send(ClientReply {
                    frame,
                    session,
                    close: false,
                });
                return;
            }
        };
        let Some(test) = self.test.as_mut() else {
            return;
        };
        let frame = match request {
            Request::Clock(ms) => {
                test.clock_ms = test.clock_ms.max(ms);
                Frame::ok()
            }
            Request::Sync(frames) => return test.wait_for(frames, req.reply, req.session),
            Request::State => {
                let state = format!(
                    "{{\"clock_ms\":{},\"frames_in\":{},\"frames_written\":{},\"core\":{}}}",
                    test.clock_ms,
                    test.frames_in,
                    self.spawner.frames_written(),
                    self.core.to_json()
                );
                Frame::Bulk(state.into_bytes())
            }
            Request::Event(event) => {
                let frame = match self.handle(*event) {
                    Some(reply) => core_reply(&reply),
                    None => Frame::ok(),
                };
                let links = self.conns.values().map(|c| c.outbox.probe()).collect();
                return reply_when_written(links, frame, req.reply, req.session);
            }
        };
        let _ = req.reply.send(ClientReply {
            frame,
            session: req.session,
            close: false,
        });
    }

    /// Answers the SYNCs whose frames have arrived, once what they caused
    /// is written.
    fn answer_syncs(&mut self) {
        let Some(test) = self.test.as_mut() else {
            return;
        };
        for (reply, session) in test.due_syncs() {
            let links = self.conns.values().map(|c| c.outbox.probe()).collect();
            super::test_control::reply_when_written(links, Frame::ok(), reply, session);
        }
    }

    /// A master pauses writes from the moment a replica of its asks for a
    /// manual failover until the failover ends (won, or timed out), so that
    /// the offset it announced is the one the replica must reach.
    /// CLIENT PAUSE (either mode) pauses writes too, until it ends (the
    /// cron ends it, within a tick of its end time).
    fn writes_paused(&self) -> bool {
        let mf = self.core.manual_failover();
        let failover = self.core.is_master() && mf.end_ms.is_some() && mf.replica.is_some();
        failover || self.client_pause.is_some()
    }

    /// Runs the held requests, in order, as far as the pause now allows; a
    /// node that became a replica meanwhile answers writes with MOVED to
    /// the new master.
    /// Those still held stay, in order (`unblockPostponedClients` releases
    /// all and holds again what must wait).
    fn release_paused_writes(&mut self) {
        // A held request can go only once the pause changed.
        let state = (
            self.client_pause.is_some_and(|(_, all)| all),
            self.writes_paused(),
        );
        if std::mem::replace(&mut self.pause_state, state) == state || self.paused_writes.is_empty()
        {
            return;
        }
        for req in std::mem::take(&mut self.paused_writes) {
            self.client(req);
        }
    }

    /// Whether a request must wait: any request during CLIENT PAUSE ALL
    /// (CLIENT UNPAUSE too, as in Redis 7.0); while writes are paused, a
    /// write, or an EXEC whose transaction holds one (`blockPostponeClient`'s
    /// test). A request its checks answer at once (an unknown command, a
    /// wrong arity, NOAUTH, a redirection, READONLY) is not held: the pause
    /// is the last check of `processCommand`.
    fn held_by_pause(&mut self, args: &[Vec<u8>], session: &commands::Session) -> bool {
        let all = self.client_pause.is_some_and(|(_, all)| all);
        if !all && !self.writes_paused() {
            return false;
        }
        let exec = args.len() == 1 && args[0].eq_ignore_ascii_case(b"exec");
        let waits = all
            || match exec {
                true => self
                    .transactions
                    .get(&session.id)
                    .is_some_and(|tx| tx.queued.iter().any(|r| is_write(&r.args))),
                false => is_write(args),
            };
        waits && self.passes_checks(args, session)
    }

    /// What a command sees: the core, the data set, the session and the facts.
    fn context<'a>(
        &'a mut self,
        session: &'a mut commands::Session,
        now_ms: u64,
        entropy: u64,
    ) -> Context<'a> {
        Context {
            core: &self.core,
            db: &mut self.db,
            now_ms,
            entropy,
            session,
            facts: &self.facts,
        }
    }

    /// Whether `args` passes the checks that come before the pause.
    fn passes_checks(&mut self, args: &[Vec<u8>], session: &commands::Session) -> bool {
        let Ok((_, spec)) = commands::resolve(args) else {
            return false;
        };
        let mut session = session.clone();
        let ctx = self.context(&mut session, now_ms(), 0);
        commands::admit(&ctx, spec, args).is_ok()
    }

    fn client(&mut self, req: ClientRequest) {
        let testing = req
            .args
            .first()
            .is_some_and(|n| n.eq_ignore_ascii_case(b"clusterbus.test"));
        // Behind AUTH, and not inside MULTI: it runs at once.
        let admitted = self.facts.requirepass.is_none() || req.session.authenticated;
        let in_multi = self.transactions.contains_key(&req.session.id);
        if testing && self.test.is_some() && admitted && !in_multi {
            return self.test_request(req);
        }
        if self.held_by_pause(&req.args, &req.session) {
            if self.paused_writes.len() >= PAUSED_WRITES_MAX {
                let _ = req.reply.send(ClientReply {
                    frame: Frame::error("ERR too many requests held while clients are paused"),
                    session: req.session,
                    close: false,
                });
                return;
            }
            self.paused_writes.push_back(req);
            return;
        }
        let mut session = req.session;
        if let Some((frame, close)) = self.execute(req.args, &mut session) {
            let _ = req.reply.send(ClientReply {
                frame,
                session,
                close,
            });
        }
    }

    /// The requests of one pipeline, in order, with the session threaded
    /// through: the replies and whether to close. It stops at a write
    /// while writes are paused and hands that one and the rest back, to
    /// come one by one (and be held) as single requests do.
    fn client_batch(&mut self, batch: ClientBatch) {
        let mut session = batch.session;
        let mut frames = Vec::with_capacity(batch.requests.len());
        let mut close = false;
        let mut requests = batch.requests.into_iter();
        let mut rest = Vec::new();
        while let Some(args) = requests.next() {
            if self.held_by_pause(&args, &session) {
                rest.push(args);
                rest.extend(requests);
                break;
            }
            match self.execute(args, &mut session) {
                Some((frame, quit)) => {
                    frames.push((frame, session.protocol));
                    if quit {
                        close = true;
                        break;
                    }
                }
                // SHUTDOWN: no reply, the node stops.
                None => break,
            }
        }
        let _ = batch.reply.send(BatchReply {
            frames,
            session,
            close,
            rest,
        });
    }

    /// Runs one request, inside its client's transaction if it has one
    /// open; its reply and whether to close after it, or None when there is
    /// no reply (SHUTDOWN).
    fn execute(
        &mut self,
        args: Vec<Vec<u8>>,
        session: &mut commands::Session,
    ) -> Option<(Frame, bool)> {
        let req = commands::Request { args };
        let mut tx = self.transactions.remove(&session.id);
        let in_transaction = tx.is_some();
        let step = {
            let ctx = self.context(session, now_ms(), 0);
            commands::multi::step(&ctx, &mut tx, &req)
        };
        if let Some(tx) = tx {
            self.transactions.insert(session.id, tx);
        }
        // EXEC and DISCARD end the watch, whatever they answer.
        let ends_watch = in_transaction
            && req.args.len() == 1
            && (req.args[0].eq_ignore_ascii_case(b"exec")
                || req.args[0].eq_ignore_ascii_case(b"discard"));
        let broken = ends_watch && self.watches.broken(session.id, &self.db, now_ms());
        if ends_watch {
            self.watches.unwatch(session.id);
        }
        let asking = req
            .args
            .first()
            .is_some_and(|n| n.eq_ignore_ascii_case(b"asking"));
        let answer = match step {
            Step::Run => self.run_request(req.args, session, false),
            Step::Reply(frame) => Some((frame, false)),
            // A watched key changed: nothing runs (`execCommand`).
            Step::Exec(_) if broken => Some((Frame::NullArray, false)),
            Step::Exec(queued) => {
                let mut replies = Vec::with_capacity(queued.len());
                for r in queued {
                    // Checked when queued and routed together at EXEC: each
                    // runs without checks (`execCommand` calls it directly).
                    // SHUTDOWN is not queued (`no_multi`): every one replies.
                    replies.extend(self.run_request(r.args, session, true).map(|(f, _)| f));
                }
                Some((Frame::Array(replies), false))
            }
        };
        // ASKING lasts for one command, or through a transaction to its
        // EXEC (`resetClient`).
        if !asking && !self.transactions.contains_key(&session.id) {
            session.asking = false;
        }
        answer
    }

    /// Runs one request now.
    fn run_request(
        &mut self,
        args: Vec<Vec<u8>>,
        session: &mut commands::Session,
        queued: bool,
    ) -> Option<(Frame, bool)> {
        let now = now_ms();
        let started = std::time::Instant::now();
        let name = commands::command_name(&args);
        if let Some(name) = name {
            self.clients.touch(session.id, name, now);
        }
        // What only INFO and LASTSAVE read is gathered for them, not for
        // every request.
        if name.is_some_and(|(top, _)| top == "info" || top == "lastsave") {
            self.facts.process = self.counters.facts(self.clients.accepted, true);
            self.facts.replication = self.sink.facts(&self.source);
            self.facts.persistence = self.data.facts(now);
            self.facts.uptime_s = now.saturating_sub(self.started_ms) / 1000;
        }
        let entropy = self.entropy.next_u64();
        let flushed = self.flush_touching(&args, now);
        let outcome = {
            let mut ctx = self.context(session, now, entropy);
            let req = commands::Request { args };
            match queued {
                true => commands::execute_queued(&mut ctx, &req),
                false => commands::execute(&mut ctx, &req),
            }
        };
        let (frame, close) = match outcome {
            Outcome::Reply(frame) => (frame, false),
            Outcome::ReplyAndClose(frame) => (frame, true),
            Outcome::Write { reply, propagate } => {
                self.wrote(&propagate);
                flushed.iter().for_each(|k| self.watches.touch(k));
                (reply, false)
            }
            Outcome::Migrate(job) => {
                let result = super::migrate::run_in_place(&mut self.migrate_conns, &job, now);
                // Keys the target acknowledged go from here even when the
                // exchange broke off later; the reply is then the I/O error.
                let (replies, broken) = match result {
                    Ok(replies) => (replies, None),
                    Err(b) => (b.replies, Some(b.io)),
                };
                let (reply, deleted) =
                    commands::migrate::finish(&mut self.db, now_ms(), &job, &replies);
                if let Some(del) = deleted {
                    self.wrote(&del);
                }
                match broken {
                    Some(io) => (commands::migrate::io_error(io), false),
                    None => (reply, false),
                }
            }
            Outcome::Cluster(cmd) => {
                let frame = match self.handle(Event::Command(cmd)) {
                    Some(reply) => core_reply(&reply),
                    None => Frame::error("ERR the command had no reply"),
                };
                (frame, false)
            }
            Outcome::ClientPause { end_ms, all } => {
                if end_ms > now {
                    let (end, was_all) = self.client_pause.unwrap_or((0, false));
                    self.client_pause = Some((end.max(end_ms), was_all || all));
                }
                (Frame::ok(), false)
            }
            Outcome::Watch(keys) => {
                self.watches.watch(session.id, &keys, &self.db, now);
                (Frame::ok(), false)
            }
            Outcome::Unwatch => {
                self.watches.unwatch(session.id);
                (Frame::ok(), false)
            }
            Outcome::ClientUnpause => {
                self.client_pause = None;
                (Frame::ok(), false)
            }
            Outcome::Config(changes) => {
                self.configure(&changes);
                (Frame::ok(), false)
            }
            Outcome::ResetStats => {
                self.counters.reset();
                self.clients.accepted = 0;
                (Frame::ok(), false)
            }
            Outcome::Save => (self.save_now(), false),
            Outcome::BgSave { schedule } => (self.bgsave(schedule), false),
            Outcome::Shutdown { force, save } => match self.save_for_shutdown(save) {
                Err(e) if !force => {
                    tracing::error!("SHUTDOWN: {e}");
                    (
                        Frame::error("ERR Errors trying to SHUTDOWN. Check logs."),
                        false,
                    )
                }
                _ => {
                    tracing::info!("SHUTDOWN requested by client {}", session.id);
                    // No reply: the connection closes as the node stops.
                    self.stopping = true;
                    return None;
                }
            },
            Outcome::Clients(query) => {
                self.clients.update(session);
                let all = self.clients.views(now);
                let answer = commands::client::answer(&query, &all, session.id);
                for id in answer.kill {
                    self.clients.kill(id);
                }
                (answer.reply, answer.close_me)
            }
        };
        self.clients.update(session);
        let usec = started.elapsed().as_micros();
        self.counters
            .count(name, u64::try_from(usec).unwrap_or(u64::MAX));
        Some((frame, close))
    }

    /// A write was applied: count it for the save points and, on a master,
    /// stream it to the replicas.
    fn wrote(&mut self, propagate: &[Vec<u8>]) {
        self.data.note_write();
        self.touch_watched(propagate);
        if self.core.is_master() {
            self.source.propagate(propagate);
            // The offset in my bus headers is the stream's, always.
            self.core.set_repl_offset(self.source.offset);
        }
    }

    /// A write changed the keys of `command` (as propagated): the watches on
    /// them break. (A flush's are touched by [`Self::flush_touching`].)
    fn touch_watched(&mut self, command: &[Vec<u8>]) {
        if self.watches.clients() == 0 {
            return;
        }
        let Some(spec) = command.first().and_then(|n| commands::table::lookup(n)) else {
            return;
        };
        for key in spec.key_args(command) {
            self.watches.touch(key);
        }
    }

    /// For a request that may empty the data set, the watched keys that
    /// exist before it runs; to touch if it did.
    fn flush_touching(&self, args: &[Vec<u8>], now: u64) -> Vec<Vec<u8>> {
        match commands::watch::is_flush(args) && self.watches.clients() > 0 {
            true => self.watches.present(&self.db, now),
            false => Vec::new(),
        }
    }

    /// What SHUTDOWN saves: dump.rdb unless NOSAVE (or, with neither SAVE
    /// nor NOSAVE, unless no save point is set), then nodes.conf.
    fn save_for_shutdown(&mut self, save: Option<bool>) -> Result<(), String> {
        if save.unwrap_or(self.data.saves_on_shutdown()) {
            tracing::info!("saving the data set before shutting down");
            self.data
                .save(&self.db, now_ms())
                .map_err(|e| format!("saving {}: {e}", self.data.path().display()))?;
        }
        self.save_config()
            .map_err(|e| format!("saving {}: {e}", self.config_path.display()))
    }

    /// Applies CONFIG SET's changes to the core's settings.
    fn configure(&mut self, changes: &[commands::config_set::ConfigChange]) {
        let mut cfg = *self.core.config();
        for change in changes {
            change.apply(&mut cfg);
            tracing::info!("CONFIG SET: {change:?}");
        }
        self.core.set_config(cfg);
    }

    /// Carries out effects in order; returns the command reply among them.
    fn apply(&mut self, effects: Vec<Effect>) -> Option<Reply> {
        let mut reply = None;
        for effect in effects {
            match effect {
                Effect::Send { link, msg } => self.send(link, &msg),
                Effect::Connect { node, ip, cport } => self.connect(node, &ip, cport),
                Effect::Disconnect { link } => self.disconnect(link),
                Effect::RenameLink { from, to } => self.rename(from, to),
                Effect::Persist { conf, .. } => self.persist(&conf),
                Effect::Reply(r) => reply = Some(r),
                Effect::Log(line) => tracing::info!("{line}"),
            }
        }
        reply
    }

    /// Writes nodes.conf (always synced: `config::save` fsyncs the file and
    /// its directory). A node that cannot save its config must not go on:
    /// its memory already holds the vote, epoch or slots that messages after
    /// this one would announce. As `clusterSaveConfigOrDie`, it exits.
    fn persist(&self, conf: &crate::config::NodesConf) {
        if let Err(e) = crate::config::save(&self.config_path, conf) {
            tracing::error!(
                "cannot save {}: {e}; exiting so that nothing unsaved is announced",
                self.config_path.display()
            );
            std::process::exit(1);
        }
    }

    fn send(&mut self, link: LinkId, msg: &Message) {
        let conn = match link {
            LinkId::Outbound(peer) => self.outbound.get(&peer).copied(),
            LinkId::Inbound(conn) => Some(conn),
        };
        if let Some((id, c)) = conn.and_then(|id| self.conns.get(&id).map(|c| (id, c))) {
            if !c.outbox.send(encode(msg)) && !self.overflowed.contains(&id) {
                self.overflowed.push(id);
            }
        }
    }

    fn connect(&mut self, node: NodeName, ip: &str, cport: u16) {
        if let Some(old) = self.outbound.remove(&node) {
            self.conns.remove(&old);
        }
        let (conn, outbox) = self.spawner.connect(ip, cport);
        self.outbound.insert(node, conn);
        let kind = ConnKind::Outbound(node);
        self.conns.insert(conn, Conn { kind, outbox });
        tracing::debug!("connecting to {} at {ip}:{cport}", name_str(&node));
    }

    fn disconnect(&mut self, link: LinkId) {
        match link {
            LinkId::Outbound(peer) => {
                if let Some(conn) = self.outbound.remove(&peer) {
                    self.conns.remove(&conn);
                }
            }
            LinkId::Inbound(conn) => {
                self.conns.remove(&conn);
            }
        }
    }

    fn rename(&mut self, from: NodeName, to: NodeName) {
        if let Some(conn) = self.outbound.remove(&from) {
            self.outbound.insert(to, conn);
            if let Some(c) = self.conns.get_mut(&conn) {
                c.kind = ConnKind::Outbound(to);
            }
        }
    }
}

/// Whether a request names a write command (`CMD_WRITE`), which a manual
/// failover pauses.
fn is_write(args: &[Vec<u8>]) -> bool {
    args.first()
        .and_then(|name| commands::table::lookup(name))
        .is_some_and(|spec| spec.is_write())
}
