//! A minimal RESP2 client for the few commands a live run sends (CLUSTER
//! NODES, CLUSTER INFO, INFO, CLUSTER MEET, ...). Spawning `redis-cli` for
//! every 100 ms snapshot of every node would cost more CPU than the nodes
//! themselves on two cores; one short TCP exchange does not.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Longest a reply may take; a stopped (SIGSTOP) node simply times out.
pub const REPLY_TIMEOUT: Duration = Duration::from_millis(500);
/// Largest bulk reply accepted (CLUSTER NODES of a small cluster is a few kB).
const MAX_BULK: usize = 4 * 1024 * 1024;

/// A reply, reduced to what the run reads: text or an error line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `+`, `:`, or `$` replies, as text.
    Text(String),
    /// A `-ERR ...` reply.
    Error(String),
    /// `$-1` or `*` replies (not read further by live runs).
    Other,
}

/// Sends one command to `127.0.0.1:port` and reads its reply.
pub fn command(port: u16, args: &[&str]) -> std::io::Result<Reply> {
    command_within(port, args, REPLY_TIMEOUT)
}

/// [`command`], waiting up to `limit` for the reply.
pub fn command_within(port: u16, args: &[&str], limit: Duration) -> std::io::Result<Reply> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, REPLY_TIMEOUT)?;
    stream.set_read_timeout(Some(limit))?;
    stream.set_write_timeout(Some(REPLY_TIMEOUT))?;
    let mut req = format!("*{}\r\n", args.len());
    for a in args {
        req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    stream.write_all(req.as_bytes())?;
    read_reply(&mut BufReader::new(stream))
}

/// Sends a command and returns its text, or an error naming the node for
/// an error reply, a refused connection or a timeout.
pub fn text(port: u16, args: &[&str]) -> Result<String, String> {
    match command(port, args) {
        Ok(Reply::Text(t)) => Ok(t),
        Ok(Reply::Error(e)) => Err(format!("{}: {e}", args.join(" "))),
        Ok(Reply::Other) => Err(format!("{}: unexpected reply type", args.join(" "))),
        Err(e) => Err(format!("{} on port {port}: {e}", args.join(" "))),
    }
}

fn read_reply(r: &mut impl BufRead) -> std::io::Result<Reply> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let line = line.trim_end_matches(['\r', '\n']);
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "bad RESP reply");
    let (kind, rest) = line.split_at_checked(1).ok_or_else(bad)?;
    match kind {
        "+" | ":" => Ok(Reply::Text(rest.to_string())),
        "-" => Ok(Reply::Error(rest.to_string())),
        "$" => {
            let n: i64 = rest.parse().map_err(|_| bad())?;
            if n < 0 {
                return Ok(Reply::Other);
            }
            let n = usize::try_from(n).map_err(|_| bad())?;
            if n > MAX_BULK {
                return Err(bad());
            }
            let mut buf = vec![0u8; n + 2];
            r.read_exact(&mut buf)?;
            buf.truncate(n);
            Ok(Reply::Text(String::from_utf8_lossy(&buf).into_owned()))
        }
        _ => Ok(Reply::Other),
    }
}
