//! CLIENT ID / GETNAME / SETNAME / INFO / LIST / KILL / HELP: what a
//! connection knows about itself, and what an operator sees and ends of the
//! others. Mirrors `clientCommand` and `catClientInfoString` of Redis 7.0.
//!
//! ID, GETNAME and SETNAME touch only the caller's [`Session`]. INFO, LIST
//! and KILL need every connection, which only the runtime knows: they come
//! out as [`Outcome::Clients`], and the runtime answers with [`answer`],
//! given a [`ClientView`] of each connection.

use super::server::syntax_error;
use super::{unknown_subcommand, Context, Outcome, Session};
use crate::resp::{string2ll, Frame};

/// Sets the connection's name; an empty name removes it. A name may hold
/// only the printable ASCII characters `!`..`~`, so that `CLIENT LIST`
/// stays splittable by spaces. Mirrors `clientSetName`.
pub fn set_name(session: &mut Session, name: &[u8]) -> Result<(), Frame> {
    if name.iter().any(|b| !(b'!'..=b'~').contains(b)) {
        return Err(Frame::error(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    session.name = name.to_vec();
    Ok(())
}

/// One client connection, as CLIENT LIST shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientView {
    /// `id`.
    pub id: u64,
    /// `addr`: the peer's ip:port.
    pub addr: String,
    /// `laddr`: my ip:port the client connected to.
    pub laddr: String,
    /// `fd`: the socket's file descriptor.
    pub fd: i64,
    /// `name`.
    pub name: Vec<u8>,
    /// `age`: seconds since the connection was accepted.
    pub age_s: u64,
    /// `idle`: seconds since its last command.
    pub idle_s: u64,
    /// `cmd`: the full name of its last command (`NULL` before the first).
    pub last_cmd: String,
    /// `resp`: 2 or 3.
    pub resp: i64,
}

/// What CLIENT INFO, LIST and KILL ask of the runtime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientQuery {
    /// CLIENT INFO: the caller's line.
    Info,
    /// CLIENT LIST [TYPE t] [ID id ...]: every normal client, or those ids.
    List {
        /// `None`: every client.
        ids: Option<Vec<u64>>,
        /// TYPE names a kind this node has no client of (master, replica,
        /// pubsub): the list is empty.
        none: bool,
    },
    /// CLIENT KILL: the clients `filter` matches.
    Kill(KillFilter),
}

/// The clients a CLIENT KILL names (all conditions must hold).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KillFilter {
    /// ADDR, or the old form's only argument.
    pub addr: Option<String>,
    /// LADDR.
    pub laddr: Option<String>,
    /// ID.
    pub id: Option<u64>,
    /// TYPE names a kind this node has no client of: nothing matches.
    pub none: bool,
    /// SKIPME (default yes; no in the old form).
    pub skipme: bool,
    /// The old form `CLIENT KILL ip:port`: replies OK or an error, not a count.
    pub old_form: bool,
}

impl KillFilter {
    /// Whether the filter names `c`, when `me` is the caller's id.
    pub fn matches(&self, c: &ClientView, me: u64) -> bool {
        !self.none
            && self.addr.as_ref().is_none_or(|a| *a == c.addr)
            && self.laddr.as_ref().is_none_or(|a| *a == c.laddr)
            && self.id.is_none_or(|id| id == c.id)
            && !(self.skipme && c.id == me)
    }
}

/// The runtime's answer to a [`ClientQuery`]: the reply, who to
/// disconnect, and whether the caller itself is to be closed after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientAnswer {
    pub reply: Frame,
    pub kill: Vec<u64>,
    pub close_me: bool,
}

/// CLIENT subcommands; the dispatcher has checked name and arity.
pub fn execute(ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    let sub = args[1].to_ascii_lowercase();
    let reply = match sub.as_slice() {
        b"id" => Frame::Integer(i64::try_from(ctx.session.id).unwrap_or(i64::MAX)),
        b"getname" if ctx.session.name.is_empty() => Frame::Null,
        b"getname" => Frame::Bulk(ctx.session.name.clone()),
        b"setname" => match set_name(ctx.session, &args[2]) {
            Ok(()) => Frame::ok(),
            Err(e) => e,
        },
        b"info" => return Outcome::Clients(ClientQuery::Info),
        b"list" => match parse_list(&args[2..]) {
            Ok(q) => return Outcome::Clients(q),
            Err(e) => e,
        },
        b"kill" => match parse_kill(&args[2..]) {
            Ok(f) => return Outcome::Clients(ClientQuery::Kill(f)),
            Err(e) => e,
        },
        b"pause" if args.len() <= 4 => match parse_pause(ctx.now_ms, &args[2..]) {
            Ok(outcome) => return outcome,
            Err(e) => e,
        },
        b"pause" => Frame::error(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
            String::from_utf8_lossy(&args[1])
        )),
        b"unpause" => return Outcome::ClientUnpause,
        b"help" => help(),
        _ => unknown_subcommand(&args[0], &args[1]),
    };
    Outcome::Reply(reply)
}

/// `CLIENT PAUSE timeout [WRITE|ALL]`, checked as `clientCommand` and
/// `getTimeoutFromObjectOrReply` check it (mode first). A timeout of 0
/// pauses nothing.
fn parse_pause(now_ms: u64, args: &[Vec<u8>]) -> Result<Outcome, Frame> {
    let all = match args.get(1).map(|m| m.to_ascii_lowercase()) {
        None => true,
        Some(m) if m == b"all" => true,
        Some(m) if m == b"write" => false,
        Some(_) => return Err(Frame::error("ERR CLIENT PAUSE mode must be WRITE or ALL")),
    };
    let Some(ms) = string2ll(&args[0]) else {
        return Err(Frame::error(
            "ERR timeout is not an integer or out of range",
        ));
    };
    if ms < 0 {
        return Err(Frame::error("ERR timeout is negative"));
    }
    let end_ms = match ms {
        0 => 0,
        ms => now_ms.saturating_add(ms as u64),
    };
    Ok(Outcome::ClientPause { end_ms, all })
}

