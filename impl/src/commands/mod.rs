//! The commands of the client port, as pure functions of the node's state:
//! a request comes in with a [`Context`], an [`Outcome`] goes out. No I/O.
//!
//! One module per command family: [`server`] (PING, ECHO, AUTH, INFO, ...),
//! [`data`] (GET, SET, ...), [`cluster`] (the CLUSTER subcommands).
//! [`execute`] checks a request against the [`table`] (existence, arity,
//! AUTH), routes keyed commands by slot ([`routing`]), then dispatches.

pub mod client;
pub mod cluster;
pub mod config_set;
pub mod data;
pub mod dump;
pub mod hello;
pub mod info;
pub mod info_process;
pub mod introspect;
pub mod migrate;
pub mod multi;
pub mod routing;
pub mod server;
pub mod table;
#[cfg(test)]
pub(crate) mod testkit;
pub mod watch;

use crate::core::{ClusterCommand, Core};
use crate::db::Db;
use crate::resp::{Frame, Protocol};
use table::{CommandSpec, Family};

/// A client request: the command name and its arguments, as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The words of the request, the command name first (never empty when
    /// it comes from [`crate::resp::parse_request`] and is worth executing).
    pub args: Vec<Vec<u8>>,
}

/// Per-connection state a command can read and change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Session {
    /// AUTH succeeded (or no password is set).
    pub authenticated: bool,
    /// READONLY was sent: a replica serves reads of its master's slots.
    pub readonly: bool,
    /// ASKING was sent: the next command may touch an importing slot.
    pub asking: bool,
    /// The protocol replies are written in (`HELLO 2|3`).
    pub protocol: Protocol,
    /// The connection's id (`CLIENT ID`, HELLO's `id`), unique per process.
    pub id: u64,
    /// The name set by `CLIENT SETNAME` or `HELLO SETNAME` (empty: none).
    pub name: Vec<u8>,
}

/// Facts about this process that INFO and a few commands report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerFacts {
    /// `redis_version` as reported to clients (tools check it).
    pub version: String,
    /// 40 hex characters, new at every start (`run_id`).
    pub run_id: String,
    /// `process_id`.
    pub process_id: u32,
    /// The client port (`tcp_port`, CONFIG GET `port`).
    pub tcp_port: u16,
    /// Seconds since the start (`uptime_in_seconds`).
    pub uptime_s: u64,
    /// Client connections open now (`connected_clients`).
    pub connected_clients: usize,
    /// `requirepass`, when set.
    pub requirepass: Option<String>,
    /// The config file path, as INFO prints it (`config_file`).
    pub config_file: String,
    /// `bind`, as CONFIG GET reports it (space-separated addresses).
    pub bind: String,
    /// `dir`, the working directory nodes.conf lives in.
    pub dir: String,
    /// `cluster-config-file`.
    pub cluster_config_file: String,
    /// `cluster-port` (0: the client port + 10000).
    pub cluster_port: u16,
    /// `cluster-announce-ip` ("" when not set).
    pub announce_ip: String,
    /// `cluster-announce-port` (0 when not set).
    pub announce_port: u16,
    /// `cluster-announce-bus-port` (0 when not set).
    pub announce_bus_port: u16,
    /// Replication as INFO replication reports it.
    pub replication: ReplicationFacts,
    /// Counters and process readings (INFO stats, memory, cpu, commandstats).
    pub process: info_process::ProcessFacts,
    /// The data file (INFO persistence, LASTSAVE).
    pub persistence: PersistenceFacts,
}

/// What INFO persistence and LASTSAVE report about dump.rdb.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersistenceFacts {
    /// `rdb_changes_since_last_save`.
    pub changes_since_last_save: u64,
    /// `rdb_bgsave_in_progress`.
    pub bgsave_in_progress: bool,
    /// `rdb_last_save_time`, LASTSAVE: Unix seconds.
    pub last_save_s: u64,
    /// `rdb_last_bgsave_status`.
    pub last_bgsave_ok: bool,
    /// `rdb_last_bgsave_time_sec` (-1: none yet).
    pub last_bgsave_time_s: i64,
    /// `rdb_current_bgsave_time_sec` (-1: none running).
    pub current_bgsave_time_s: i64,
    /// `rdb_saves`.
    pub saves: u64,
    /// `rdb_last_load_keys_loaded`.
    pub loaded_keys: u64,
}

/// What INFO replication reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplicationFacts {
    /// The replication id (`master_replid`, 40 hex characters).
    pub master_replid: String,
    /// Bytes of replication stream produced (master) or applied (replica).
    pub master_repl_offset: u64,
    /// Replica side: the master's address and whether the link is up.
    pub master: Option<(String, u16, bool)>,
    /// Master side: connected replicas (ip, port, acknowledged offset).
    pub replicas: Vec<(String, u16, u64)>,
}

