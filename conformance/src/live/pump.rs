//! One connection through the tap: a reader per direction that frames,
//! decodes, records and judges each frame, and a writer per direction that
//! forwards the queued bytes unchanged, in order. A held frame stops its
//! direction's queue (FIFO, as TCP would); a dropped frame never enters it.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use clusterbus_node::codec::{decode, frame_length, MessageType};

use super::observe::{body_obs, header_obs, type_name, Event, Fate};
use super::rules::{RuleId, Verdict};
use super::tap::Shared;

/// Frames one direction may queue before its reader waits (backpressure).
pub const QUEUE_FRAMES: usize = 4096;
/// How often a blocked thread looks at the stop and cut flags.
const TICK: Duration = Duration::from_millis(50);
/// Bytes read at a time.
const READ_CHUNK: usize = 64 * 1024;

/// A frame waiting to be written.
struct Pending {
    bytes: Vec<u8>,
    /// When the tap read it, as a place in one order over every connection.
    #[cfg_attr(not(test), allow(dead_code))]
    seq: u64,
    held_by: Option<RuleId>,
    not_before: Option<Instant>,
}

#[derive(Default)]
struct Queue {
    frames: VecDeque<Pending>,
    /// The reader saw the end of its stream.
    eof: bool,
}

/// One direction: its queue and the condition its threads wait on.
#[derive(Default)]
struct Dir {
    q: Mutex<Queue>,
    cv: Condvar,
}

/// A connection from a peer to node `tap`, through the tap.
pub struct Conn {
    pub id: u64,
    /// The node whose tap this is (the receiver of the peer's frames).
    pub tap: usize,
    peer: Mutex<Option<usize>>,
    /// Peer -> node, node -> peer.
    dirs: [Dir; 2],
    client: TcpStream,
    server: TcpStream,
    cut: AtomicBool,
    bytes: [AtomicU64; 2],
    readers_done: AtomicU8,
}

impl Conn {
    /// Wraps the two sockets.
    pub fn new(id: u64, tap: usize, client: TcpStream, server: TcpStream) -> std::io::Result<Conn> {
        client.set_read_timeout(Some(TICK))?;
        server.set_read_timeout(Some(TICK))?;
        Ok(Conn {
            id,
            tap,
            peer: Mutex::new(None),
            dirs: [Dir::default(), Dir::default()],
            client,
            server,
            cut: AtomicBool::new(false),
            bytes: [AtomicU64::new(0), AtomicU64::new(0)],
            readers_done: AtomicU8::new(0),
        })
    }

    /// The peer's node index, once a frame named it.
    pub fn peer(&self) -> Option<usize> {
        self.peer.lock().ok().and_then(|p| *p)
    }

    /// Closes both sides now; queued frames are lost, as on a broken link.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::Relaxed);
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.server.shutdown(Shutdown::Both);
        for d in &self.dirs {
            d.cv.notify_all();
        }
    }

    /// Lets frames held by rule `id` go.
    pub fn release(&self, id: RuleId) {
        for d in &self.dirs {
            if let Ok(mut q) = d.q.lock() {
                for p in q.frames.iter_mut().filter(|p| p.held_by == Some(id)) {
                    p.held_by = None;
                }
            }
            d.cv.notify_all();
        }
    }

    /// The frames held now (step mode), by direction: `(dir, index in its queue, the
    /// order the tap read it in, bytes)`.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn held(&self) -> Vec<(usize, usize, u64, Vec<u8>)> {
        let mut out = Vec::new();
        for (dir, d) in self.dirs.iter().enumerate() {
            if let Ok(q) = d.q.lock() {
                for (k, p) in q.frames.iter().enumerate() {
                    if p.held_by.is_some() {
                        out.push((dir, k, p.seq, p.bytes.clone()));
                    }
                }
            }
        }
        out
    }

    /// Lets the held frame at `index` of direction `dir` go next, ahead of
    /// the frames held before it (which stay held). `false` when the frame
    /// there is not the held frame `seq` (gone, or another one).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn release_frame(&self, dir: usize, index: usize, seq: u64) -> bool {
        let Some(d) = self.dirs.get(dir) else {
            return false;
        };
        let Ok(mut q) = d.q.lock() else { return false };
        if q.frames
            .get(index)
            .is_none_or(|p| p.held_by.is_none() || p.seq != seq)
        {
            return false;
        }
        let Some(mut p) = q.frames.remove(index) else {
            return false;
        };
        p.held_by = None;
        // Behind the frames already free to go, ahead of the held ones.
        let at = q.frames.iter().take_while(|p| p.held_by.is_none()).count();
        q.frames.insert(at, p);
        d.cv.notify_all();
        true
    }

    fn ends(&self, dir: usize) -> (Option<usize>, Option<usize>) {
        match dir {
            0 => (self.peer(), Some(self.tap)),
            _ => (Some(self.tap), self.peer()),
        }
    }
}

