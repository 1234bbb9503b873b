//! One client connection of the RESP port: bytes in, requests to the node
//! task, replies out. A malformed request gets Redis's protocol error and
//! the connection is closed, as Redis does; a command error is only a reply.

use std::os::fd::AsRawFd;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use tokio::sync::{mpsc, oneshot, Notify};

use crate::commands::Session;
use crate::resp::{parse_request, parse_request_with, Frame, Protocol, RequestError};

use super::clients::ClientOpened;
use super::replication::FeedReceiver;
use super::Input;
use std::sync::atomic::Ordering;

/// What the node task answers to one request.
#[derive(Debug)]
pub struct ClientReply {
    pub frame: Frame,
    pub session: Session,
    /// Close the connection after the reply (QUIT).
    pub close: bool,
}

/// The requests of one pipeline, on their way to the node task together
/// (one wake-up of the node task for many requests, as Redis runs every
/// command of one read before it writes).
#[derive(Debug)]
pub struct ClientBatch {
    pub requests: Vec<Vec<Vec<u8>>>,
    pub session: Session,
    pub reply: oneshot::Sender<BatchReply>,
}

/// What the node task answers to a batch.
#[derive(Debug)]
pub struct BatchReply {
    /// Each reply, with the protocol it is written in (HELLO may switch it).
    pub frames: Vec<(Frame, Protocol)>,
    pub session: Session,
    /// Close after the replies (QUIT).
    pub close: bool,
    /// Requests not run (a write while writes are paused, and what followed
    /// it): sent one by one.
    pub rest: Vec<Vec<Vec<u8>>>,
}

/// Most requests of one batch.
const MAX_BATCH: usize = 1024;

/// A request on its way to the node task.
#[derive(Debug)]
pub struct ClientRequest {
    pub args: Vec<Vec<u8>>,
    pub session: Session,
    pub reply: oneshot::Sender<ClientReply>,
}

/// Deregisters a client connection when its task ends, however it ends.
struct Registered {
    id: u64,
    inputs: mpsc::Sender<Input>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let closed = Input::ClientClosed { id: self.id };
        // Drop cannot wait: when the queue is full, a small task waits for
        // room, so the registry never keeps a closed connection.
        if let Err(mpsc::error::TrySendError::Full(closed)) = self.inputs.try_send(closed) {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                let inputs = self.inputs.clone();
                rt.spawn(async move { inputs.send(closed).await });
            }
        }
    }
}

/// Serves one client until it disconnects, sends garbage, is killed
/// (CLIENT KILL), or the node stops. The connection is registered with the
/// node task for as long as it serves requests.
pub async fn run(stream: TcpStream, inputs: mpsc::Sender<Input>, session: Session) {
    let kill = Arc::new(Notify::new());
    let addr =
        |a: std::io::Result<std::net::SocketAddr>| a.map(|a| a.to_string()).unwrap_or_default();
    let opened = ClientOpened {
        id: session.id,
        addr: addr(stream.peer_addr()),
        laddr: addr(stream.local_addr()),
        fd: i64::from(stream.as_raw_fd()),
        kill: kill.clone(),
    };
    if inputs.send(Input::ClientOpened(opened)).await.is_err() {
        return;
    }
    let _registered = Registered {
        id: session.id,
        inputs: inputs.clone(),
    };
    serve(stream, inputs, session, &kill).await;
}