/// Everything a command may look at.
pub struct Context<'a> {
    /// The protocol state (read only: changes go out as [`Outcome::Cluster`]).
    pub core: &'a Core,
    /// The data set (keys of db 0).
    pub db: &'a mut Db,
    /// Unix time, milliseconds.
    pub now_ms: u64,
    /// A fresh random number for commands that draw one (CLUSTER MEET's
    /// handshake name, CLUSTER RESET HARD's new id).
    pub entropy: u64,
    /// The client's connection state.
    pub session: &'a mut Session,
    /// What INFO and CONFIG GET report about the process.
    pub facts: &'a ServerFacts,
}

/// What the runtime must do with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Send this reply.
    Reply(Frame),
    /// Hand this command to the core; its `Reply` effect, through
    /// [`core_reply`], is the client's reply.
    Cluster(ClusterCommand),
    /// A write was applied: send the reply, and stream `propagate` (a
    /// command in the same form as a request) to the replicas.
    Write {
        /// The client's reply.
        reply: Frame,
        /// The command replicas apply (see [`execute_replicated`]).
        propagate: Vec<Vec<u8>>,
    },
    /// Reply, then close the connection (QUIT).
    ReplyAndClose(Frame),
    /// CLIENT INFO / LIST / KILL: the runtime, which knows every
    /// connection, answers with [`client::answer`].
    Clients(client::ClientQuery),
    /// CLIENT PAUSE: until `end_ms` (Unix ms; 0: no pause), hold every
    /// client request (`all`) or only the writes; reply OK.
    ClientPause {
        /// When the pause ends.
        end_ms: u64,
        /// ALL rather than WRITE.
        all: bool,
    },
    /// WATCH: watch these keys for the client's next EXEC, reply OK.
    Watch(Vec<Vec<u8>>),
    /// UNWATCH: forget the client's watched keys, reply OK.
    Unwatch,
    /// CLIENT UNPAUSE: end a CLIENT PAUSE now, reply OK.
    ClientUnpause,
    /// CONFIG SET: apply these (all validated), then reply OK.
    Config(Vec<config_set::ConfigChange>),
    /// CONFIG RESETSTAT: zero the statistics INFO reports, reply OK.
    ResetStats,
    /// SHUTDOWN: save nodes.conf (and dump.rdb, see `save`) and stop; no
    /// reply (the connection closes with the process), or an error reply
    /// if saving fails and `force` is not set.
    Shutdown {
        /// SHUTDOWN FORCE: stop even if saving fails.
        force: bool,
        /// SAVE: Some(true); NOSAVE: Some(false); neither: save if save
        /// points are configured.
        save: Option<bool>,
    },
    /// SAVE: write dump.rdb now, reply OK or an error.
    Save,
    /// MIGRATE: run this exchange with the target, then reply with
    /// [`migrate::finish`].
    Migrate(migrate::MigrateJob),
    /// `BGSAVE [SCHEDULE]`: write dump.rdb in the background.
    BgSave {
        /// SCHEDULE: if one is running, save again after it.
        schedule: bool,
    },
}

/// The RESP form of a core's reply.
pub fn core_reply(reply: &crate::core::Reply) -> Frame {
    use crate::core::Reply;
    match reply {
        Reply::Ok => Frame::ok(),
        Reply::Status(s) => Frame::Simple(s.clone()),
        Reply::Integer(n) => Frame::Integer(*n),
        Reply::Error(e) => Frame::Error(e.clone()),
    }
}

/// Runs one client request. Mirrors `processCommand`: the command must
/// exist and have the right arity (checked before AUTH, as Redis does);
/// then, with `requirepass` set, an unauthenticated client may only send
/// AUTH and QUIT (`NOAUTH`); then a keyed command is routed by slot
/// ([`routing::route`]); then a write on a replica is refused (`READONLY`).
/// ASKING lasts for one command, as `resetClient` clears it.
///
/// An empty request (`*0`, a blank line) must not reach this function: the
/// runtime drops it without a reply, as Redis does (see
/// [`crate::resp::parse_request`]). Given one anyway, it answers
/// `ERR empty request` so that the mistake is visible.
pub fn execute(ctx: &mut Context, req: &Request) -> Outcome {
    let outcome = run(ctx, req, true);
    let asking = req
        .args
        .first()
        .is_some_and(|n| n.eq_ignore_ascii_case(b"asking"));
    if !asking {
        ctx.session.asking = false;
    }
    outcome
}

/// Runs a command of an EXEC: it was checked when it was queued, and the
/// transaction's keys were routed together at EXEC, so nothing is checked
/// again (`execCommand` calls each command directly).
pub fn execute_queued(ctx: &mut Context, req: &Request) -> Outcome {
    run(ctx, req, false)
}

/// Runs a command of the replication stream on a replica: what its master
/// propagated ([`Outcome::Write`]'s `propagate`). No AUTH, routing or
/// READONLY check (Redis's `mustObeyClient`); the reply is to be dropped.
pub fn execute_replicated(ctx: &mut Context, req: &Request) -> Outcome {
    run(ctx, req, false)
}

fn run(ctx: &mut Context, req: &Request, from_client: bool) -> Outcome {
    let (top, spec) = match resolve(&req.args) {
        Ok(found) => found,
        Err(reply) => return Outcome::Reply(reply),
    };
    if from_client {
        if let Err(reply) = admit(ctx, spec, &req.args) {
            return Outcome::Reply(reply);
        }
    }
    match top.family {
        Family::Server => server::execute(ctx, top, &req.args),
        Family::Data => data::execute(ctx, top.name, &req.args),
        Family::Cluster => cluster::execute(ctx, &req.args[1..]),
    }
}