/// Starts the four threads of `conn`.
pub fn spawn(conn: Arc<Conn>, s: Arc<Shared>) {
    for dir in 0..2 {
        let (c, sh) = (conn.clone(), s.clone());
        thread::spawn(move || reader(dir, &c, &sh));
        let (c, sh) = (conn.clone(), s.clone());
        thread::spawn(move || writer(dir, &c, &sh));
    }
}

fn stopped(c: &Conn, s: &Shared) -> bool {
    c.cut.load(Ordering::Relaxed) || s.stop.load(Ordering::Relaxed)
}

fn reader(dir: usize, c: &Conn, s: &Shared) {
    let Ok(mut src) = (if dir == 0 { &c.client } else { &c.server }).try_clone() else {
        return finish_reader(dir, c, s, "could not clone the socket");
    };
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; READ_CHUNK];
    let mut raw_mode: Option<String> = None;
    let reason = loop {
        if stopped(c, s) {
            break "cut".to_string();
        }
        let n = match src.read(&mut chunk) {
            Ok(0) => break "closed".to_string(),
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) => break e.to_string(),
        };
        c.bytes[dir].fetch_add(n as u64, Ordering::Relaxed);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(why) = &raw_mode {
            let bytes = std::mem::take(&mut buf);
            raw(dir, c, s, &bytes, why);
            enqueue(dir, c, s, bytes, Verdict::Forward, None);
            continue;
        }
        if let Err(why) = take_frames(dir, c, s, &mut buf) {
            let bytes = std::mem::take(&mut buf);
            raw(dir, c, s, &bytes, &why);
            enqueue(dir, c, s, bytes, Verdict::Forward, None);
            raw_mode = Some(format!("after a framing error: {why}"));
        }
    };
    finish_reader(dir, c, s, &reason)
}

/// Handles every whole frame at the front of `buf`; `Err` when the stream
/// cannot be framed any more (bad signature, bad length).
fn take_frames(dir: usize, c: &Conn, s: &Shared, buf: &mut Vec<u8>) -> Result<(), String> {
    loop {
        let len = match frame_length(buf) {
            Ok(Some(len)) => len,
            Ok(None) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        };
        if buf.len() < len {
            return Ok(());
        }
        let rest = buf.split_off(len);
        let frame = std::mem::replace(buf, rest);
        let (verdict, sender) = judge(dir, c, s, &frame);
        enqueue(dir, c, s, frame, verdict, sender);
    }
}

/// Decodes, attributes, records and judges one frame; its verdict, and
/// its sender when it decoded.
fn judge(dir: usize, c: &Conn, s: &Shared, frame: &[u8]) -> (Verdict, Option<usize>) {
    let msg = match decode(frame) {
        Ok(m) => m,
        Err(e) => {
            raw(dir, c, s, frame, &e.to_string());
            let (from, to) = c.ends(dir);
            return (rules_verdict(s, from, to, None), None);
        }
    };
    if dir == 0 {
        if let Ok(mut p) = c.peer.lock() {
            if p.is_none() {
                *p = s.rec.index_of(&msg.header.sender);
            }
        }
    }
    let (from, to) = c.ends(dir);
    let t: MessageType = msg.body.message_type();
    let verdict = rules_verdict(s, from, to, Some(t));
    let fate = match verdict {
        Verdict::Forward => Fate::Forwarded,
        Verdict::Drop => Fate::Dropped,
        Verdict::Hold(_) => Fate::Held,
        Verdict::Delay(_) => Fate::Delayed,
    };
    let header = header_obs(&msg.header, &s.rec);
    let body = body_obs(&msg, frame.len(), &s.rec);
    s.rec.record(|t_us| Event::Frame {
        t_us,
        conn: c.id,
        tap: c.tap,
        from,
        to,
        msg_type: type_name(t),
        len: frame.len(),
        fate,
        header,
        body,
    });
    (verdict, from)
}

fn rules_verdict(
    s: &Shared,
    from: Option<usize>,
    to: Option<usize>,
    t: Option<MessageType>,
) -> Verdict {
    match s.rules.lock() {
        Ok(r) => r.verdict(from, to, t),
        Err(_) => Verdict::Forward,
    }
}

