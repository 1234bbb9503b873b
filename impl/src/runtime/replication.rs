//! Replication as Redis does it, so that either side may be redis-server: a
//! replica connects to its master's client port and says, waiting for each
//! answer (Redis refuses a PSYNC while replies are pending), `PING`,
//! `AUTH` (with `masterauth`), `REPLCONF listening-port P`, `REPLCONF capa
//! psync2` and `PSYNC ? -1`; the master answers `+FULLRESYNC <replid>
//! <offset>`, sends its data set as an RDB file in one bulk payload
//! ([`crate::rdb`]; Redis may send newlines first while it prepares it),
//! then streams every write as a RESP command. The replica applies them in
//! order, counts the stream's bytes as its replication offset (announced in
//! bus headers, which is what the election rank compares), and acknowledges
//! with `REPLCONF ACK <offset>` every second. Every (re)connection is a
//! full resync.
//!
//! [`Source`] is the master side and [`Sink`] the replica side, both owned
//! by the node task; [`follow`] is the replica's connection task.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::commands::ReplicationFacts;
use crate::db::Db;
use crate::rdb;
use crate::resp::{parse_request, Frame, RequestError};

use super::Input;

/// How often a replica acknowledges its offset (`replicationCron`: 1 s).
const REPL_ACK_PERIOD_MS: u64 = 1000;
/// A replica gives up on a master silent for this long (`repl-timeout`);
/// the master pings every 10 s.
const REPL_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest snapshot a replica accepts (`proto-max-bulk-len`'s 512 MB, twice).
const MAX_SNAPSHOT_LEN: usize = 1 << 30;
/// Longest handshake reply line a replica reads.
const MAX_LINE_LEN: usize = 64 * 1024;
/// Wait before a replica reconnects to its master after a failure.
const REPL_RETRY_MS: u64 = 1000;

/// The wire form of a command: a RESP array of bulk strings.
pub fn command_bytes(args: &[Vec<u8>]) -> Vec<u8> {
    Frame::Array(args.iter().map(|a| Frame::Bulk(a.clone())).collect()).to_bytes()
}

/// The length of [`command_bytes`] of `args`, without building them.
pub fn command_len(args: &[Vec<u8>]) -> u64 {
    let digits = |n: usize| n.to_string().len() as u64;
    let head = 1 + digits(args.len()) + 2;
    head + args
        .iter()
        .map(|a| 1 + digits(a.len()) + 2 + a.len() as u64 + 2)
        .sum::<u64>()
}

/// Most bytes queued for one replica before the master drops it
/// (`client-output-buffer-limit replica`'s hard limit, 256 MB).
const FEED_LIMIT_BYTES: usize = 256 << 20;

/// The replica connection's end of a feed: the bytes to write, and the
/// count of bytes queued, which the writer lowers as it writes.
#[derive(Debug)]
pub struct FeedReceiver {
    pub id: u64,
    pub rx: mpsc::UnboundedReceiver<Vec<u8>>,
    pub queued: Arc<AtomicUsize>,
}

/// One attached replica, as the master sees it.
#[derive(Debug)]
struct Feed {
    tx: mpsc::UnboundedSender<Vec<u8>>,
    queued: Arc<AtomicUsize>,
    ip: String,
    port: u16,
    acked: u64,
}

/// The master side: the replication id and offset, and the replicas fed.
#[derive(Debug)]
pub struct Source {
    pub replid: String,
    /// Bytes of write stream produced under this replid (`master_repl_offset`).
    pub offset: u64,
    feeds: BTreeMap<u64, Feed>,
    next_feed: u64,
}

impl Source {
    /// A source with a new replication id, continuing from `offset`.
    pub fn new(replid: String, offset: u64) -> Source {
        Source {
            replid,
            offset,
            feeds: BTreeMap::new(),
            next_feed: 1,
        }
    }

    /// Appends a write to the stream and sends it to every replica.
    pub fn propagate(&mut self, args: &[Vec<u8>]) {
        if self.feeds.is_empty() {
            // No replica to feed: the offset still counts the stream.
            self.offset += command_len(args);
            return;
        }
        let bytes = command_bytes(args);
        self.offset += bytes.len() as u64;
        self.feeds.retain(|_, f| {
            if f.queued.load(Ordering::Relaxed) > FEED_LIMIT_BYTES {
                tracing::warn!("replica {}:{} is 256 MB behind; dropping it", f.ip, f.port);
                return false;
            }
            f.queued.fetch_add(bytes.len(), Ordering::Relaxed);
            f.tx.send(bytes.clone()).is_ok()
        });
    }

    /// Pings the replicas through the stream (`replicationCron`).
    pub fn ping(&mut self) {
        if !self.feeds.is_empty() {
            self.propagate(&[b"PING".to_vec()]);
        }
    }

    /// Attaches a replica: queues `+FULLRESYNC`, the snapshot of `db`, and
    /// from then on the stream. Returns its id and what to write to it.
    pub fn attach(&mut self, db: &Db, now_ms: u64, ip: String, port: u16) -> FeedReceiver {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut first = format!("+FULLRESYNC {} {}\r\n", self.replid, self.offset).into_bytes();
        let payload = snapshot(db, now_ms);
        first.extend_from_slice(format!("${}\r\n", payload.len()).as_bytes());
        first.extend_from_slice(&payload);
        let queued = Arc::new(AtomicUsize::new(first.len()));
        let _ = tx.send(first);
        let id = self.next_feed;
        self.next_feed += 1;
        tracing::info!(
            "replica {ip}:{port} attached; full resync at offset {}",
            self.offset
        );
        let acked = self.offset;
        let feed = Feed {
            tx,
            queued: queued.clone(),
            ip,
            port,
            acked,
        };
        self.feeds.insert(id, feed);
        FeedReceiver { id, rx, queued }
    }

    /// A replica acknowledged `offset`.
    pub fn ack(&mut self, id: u64, offset: u64) {
        if let Some(f) = self.feeds.get_mut(&id) {
            f.acked = offset;
        }
    }

    /// A replica's connection closed.
    pub fn detach(&mut self, id: u64) {
        if let Some(f) = self.feeds.remove(&id) {
            tracing::info!("replica {}:{} detached", f.ip, f.port);
        }
    }

    /// Drops every replica (this node became a replica itself).
    pub fn detach_all(&mut self) {
        self.feeds.clear();
    }

    /// The replicas as INFO replication lists them.
    pub fn replicas(&self) -> Vec<(String, u16, u64)> {
        self.feeds
            .values()
            .map(|f| (f.ip.clone(), f.port, f.acked))
            .collect()
    }
}

/// The data set as the RDB file a full resync sends.
pub fn snapshot(db: &Db, now_ms: u64) -> Vec<u8> {
    let live: Vec<_> = db
        .iter_live(now_ms)
        .map(|(k, e)| (k.as_slice(), e))
        .collect();
    let aux = rdb::write::Aux {
        version: "7.0.15".into(),
        ctime_s: now_ms / 1000,
        used_mem: 0,
    };
    rdb::write(live.into_iter(), &aux)
}

/// The replica side: which master it follows, the task doing it, and what
/// INFO replication reports.
#[derive(Debug, Default)]
pub struct Sink {
    target: Option<(String, u16)>,
    task: Option<JoinHandle<()>>,
    /// Bumped at every new connection task, so inputs from an old one are
    /// recognised and ignored.
    pub generation: u64,
    pub link_up: bool,
    /// Offset processed from the master's stream.
    pub offset: u64,
    pub replid: String,
}

impl Sink {
    /// Follows the master at `target` (client address), or nobody. A new
    /// target stops the old connection and starts a new one.
    pub fn follow(
        &mut self,
        target: Option<(String, u16)>,
        my_port: u16,
        auth: Option<String>,
        inputs: &mpsc::Sender<Input>,
    ) {
        if self.target == target {
            return;
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
        self.generation += 1;
        self.link_up = false;
        self.target = target.clone();
        if let Some((ip, port)) = target {
            tracing::info!("replicating from {ip}:{port}");
            let task = follow(self.generation, ip, port, my_port, auth, inputs.clone());
            self.task = Some(tokio::spawn(task));
        }
    }

    /// Stops following; the next [`Sink::follow`] starts a new connection.
    pub fn reset(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
        self.target = None;
        self.link_up = false;
    }

    /// Whether a master is being followed.
    pub fn following(&self) -> bool {
        self.target.is_some()
    }

    /// The master as INFO replication reports it.
    pub fn facts(&self, source: &Source) -> ReplicationFacts {
        let following = self.target.is_some() && !self.replid.is_empty();
        ReplicationFacts {
            master_replid: if following {
                self.replid.clone()
            } else {
                source.replid.clone()
            },
            master_repl_offset: if self.target.is_some() {
                self.offset
            } else {
                source.offset
            },
            master: self
                .target
                .as_ref()
                .map(|(ip, port)| (ip.clone(), *port, self.link_up)),
            replicas: source.replicas(),
        }
    }
}

/// The replica's connection task: connect, handshake, receive the snapshot
/// and the stream, acknowledge; on any failure wait and start over.
pub async fn follow(
    generation: u64,
    ip: String,
    port: u16,
    my_port: u16,
    auth: Option<String>,
    inputs: mpsc::Sender<Input>,
) {
    loop {
        let hello = Hello {
            my_port,
            auth: auth.as_deref(),
        };
        let why = match sync_once(generation, &ip, port, &hello, &inputs).await {
            Ok(()) => "master closed the connection".to_string(),
            Err(e) => e,
        };
        if inputs
            .send(Input::ReplLinkDown { generation })
            .await
            .is_err()
        {
            return;
        }
        tracing::info!("replication from {ip}:{port}: {why}; retrying");
        tokio::time::sleep(Duration::from_millis(REPL_RETRY_MS)).await;
    }
}

/// What a replica says first.
struct Hello<'a> {
    my_port: u16,
    /// `masterauth`.
    auth: Option<&'a str>,
}

async fn sync_once(
    generation: u64,
    ip: &str,
    port: u16,
    hello: &Hello<'_>,
    inputs: &mpsc::Sender<Input>,
) -> Result<(), String> {
    let mut s = tokio::time::timeout(REPL_TIMEOUT, TcpStream::connect((ip, port)))
        .await
        .map_err(|_| "connect: timed out".to_string())?
        .map_err(|e| format!("connect: {e}"))?;
    let mut buf = Vec::new();
    let ask = |words: Vec<&[u8]>, want: &'static [&'static str]| {
        let bytes = command_bytes(&words.iter().map(|w| w.to_vec()).collect::<Vec<_>>());
        (bytes, want)
    };
    let port = hello.my_port.to_string();
    // Before AUTH a master with a password answers PING with -NOAUTH,
    // which tells the replica it is there (`syncWithMaster`).
    let mut steps = vec![ask(vec![b"PING"], &["+PONG", "-NOAUTH", "-NOPERM"])];
    if let Some(password) = hello.auth {
        steps.push(ask(vec![b"AUTH", password.as_bytes()], &["+OK"]));
    }
    steps.push(ask(
        vec![b"REPLCONF", b"listening-port", port.as_bytes()],
        &["+OK"],
    ));
    steps.push(ask(vec![b"REPLCONF", b"capa", b"psync2"], &["+OK"]));
    steps.push(ask(vec![b"PSYNC", b"?", b"-1"], &["+FULLRESYNC "]));
    let mut line = String::new();
    for (bytes, want) in steps {
        s.write_all(&bytes)
            .await
            .map_err(|e| format!("write: {e}"))?;
        line = expect_line(&mut s, &mut buf, want).await?;
    }
    let mut words = line.split(' ').skip(1);
    let replid = words.next().unwrap_or_default().to_string();
    let offset: u64 = words
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| format!("bad FULLRESYNC line {line:?}"))?;
    // Redis writes a newline now and then while it prepares the payload.
    let len_line = loop {
        while buf.first() == Some(&b'\n') {
            buf.remove(0);
        }
        if !buf.is_empty() {
            break expect_line(&mut s, &mut buf, &["$"]).await?;
        }
        read_more(&mut s, &mut buf).await?;
    };
    let len: usize = len_line[1..]
        .parse()
        .ok()
        .filter(|n| *n <= MAX_SNAPSHOT_LEN)
        .ok_or_else(|| format!("bad snapshot length {len_line:?}"))?;
    while buf.len() < len {
        read_more(&mut s, &mut buf).await?;
    }
    let payload: Vec<u8> = buf.drain(..len).collect();
    let snapshot = Input::ReplSnapshot {
        generation,
        replid,
        offset,
        payload,
    };
    inputs
        .send(snapshot)
        .await
        .map_err(|_| "node stopped".to_string())?;
    stream(generation, offset, s, buf, inputs).await
}