async fn serve(
    mut stream: TcpStream,
    inputs: mpsc::Sender<Input>,
    session: Session,
    kill: &Notify,
) {
    let peer = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let _ = stream.set_nodelay(true);
    let mut session = session;
    let peer_ip = stream
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let mut listening_port = 0u16;
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let mut out = Vec::new();
        let mut close = false;
        // Requests parsed and not yet run: a pipeline goes to the node task
        // as one batch.
        let mut pending: Vec<Vec<Vec<u8>>> = Vec::new();
        loop {
            // Before AUTH, Redis's tighter request limits apply.
            match parse_request_with(&buf, !session.authenticated) {
                Ok((args, used)) => {
                    buf.drain(..used);
                    if args.is_empty() {
                        continue;
                    }
                    let single = match batchable(&args, &session) {
                        true => {
                            pending.push(args);
                            if pending.len() < MAX_BATCH {
                                continue;
                            }
                            None
                        }
                        false => Some(args),
                    };
                    // What is pending runs before anything else.
                    match run_batch(&inputs, &mut pending, &mut session, &mut out).await {
                        None => return,
                        Some(true) => {
                            close = true;
                            break;
                        }
                        Some(false) => {}
                    }
                    let Some(args) = single else { continue };
                    match replication_handshake(&args, &session, &mut listening_port) {
                        Handshake::NotReplication => {}
                        Handshake::Reply(frame) => {
                            frame.encode(&mut out);
                            continue;
                        }
                        Handshake::Psync => {
                            if stream.write_all(&out).await.is_err() {
                                return;
                            }
                            // A replica's feed is not a client (Redis
                            // counts replicas apart from clients).
                            let _ = inputs.send(Input::ClientClosed { id: session.id }).await;
                            feed_replica(stream, buf, inputs, peer_ip, listening_port).await;
                            return;
                        }
                    }
                    let Some(reply) = ask(&inputs, args, session.clone()).await else {
                        return;
                    };
                    // In the protocol after the command: HELLO 3's own
                    // reply is already RESP3, as in Redis.
                    reply.frame.encode_as(reply.session.protocol, &mut out);
                    session = reply.session;
                    if reply.close {
                        close = true;
                        break;
                    }
                }
                Err(RequestError::Incomplete) => break,
                Err(RequestError::Invalid(why)) => {
                    // The good requests before the bad one are answered
                    // first; the bad one too, unless one of them was QUIT.
                    let Some(quit) = run_batch(&inputs, &mut pending, &mut session, &mut out).await
                    else {
                        return;
                    };
                    if !quit {
                        tracing::info!("client {peer}: {why}; closing the connection");
                        Frame::Error(format!("ERR {why}")).encode(&mut out);
                    }
                    close = true;
                    break;
                }
            }
        }
        if !close {
            match run_batch(&inputs, &mut pending, &mut session, &mut out).await {
                None => return,
                Some(quit) => close = quit,
            }
        }
        if !out.is_empty() && stream.write_all(&out).await.is_err() {
            return;
        }
        if close {
            let _ = stream.shutdown().await;
            return;
        }
        // A kill (CLIENT KILL) wins over a request that arrived with it:
        // once KILL has replied, this client is served nothing more.
        let read = tokio::select! {
            biased;
            _ = kill.notified() => return,
            r = stream.read(&mut chunk) => r,
        };
        match read {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > CLIENT_MAX_QUERYBUF_LEN {
            tracing::info!("client {peer}: query buffer over 1 GiB; closing the connection");
            return;
        }
    }
}

/// Whether a request may wait in a batch: not before AUTH (the parse
/// limits and the session may change), not AUTH or HELLO themselves, not
/// the replication commands, which change what the connection is.
fn batchable(args: &[Vec<u8>], session: &Session) -> bool {
    let name = args[0].to_ascii_lowercase();
    // CLUSTERBUS.TEST (the testing mode) may answer late: never in a batch.
    let special = [
        &b"auth"[..],
        b"hello",
        b"replconf",
        b"psync",
        b"sync",
        b"clusterbus.test",
    ];
    session.authenticated && !special.contains(&name.as_slice())
}

/// Runs the pending requests and appends their replies to `out`: one as a
/// single request, more as a batch, then what the batch handed back one by
/// one. Some(true) to close (QUIT), None when the node task is gone.
async fn run_batch(
    inputs: &mpsc::Sender<Input>,
    pending: &mut Vec<Vec<Vec<u8>>>,
    session: &mut Session,
    out: &mut Vec<u8>,
) -> Option<bool> {
    let mut one_by_one = match pending.len() {
        0 => return Some(false),
        1 => std::mem::take(pending),
        _ => {
            let (tx, rx) = oneshot::channel();
            let batch = ClientBatch {
                requests: std::mem::take(pending),
                session: session.clone(),
                reply: tx,
            };
            inputs.send(Input::ClientBatch(batch)).await.ok()?;
            let reply = rx.await.ok()?;
            for (frame, protocol) in &reply.frames {
                frame.encode_as(*protocol, out);
            }
            *session = reply.session;
            if reply.close {
                return Some(true);
            }
            reply.rest
        }
    };
    for args in one_by_one.drain(..) {
        let reply = ask(inputs, args, session.clone()).await?;
        reply.frame.encode_as(reply.session.protocol, out);
        *session = reply.session;
        if reply.close {
            return Some(true);
        }
    }
    Some(false)
}