fn raw(dir: usize, c: &Conn, s: &Shared, bytes: &[u8], why: &str) {
    let (from, to) = c.ends(dir);
    let hex: String = bytes
        .iter()
        .take(4096)
        .map(|b| format!("{b:02x}"))
        .collect();
    let error = why.to_string();
    s.rec.record(|t_us| Event::Raw {
        t_us,
        conn: c.id,
        tap: c.tap,
        from,
        to,
        len: bytes.len(),
        error,
        hex,
    });
}

/// Queues a frame for the writer unless it is dropped; waits while the
/// queue is full. A frame from `sender` counts as read from it once it is
/// in the queue (or dropped), so whoever sees the count sees the frame.
fn enqueue(dir: usize, c: &Conn, s: &Shared, bytes: Vec<u8>, v: Verdict, sender: Option<usize>) {
    let count = || {
        if let Some(i) = sender {
            s.count_from(i);
        }
    };
    let (held_by, not_before) = match v {
        Verdict::Drop => return count(),
        Verdict::Forward => (None, None),
        Verdict::Hold(id) => (Some(id), None),
        Verdict::Delay(d) => (None, Some(Instant::now() + d)),
    };
    let d = &c.dirs[dir];
    let Ok(mut q) = d.q.lock() else { return };
    while q.frames.len() >= QUEUE_FRAMES && !stopped(c, s) {
        q = match d.cv.wait_timeout(q, TICK) {
            Ok((q, _)) => q,
            Err(_) => return,
        };
    }
    let seq = s.next_seq();
    q.frames.push_back(Pending {
        bytes,
        seq,
        held_by,
        not_before,
    });
    count();
    d.cv.notify_all();
}

fn finish_reader(dir: usize, c: &Conn, s: &Shared, reason: &str) {
    if let Ok(mut q) = c.dirs[dir].q.lock() {
        q.eof = true;
    }
    c.dirs[dir].cv.notify_all();
    if c.readers_done.fetch_add(1, Ordering::AcqRel) == 1 {
        if let Ok(mut m) = s.conns.lock() {
            m.remove(&c.id);
        }
        let reason = reason.to_string();
        s.rec.record(|t_us| Event::ConnClose {
            t_us,
            conn: c.id,
            tap: c.tap,
            from: c.peer(),
            bytes_in: c.bytes[0].load(Ordering::Relaxed),
            bytes_out: c.bytes[1].load(Ordering::Relaxed),
            reason,
        });
    }
}

/// What the writer does next.
enum Next {
    Write(Vec<u8>),
    Finish,
    Stop,
}

fn writer(dir: usize, c: &Conn, s: &Shared) {
    let Ok(mut dst) = (if dir == 0 { &c.server } else { &c.client }).try_clone() else {
        return;
    };
    loop {
        match next_frame(dir, c, s) {
            Next::Write(bytes) => {
                if dst.write_all(&bytes).is_err() {
                    c.cut();
                    return;
                }
            }
            Next::Finish => {
                let _ = dst.shutdown(Shutdown::Write);
                return;
            }
            Next::Stop => return,
        }
    }
}

fn free_to_go(p: &Pending, now: Instant) -> bool {
    p.held_by.is_none() && p.not_before.is_none_or(|t| t <= now)
}

/// Waits for the head of the queue to be free to go (not held, not early).
fn next_frame(dir: usize, c: &Conn, s: &Shared) -> Next {
    let d = &c.dirs[dir];
    let Ok(mut q) = d.q.lock() else {
        return Next::Stop;
    };
    loop {
        if stopped(c, s) {
            return Next::Stop;
        }
        let now = Instant::now();
        let wait = match q.frames.front() {
            Some(p) if free_to_go(p, now) => {
                // Everything free to go at the head leaves in one write.
                let mut bytes = Vec::new();
                while q.frames.front().is_some_and(|p| free_to_go(p, now))
                    && bytes.len() < READ_CHUNK
                {
                    match q.frames.pop_front() {
                        Some(p) => bytes.extend_from_slice(&p.bytes),
                        None => break,
                    }
                }
                d.cv.notify_all();
                return Next::Write(bytes);
            }
            Some(p) => p
                .not_before
                .filter(|_| p.held_by.is_none())
                .map_or(TICK, |t| t.saturating_duration_since(now).min(TICK)),
            None if q.eof => return Next::Finish,
            None => TICK,
        };
        q = match d.cv.wait_timeout(q, wait) {
            Ok((q, _)) => q,
            Err(_) => return Next::Stop,
        };
    }
}