/// Reads the write stream after the snapshot, acknowledging every second.
async fn stream(
    generation: u64,
    mut offset: u64,
    mut s: TcpStream,
    mut buf: Vec<u8>,
    inputs: &mpsc::Sender<Input>,
) -> Result<(), String> {
    let mut ack = tokio::time::interval(Duration::from_millis(REPL_ACK_PERIOD_MS));
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        loop {
            match parse_request(&buf) {
                Ok((args, used)) => {
                    buf.drain(..used);
                    offset += used as u64;
                    if !args.is_empty() {
                        let cmd = Input::ReplCommand {
                            generation,
                            args,
                            offset,
                        };
                        inputs
                            .send(cmd)
                            .await
                            .map_err(|_| "node stopped".to_string())?;
                    }
                }
                Err(RequestError::Incomplete) => break,
                Err(RequestError::Invalid(e)) => return Err(format!("bad stream: {e}")),
            }
        }
        tokio::select! {
            _ = ack.tick() => {
                let msg = command_bytes(&[b"REPLCONF".to_vec(), b"ACK".to_vec(), offset.to_string().into_bytes()]);
                s.write_all(&msg).await.map_err(|e| format!("write: {e}"))?;
            }
            n = tokio::time::timeout(REPL_TIMEOUT, s.read(&mut chunk)) => match n {
                Ok(Ok(0)) => return Ok(()),
                Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
                Ok(Err(e)) => return Err(format!("read: {e}")),
                Err(_) => return Err(format!("master silent for {} s", REPL_TIMEOUT.as_secs())),
            },
        }
    }
}