async fn ask(
    inputs: &mpsc::Sender<Input>,
    args: Vec<Vec<u8>>,
    session: Session,
) -> Option<ClientReply> {
    let (tx, rx) = oneshot::channel();
    inputs
        .send(Input::Client(ClientRequest {
            args,
            session,
            reply: tx,
        }))
        .await
        .ok()?;
    rx.await.ok()
}

/// Largest unparsed input kept for one client (`client-query-buffer-limit`).
const CLIENT_MAX_QUERYBUF_LEN: usize = 1 << 30;

/// What a request means for replication.
enum Handshake {
    /// An ordinary command.
    NotReplication,
    /// REPLCONF (or a refused replication command): reply and go on.
    Reply(Frame),
    /// PSYNC/SYNC: this connection now carries a replication feed.
    Psync,
}

/// REPLCONF and PSYNC are answered here, not by the command table: they
/// change what the connection is rather than the data.
fn replication_handshake(
    args: &[Vec<u8>],
    session: &Session,
    listening_port: &mut u16,
) -> Handshake {
    let name = args[0].to_ascii_lowercase();
    let replication = matches!(name.as_slice(), b"replconf" | b"psync" | b"sync");
    if !replication {
        return Handshake::NotReplication;
    }
    if !session.authenticated {
        return Handshake::Reply(Frame::error("NOAUTH Authentication required."));
    }
    if name != b"replconf" {
        return Handshake::Psync;
    }
    let mut pairs = args[1..].chunks(2);
    for pair in &mut pairs {
        let [key, value] = pair else {
            return Handshake::Reply(Frame::error("ERR syntax error"));
        };
        if key.eq_ignore_ascii_case(b"listening-port") {
            match std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()) {
                Some(port) => *listening_port = port,
                None => {
                    return Handshake::Reply(Frame::error(
                        "ERR value is not an integer or out of range",
                    ))
                }
            }
        }
    }
    Handshake::Reply(Frame::ok())
}

/// Serves a replica: writes its feed (snapshot, then the stream) and reads
/// its `REPLCONF ACK <offset>` lines, until either side closes.
async fn feed_replica(
    stream: TcpStream,
    mut buf: Vec<u8>,
    inputs: mpsc::Sender<Input>,
    ip: String,
    port: u16,
) {
    let (tx, rx) = oneshot::channel();
    let attach = Input::ReplicaAttach {
        ip,
        port,
        reply: tx,
    };
    if inputs.send(attach).await.is_err() {
        return;
    }
    let Ok(FeedReceiver {
        id,
        rx: mut feed,
        queued,
    }) = rx.await
    else {
        return;
    };
    let (mut rd, mut wr) = stream.into_split();
    let mut chunk = vec![0u8; 4096];
    loop {
        while let Ok((args, used)) = parse_request(&buf) {
            buf.drain(..used);
            if let Some(offset) = ack_offset(&args) {
                let _ = inputs.send(Input::ReplicaAck { id, offset }).await;
            }
        }
        tokio::select! {
            bytes = feed.recv() => match bytes {
                Some(b) if wr.write_all(&b).await.is_ok() => {
                    queued.fetch_sub(b.len(), Ordering::Relaxed);
                }
                _ => break,
            },
            n = rd.read(&mut chunk) => match n {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            },
        }
        if buf.len() > MAX_ACK_BUFFER {
            break;
        }
    }
    let _ = inputs.send(Input::ReplicaGone { id }).await;
}

/// A replica sends only short ACKs; more than this unread is not one.
const MAX_ACK_BUFFER: usize = 64 * 1024;

fn ack_offset(args: &[Vec<u8>]) -> Option<u64> {
    match args {
        [cmd, sub, offset]
            if cmd.eq_ignore_ascii_case(b"replconf") && sub.eq_ignore_ascii_case(b"ack") =>
        {
            std::str::from_utf8(offset).ok()?.parse().ok()
        }
        _ => None,
    }
}