/// `TYPE t`: `Ok(true)` when this node has no client of kind `t`.
fn no_client_of_type(t: &[u8]) -> Result<bool, Frame> {
    match t.to_ascii_lowercase().as_slice() {
        b"normal" => Ok(false),
        b"master" | b"replica" | b"slave" | b"pubsub" => Ok(true),
        _ => Err(Frame::error(format!(
            "ERR Unknown client type '{}'",
            String::from_utf8_lossy(t)
        ))),
    }
}

fn parse_list(opts: &[Vec<u8>]) -> Result<ClientQuery, Frame> {
    match opts {
        [] => Ok(ClientQuery::List {
            ids: None,
            none: false,
        }),
        [kw, t] if kw.eq_ignore_ascii_case(b"type") => Ok(ClientQuery::List {
            ids: None,
            none: no_client_of_type(t)?,
        }),
        [kw, ids @ ..] if kw.eq_ignore_ascii_case(b"id") && !ids.is_empty() => {
            let ids = ids
                .iter()
                .map(|id| {
                    string2ll(id)
                        .map(|n| n as u64)
                        .ok_or_else(|| Frame::error("ERR Invalid client ID"))
                })
                .collect::<Result<_, _>>()?;
            Ok(ClientQuery::List {
                ids: Some(ids),
                none: false,
            })
        }
        _ => Err(syntax_error()),
    }
}

fn parse_kill(opts: &[Vec<u8>]) -> Result<KillFilter, Frame> {
    if let [addr] = opts {
        return Ok(KillFilter {
            addr: Some(String::from_utf8_lossy(addr).into_owned()),
            old_form: true,
            ..KillFilter::default()
        });
    }
    let mut f = KillFilter {
        skipme: true,
        ..KillFilter::default()
    };
    let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
    for pair in opts.chunks(2) {
        let [opt, value] = pair else {
            return Err(syntax_error());
        };
        match opt.to_ascii_lowercase().as_slice() {
            b"id" => match string2ll(value).filter(|n| *n >= 1) {
                Some(n) => f.id = Some(n as u64),
                None => return Err(Frame::error("ERR client-id should be greater than 0")),
            },
            b"type" => f.none |= no_client_of_type(value)?,
            b"addr" => f.addr = Some(text(value)),
            b"laddr" => f.laddr = Some(text(value)),
            b"user" if value.as_slice() == b"default" => {}
            b"user" => {
                return Err(Frame::error(format!("ERR No such user '{}'", text(value))));
            }
            b"skipme" if value.eq_ignore_ascii_case(b"yes") => f.skipme = true,
            b"skipme" if value.eq_ignore_ascii_case(b"no") => f.skipme = false,
            _ => return Err(syntax_error()),
        }
    }
    Ok(f)
}

/// One line of CLIENT LIST / CLIENT INFO (`catClientInfoString`), without
/// the newline. Buffer sizes this node does not track are 0.
pub fn client_line(c: &ClientView) -> String {
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags=N db=0 sub=0 psub=0 \
         ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 \
         omem=0 tot-mem=0 events=r cmd={} user=default redir=-1 resp={}",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        String::from_utf8_lossy(&c.name),
        c.age_s,
        c.idle_s,
        c.last_cmd,
        c.resp
    )
}

/// Answers a [`ClientQuery`] of client `me` over the connections `all`.
pub fn answer(query: &ClientQuery, all: &[ClientView], me: u64) -> ClientAnswer {
    let lines = |cs: &mut dyn Iterator<Item = &ClientView>| {
        let text: String = cs.map(|c| client_line(c) + "\n").collect();
        Frame::Verbatim(text.into_bytes())
    };
    let reply_only = |reply| ClientAnswer {
        reply,
        kill: Vec::new(),
        close_me: false,
    };
    match query {
        ClientQuery::Info => reply_only(lines(&mut all.iter().filter(|c| c.id == me))),
        ClientQuery::List { none: true, .. } => reply_only(lines(&mut std::iter::empty())),
        ClientQuery::List { ids: None, .. } => reply_only(lines(&mut all.iter())),
        ClientQuery::List { ids: Some(ids), .. } => reply_only(lines(
            &mut ids.iter().filter_map(|id| all.iter().find(|c| c.id == *id)),
        )),
        ClientQuery::Kill(f) => {
            let kill: Vec<u64> = all
                .iter()
                .filter(|c| f.matches(c, me))
                .map(|c| c.id)
                .collect();
            let reply = match (f.old_form, kill.is_empty()) {
                (true, true) => Frame::error("ERR No such client"),
                (true, false) => Frame::ok(),
                (false, _) => Frame::Integer(kill.len() as i64),
            };
            let close_me = kill.contains(&me);
            let kill = kill.into_iter().filter(|id| *id != me).collect();
            ClientAnswer {
                reply,
                kill,
                close_me,
            }
        }
    }
}

/// CLIENT HELP: the subcommands this node has, in Redis's words.
fn help() -> Frame {
    let lines = [
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "HELP",
        "    Prints this help.",
    ];
    Frame::Array(lines.iter().map(|l| Frame::Simple(l.to_string())).collect())
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