async fn read_more(s: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(), String> {
    let mut chunk = vec![0u8; 64 * 1024];
    match tokio::time::timeout(REPL_TIMEOUT, s.read(&mut chunk)).await {
        Ok(Ok(0)) => Err("master closed the connection".into()),
        Ok(Ok(n)) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(())
        }
        Ok(Err(e)) => Err(format!("read: {e}")),
        Err(_) => Err(format!("master silent for {} s", REPL_TIMEOUT.as_secs())),
    }
}

/// Reads one CRLF-terminated line that must start with one of `prefixes`.
async fn expect_line(
    s: &mut TcpStream,
    buf: &mut Vec<u8>,
    prefixes: &[&str],
) -> Result<String, String> {
    loop {
        if let Some(end) = buf.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 2);
            if prefixes.iter().any(|p| line.starts_with(p)) {
                return Ok(line);
            }
            return Err(format!("expected {prefixes:?}, master said {line:?}"));
        }
        if buf.len() > MAX_LINE_LEN {
            return Err(format!("no line end in {MAX_LINE_LEN} bytes"));
        }
        read_more(s, buf).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Entry;

    #[test]
    fn a_snapshot_is_an_rdb_of_the_live_keys() {
        let mut db = Db::new();
        let live = Entry {
            value: b"v".to_vec(),
            expires_at_ms: Some(5_000),
        };
        db.set(b"k".to_vec(), live.clone());
        db.set(
            b"gone".to_vec(),
            Entry {
                value: b"x".to_vec(),
                expires_at_ms: Some(10),
            },
        );
        let loaded = rdb::read(&snapshot(&db, 100)).expect("an RDB");
        assert_eq!(loaded.entries, vec![(b"k".to_vec(), live)]);
    }

    #[test]
    fn the_length_of_a_command_is_that_of_its_bytes() {
        for args in [
            vec![b"SET".to_vec(), b"k".to_vec(), vec![b'v'; 1234]],
            vec![b"PING".to_vec()],
            (0..12).map(|i| vec![b'x'; i * 9]).collect(),
        ] {
            assert_eq!(command_len(&args), command_bytes(&args).len() as u64);
        }
    }

    #[test]
    fn the_offset_counts_stream_bytes_and_feeds_get_them() {
        let mut src = Source::new("a".repeat(40), 10);
        let db = Db::new();
        let FeedReceiver { id, mut rx, queued } = src.attach(&db, 0, "127.0.0.1".into(), 7000);
        let first = rx.try_recv().unwrap();
        let head = format!("+FULLRESYNC {} 10\r\n$", "a".repeat(40));
        assert!(first.starts_with(head.as_bytes()));
        assert!(
            first.ends_with(&snapshot(&db, 0)),
            "an RDB of the empty data set"
        );
        let cmd = vec![b"DEL".to_vec(), b"k".to_vec()];
        src.propagate(&cmd);
        let sent = rx.try_recv().unwrap();
        assert_eq!(sent, b"*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n".to_vec());
        assert_eq!(src.offset, 10 + sent.len() as u64);
        assert_eq!(queued.load(Ordering::Relaxed), first.len() + sent.len());
        src.ack(id, 33);
        assert_eq!(src.replicas(), vec![("127.0.0.1".to_string(), 7000, 33)]);
        src.detach(id);
        assert!(src.replicas().is_empty());
    }
}
