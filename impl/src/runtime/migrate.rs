//! MIGRATE's exchange with the target node: connect (or reuse the
//! connection of an earlier MIGRATE to it), send AUTH, SELECT and the
//! RESTORE-ASKING commands in one write, read one reply line per command.
//!
//! Blocking, with the command's timeout on the connect and on each read
//! and write, as Redis's `migrateCommand` is: the node task serves nothing
//! else meanwhile, so no client can change a key between its DUMP and its
//! DEL. (On the multi-threaded runtime the node task lends its worker
//! thread for the wait, see [`run_in_place`].)

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::commands::migrate::{MigrateIo, MigrateJob};

use super::replication::command_bytes;

/// The longest reply line read from the target (a status or an error).
const MAX_REPLY_LINE: usize = 64 * 1024;

/// How long an idle connection to a target is kept (`MIGRATE_SOCKET_CACHE_TTL`).
pub const CACHE_TTL_MS: u64 = 10_000;
/// Targets with a kept connection at most (`MIGRATE_SOCKET_CACHE_ITEMS`).
pub const CACHE_ITEMS: usize = 64;

/// What one exchange gives: per command, `Ok` or an error reply's text.
pub type Replies = Vec<Result<(), String>>;

/// An exchange that broke off: why, and the replies read before it did
/// (the keys they acknowledge are on the target and must go from here).
#[derive(Debug)]
pub struct Broken {
    pub io: MigrateIo,
    pub replies: Replies,
    /// The failure was a timeout (a kept connection is not retried then).
    timed_out: bool,
}

impl Broken {
    fn at(io: MigrateIo, timed_out: bool, replies: Replies) -> Broken {
        Broken {
            io,
            replies,
            timed_out,
        }
    }
}

/// A connection kept for the next MIGRATE to the same target.
struct Cached {
    stream: TcpStream,
    /// The database the target has selected on it.
    db: Vec<u8>,
    last_used_ms: u64,
}

/// Connections to MIGRATE targets, kept for [`CACHE_TTL_MS`] as Redis keeps
/// them, so that a reshard's many MIGRATEs do not each connect anew.
#[derive(Default)]
pub struct MigrateConns {
    by_target: HashMap<(String, u16), Cached>,
}

impl MigrateConns {
    /// Closes the connections idle for longer than [`CACHE_TTL_MS`]
    /// (`migrateCloseTimedoutSockets`).
    pub fn expire(&mut self, now_ms: u64) {
        self.by_target
            .retain(|_, c| now_ms.saturating_sub(c.last_used_ms) <= CACHE_TTL_MS);
    }

    /// Runs `job` on a kept connection or a new one. A kept connection that
    /// fails other than by a timeout before any key was acknowledged may
    /// have been closed by the target meanwhile: the job is tried once more
    /// on a new one, as Redis does.
    pub fn run(&mut self, job: &MigrateJob, now_ms: u64) -> Result<Replies, Broken> {
        let target = (job.host.clone(), job.port);
        if let Some(cached) = self.by_target.remove(&target) {
            match exchange(job, &cached.stream, Some(&cached.db)) {
                Ok(replies) => return Ok(self.keep(target, cached.stream, job, replies, now_ms)),
                Err(b) if b.timed_out || b.replies.len() > job.prelude() => return Err(b),
                Err(_) => {}
            }
        }
        if self.by_target.len() >= CACHE_ITEMS {
            // Make room: the least recently used goes.
            let oldest = self
                .by_target
                .iter()
                .min_by_key(|(_, c)| c.last_used_ms)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.by_target.remove(&k);
            }
        }
        let stream = connect(job).map_err(|io| Broken::at(io, false, Vec::new()))?;
        match exchange(job, &stream, None) {
            Ok(replies) => Ok(self.keep(target, stream, job, replies, now_ms)),
            Err(b) => Err(b),
        }
    }

    /// Keeps `stream` unless the target refused the SELECT (Redis then
    /// forgets which database is selected; here the connection goes).
    fn keep(
        &mut self,
        target: (String, u16),
        stream: TcpStream,
        job: &MigrateJob,
        replies: Replies,
        now_ms: u64,
    ) -> Replies {
        let select = job.prelude() - 1;
        if replies.get(select).is_some_and(|r| r.is_ok()) {
            let db = job.commands[select][1].clone();
            self.by_target.insert(
                target,
                Cached {
                    stream,
                    db,
                    last_used_ms: now_ms,
                },
            );
        }
        replies
    }
}

fn connect(job: &MigrateJob) -> Result<TcpStream, MigrateIo> {
    let timeout = Duration::from_millis(job.timeout_ms.max(1));
    let addr = (job.host.as_str(), job.port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or(MigrateIo::Writing)?;
    TcpStream::connect_timeout(&addr, timeout).map_err(|_| MigrateIo::Writing)
}

/// Runs `job`'s commands on `stream`, leaving out its SELECT when
/// `selected` is already its database.
fn exchange(
    job: &MigrateJob,
    stream: &TcpStream,
    selected: Option<&[u8]>,
) -> Result<Replies, Broken> {
    let timeout = Duration::from_millis(job.timeout_ms.max(1));
    let timeouts = stream
        .set_write_timeout(Some(timeout))
        .and_then(|()| stream.set_read_timeout(Some(timeout)));
    timeouts.map_err(|_| Broken::at(MigrateIo::Writing, false, Vec::new()))?;
    let select = job.prelude() - 1;
    let skip_select =
        selected.is_some_and(|db| job.commands[select].get(1).map(Vec::as_slice) == Some(db));
    let mut out = Vec::new();
    for (k, cmd) in job.commands.iter().enumerate() {
        if !(skip_select && k == select) {
            out.extend(command_bytes(cmd));
        }
    }
    let timed_out = |e: &std::io::Error| {
        matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        )
    };
    (&*stream)
        .write_all(&out)
        .map_err(|e| Broken::at(MigrateIo::Writing, timed_out(&e), Vec::new()))?;
    let mut reader = BufReader::new(stream);
    let mut replies = Vec::with_capacity(job.commands.len());
    let mut line = Vec::new();
    for k in 0..job.commands.len() {
        if skip_select && k == select {
            replies.push(Ok(()));
            continue;
        }
        line.clear();
        let read = Read::take(&mut reader, MAX_REPLY_LINE as u64).read_until(b'\n', &mut line);
        match read {
            Ok(n) if n > 0 && line.ends_with(b"\n") => {}
            Ok(_) => return Err(Broken::at(MigrateIo::Reading, false, replies)),
            Err(e) => return Err(Broken::at(MigrateIo::Reading, timed_out(&e), replies)),
        }
        let text = String::from_utf8_lossy(&line[1..]).trim_end().to_string();
        replies.push(if line[0] == b'-' { Err(text) } else { Ok(()) });
    }
    Ok(replies)
}

/// [`MigrateConns::run`], from the node task: on the multi-threaded
/// runtime the worker thread is handed over to the other tasks while this
/// one blocks.
pub fn run_in_place(
    conns: &mut MigrateConns,
    job: &MigrateJob,
    now_ms: u64,
) -> Result<Replies, Broken> {
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi_thread {
        tokio::task::block_in_place(|| conns.run(job, now_ms))
    } else {
        conns.run(job, now_ms)
    }
}
