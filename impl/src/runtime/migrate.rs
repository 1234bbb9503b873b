//! MIGRATE's exchange with the target node: connect, send AUTH, SELECT and
//! the RESTORE-ASKING commands in one write, read one reply line per
//! command. Blocking, with the command's timeout on the connect and on each
//! read and write, as Redis's `migrateCommand` is: the node serves nothing
//! else meanwhile, so no client can change a key between its DUMP and its
//! DEL. (On the multi-threaded runtime the node task lends its worker
//! thread for the wait, see [`exchange_in_place`].)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::commands::migrate::{MigrateIo, MigrateJob};

use super::replication::command_bytes;

/// The longest reply line read from the target (a status or an error).
const MAX_REPLY_LINE: usize = 64 * 1024;

/// Runs `job`'s exchange: one entry per command, `Err` holding the text of
/// an error reply (without its `-`).
pub fn exchange(job: &MigrateJob) -> Result<Vec<Result<(), String>>, MigrateIo> {
    let timeout = Duration::from_millis(job.timeout_ms.max(1));
    let addr = (job.host.as_str(), job.port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or(MigrateIo::Writing)?;
    let stream = TcpStream::connect_timeout(&addr, timeout).map_err(|_| MigrateIo::Writing)?;
    let timeouts = stream
        .set_write_timeout(Some(timeout))
        .and_then(|()| stream.set_read_timeout(Some(timeout)));
    timeouts.map_err(|_| MigrateIo::Writing)?;
    let mut out = Vec::new();
    for cmd in &job.commands {
        out.extend(command_bytes(cmd));
    }
    (&stream).write_all(&out).map_err(|_| MigrateIo::Writing)?;
    let mut reader = BufReader::new(&stream);
    let mut replies = Vec::with_capacity(job.commands.len());
    let mut line = Vec::new();
    for _ in &job.commands {
        line.clear();
        let read = Read::take(&mut reader, MAX_REPLY_LINE as u64).read_until(b'\n', &mut line);
        match read {
            Ok(n) if n > 0 && line.ends_with(b"\n") => {}
            _ => return Err(MigrateIo::Reading),
        }
        let text = String::from_utf8_lossy(&line[1..]).trim_end().to_string();
        replies.push(if line[0] == b'-' { Err(text) } else { Ok(()) });
    }
    Ok(replies)
}

/// [`exchange`], from the node task: on the multi-threaded runtime the
/// worker thread is handed over to the other tasks while this one blocks.
pub fn exchange_in_place(job: &MigrateJob) -> Result<Vec<Result<(), String>>, MigrateIo> {
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi_thread {
        tokio::task::block_in_place(|| exchange(job))
    } else {
        exchange(job)
    }
}