/// The name of the command a request names (lowercase), and of its
/// subcommand for a container such as CLIENT or CONFIG; `None` for an
/// unknown command. What CLIENT LIST shows as `cmd` and INFO commandstats
/// counts under.
pub fn command_name(args: &[Vec<u8>]) -> Option<(&'static str, Option<&'static str>)> {
    let top = table::lookup(args.first()?)?;
    let sub = args
        .get(1)
        .filter(|_| !top.subcommands.is_empty())
        .and_then(|s| table::find(top.subcommands, s))
        .map(|s| s.name);
    Some((top.name, sub))
}

/// The container and the command (its subcommand, for CONFIG GET and the
/// like) a request names, or the error for an unknown name or a wrong
/// number of arguments (`commandCheckExistence`, `commandCheckArity`).
pub(crate) fn resolve(
    args: &[Vec<u8>],
) -> Result<(&'static CommandSpec, &'static CommandSpec), Frame> {
    let Some(name) = args.first() else {
        return Err(Frame::error("ERR empty request"));
    };
    let Some(top) = table::lookup(name) else {
        return Err(unknown_command(args));
    };
    let (spec, full_name) = match args.get(1) {
        Some(sub_name) if !top.subcommands.is_empty() => {
            let Some(sub) = table::find(top.subcommands, sub_name) else {
                return Err(unknown_subcommand(name, sub_name));
            };
            (sub, format!("{}|{}", top.name, sub.name))
        }
        _ => (top, top.name.to_string()),
    };
    if !spec.arity_ok(args.len()) {
        return Err(arity_error(&full_name));
    }
    Ok((top, spec))
}

/// The checks between lookup and execution: AUTH, cluster routing, and
/// writes on a replica.
pub(crate) fn admit(ctx: &Context, spec: &CommandSpec, args: &[Vec<u8>]) -> Result<(), Frame> {
    let auth_required = ctx.facts.requirepass.is_some() && !ctx.session.authenticated;
    if auth_required && !spec.has_flag("no_auth") {
        return Err(Frame::error("NOAUTH Authentication required."));
    }
    let keys = spec.key_args(args);
    let query = routing::Query {
        write: spec.is_write(),
        readonly: ctx.session.readonly,
        asking: ctx.session.asking || spec.has_flag("asking"),
        migrate: spec.name == "migrate",
    };
    let has_key = |key: &[u8]| ctx.db.is_live(key, ctx.now_ms);
    if let Err(redirect) = routing::route(ctx.core, keys, query, has_key) {
        return Err(redirect.reply());
    }
    if spec.is_write() && !ctx.core.is_master() {
        return Err(Frame::error(
            "READONLY You can't write against a read only replica.",
        ));
    }
    Ok(())
}

/// Longest name, and longest argument list, an "unknown command" error
/// quotes (`%.128s` in `commandCheckExistence`).
const ERROR_QUOTE_MAX: usize = 128;

/// `ERR unknown command 'foo', with args beginning with: 'a' 'b' ` (with
/// the trailing blank): at most 128 bytes of the name, and arguments while
/// their quoted list is under 128 bytes.
pub fn unknown_command(args: &[Vec<u8>]) -> Frame {
    let name = args
        .first()
        .map(|n| clip(n, ERROR_QUOTE_MAX))
        .unwrap_or(&[]);
    let mut quoted: Vec<u8> = Vec::new();
    for arg in args.iter().skip(1) {
        if quoted.len() >= ERROR_QUOTE_MAX {
            break;
        }
        let room = ERROR_QUOTE_MAX - quoted.len();
        quoted.push(b'\'');
        quoted.extend_from_slice(clip(arg, room));
        quoted.extend_from_slice(b"' ");
    }
    let mut text = b"ERR unknown command '".to_vec();
    text.extend_from_slice(name);
    text.extend_from_slice(b"', with args beginning with: ");
    text.extend_from_slice(&quoted);
    Frame::error(String::from_utf8_lossy(&text).into_owned())
}

/// `ERR unknown subcommand 'x'. Try CONFIG HELP.`, for a container command.
pub fn unknown_subcommand(container: &[u8], sub: &[u8]) -> Frame {
    Frame::error(format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        String::from_utf8_lossy(clip(sub, ERROR_QUOTE_MAX)),
        String::from_utf8_lossy(container).to_ascii_uppercase()
    ))
}

/// `ERR wrong number of arguments for 'get' command` (`full_name` as
/// Redis's `fullname`, e.g. `config|get`).
pub fn arity_error(full_name: &str) -> Frame {
    Frame::error(format!(
        "ERR wrong number of arguments for '{full_name}' command"
    ))
}

/// At most `max` bytes of `bytes`.
fn clip(bytes: &[u8], max: usize) -> &[u8] {
    &bytes[..bytes.len().min(max)]
}

#[cfg(test)]
#[path = "dispatch_tests.rs"]
mod dispatch_tests;
