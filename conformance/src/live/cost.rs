//! What the tap costs, measured: frames per second through it, the latency
//! it adds to one frame, and redis-server's failover time with and without
//! it. `clusterbus live cost` prints all three; `benches/cluster/tap_cost.sh`
//! runs it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use clusterbus_node::codec::{
    encode, Body, GossipEntry, Header, Message, SlotBitmap, NODE_NAME_LEN,
};

use super::cluster::Cluster;
use super::error::LiveError;
use super::form::{form, master_with_slots};
use super::observe::Recorder;
use super::procs::Kind;
use super::scenarios::{failover_limit, own_slots};
use super::tap::Tap;

/// The header of a master `sender` (its id is that byte 40 times) claiming
/// `slots`, with fixed epochs and ports: for synthetic frames.
pub fn master_header(sender: u8, myslots: SlotBitmap) -> Header {
    Header {
        port: 7000,
        current_epoch: 4,
        config_epoch: 1,
        offset: 0,
        sender: [sender; NODE_NAME_LEN],
        myslots,
        slaveof: [0; NODE_NAME_LEN],
        myip: [0; 46],
        notused1: [0; 30],
        pport: 0,
        cport: 17000,
        flags: 1,
        state: 0,
        mflags: [0; 3],
    }
}

/// A PING as a 4-node cluster sends it: the header and 3 gossip entries.
pub fn sample_ping() -> Vec<u8> {
    let mut slots = SlotBitmap::empty();
    (0..5461).for_each(|s| slots.insert(s));
    let entry = GossipEntry {
        nodename: [b'c'; NODE_NAME_LEN],
        ping_sent: 0,
        pong_received: 0,
        ip: clusterbus_node::codec::c_str_field(b"127.0.0.1"),
        port: 7001,
        cport: 17001,
        flags: 1,
        pport: 0,
        notused1: 0,
    };
    let header = master_header(b'b', slots);
    let body = Body::Ping {
        gossip: vec![entry; 3],
        extensions: vec![],
    };
    encode(&Message { header, body })
}

/// A sender and a receiver socket, joined directly or through a tap.
struct Pipe {
    tx: TcpStream,
    rx: TcpStream,
    _tap: Option<Tap>,
}

fn pipe(tapped: bool) -> Result<Pipe, LiveError> {
    let io = |what: &str| {
        let what = what.to_string();
        move |e| LiveError::io(what, e)
    };
    let backend = TcpListener::bind("127.0.0.1:0").map_err(io("bind 127.0.0.1:0"))?;
    let port = backend.local_addr().map_err(io("listener address"))?.port();
    let (tap, connect_to) = if tapped {
        let rec = Recorder::new(2);
        rec.set_id(0, "a".repeat(40));
        rec.set_id(1, "b".repeat(40));
        let tap = Tap::start(vec![port, 1], rec)?;
        let p = tap.port(0);
        (Some(tap), p)
    } else {
        (None, port)
    };
    let tx = TcpStream::connect(("127.0.0.1", connect_to)).map_err(io("connect"))?;
    let rx = accept_within(&backend, Duration::from_secs(5))?;
    for s in [&tx, &rx] {
        s.set_nodelay(true).map_err(io("nodelay"))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(io("timeout"))?;
    }
    Ok(Pipe { tx, rx, _tap: tap })
}

/// The first connection to `l` within `limit`, as a blocking stream.
pub fn accept_within(l: &TcpListener, limit: Duration) -> Result<TcpStream, LiveError> {
    let io = |what: &'static str| move |e| LiveError::io(what, e);
    l.set_nonblocking(true)
        .map_err(io("make a listener non-blocking"))?;
    let start = Instant::now();
    while start.elapsed() < limit {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false)
                    .map_err(io("make a stream blocking"))?;
                return Ok(s);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5))
            }
            Err(e) => return Err(LiveError::io("accept", e)),
        }
    }
    Err(LiveError::Timeout {
        what: "a connection through the tap".into(),
        limit_ms: limit.as_millis() as u64,
    })
}

/// Frames per second of `count` frames written back to back.
pub fn throughput(tapped: bool, count: usize) -> Result<f64, LiveError> {
    let Pipe {
        mut tx,
        mut rx,
        _tap,
    } = pipe(tapped)?;
    let frame = sample_ping();
    let total = frame.len() * count;
    let start = Instant::now();
    let writer = thread::spawn(move || {
        for _ in 0..count {
            if tx.write_all(&frame).is_err() {
                return;
            }
        }
    });
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0;
    while got < total {
        let n = rx
            .read(&mut buf)
            .map_err(|e| LiveError::io("read frames", e))?;
        if n == 0 {
            break;
        }
        got += n;
    }
    let secs = start.elapsed().as_secs_f64();
    let _ = writer.join();
    Ok(count as f64 * (got as f64 / total as f64) / secs)
}

/// One-way times of `count` frames sent one at a time, sorted, in µs.
pub fn latencies(tapped: bool, count: usize) -> Result<Vec<f64>, LiveError> {
    let Pipe {
        mut tx,
        mut rx,
        _tap,
    } = pipe(tapped)?;
    let frame = sample_ping();
    let mut buf = vec![0u8; frame.len()];
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let t = Instant::now();
        tx.write_all(&frame)
            .map_err(|e| LiveError::io("write a frame", e))?;
        rx.read_exact(&mut buf)
            .map_err(|e| LiveError::io("read a frame", e))?;
        out.push(t.elapsed().as_secs_f64() * 1e6);
    }
    out.sort_by(f64::total_cmp);
    Ok(out)
}

/// The `p`-th percentile of sorted `xs`.
pub fn percentile(xs: &[f64], p: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let i = ((xs.len() - 1) as f64 * p / 100.0).round() as usize;
    xs[i.min(xs.len() - 1)]
}

/// kill -9 of a master of 3m1r to its replica holding the slots in every
/// live master's view and saying it is a master, ms.
pub fn failover_ms(kind: Kind, tapped: bool, nt: u64, dir: &Path) -> Result<f64, LiveError> {
    let mut c = Cluster::start_with(kind, 4, nt, dir, tapped)?;
    form(&c, 3, &[0])?;
    let slots = own_slots(&c, 0)?;
    let id3 = c.ids()[3].clone();
    let start = Instant::now();
    c.kill9(0)?;
    c.wait_until("the replica to be promoted", failover_limit(&c), |c| {
        [1, 2].iter().all(|j| {
            c.view(*j)
                .is_some_and(|v| master_with_slots(&v, &id3, &slots) && v.cluster_state == "ok")
        }) && c
            .view(3)
            .is_some_and(|v| v.role == "master" && v.cluster_state == "ok")
    })?;
    Ok(start.elapsed().as_secs_f64() * 1000.0)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    percentile(&xs, 50.0)
}

/// Runs every measurement and returns the report.
pub fn report(trials: usize, nt: u64, dir: &Path) -> Result<String, LiveError> {
    let mut s = String::new();
    let frames = 50_000;
    let (direct, through) = (throughput(false, frames)?, throughput(true, frames)?);
    s += &format!(
        "throughput ({frames} PINGs of {} bytes): direct {direct:.0} frames/s, through the tap {through:.0} frames/s\n",
        sample_ping().len()
    );
    let n = 5000;
    let (d, t) = (latencies(false, n)?, latencies(true, n)?);
    let (d50, d99, t50, t99) = (
        percentile(&d, 50.0),
        percentile(&d, 99.0),
        percentile(&t, 50.0),
        percentile(&t, 99.0),
    );
    s += &format!(
        "one-way latency ({n} frames, one at a time): direct p50 {d50:.0} us p99 {d99:.0} us; through the tap p50 {t50:.0} us p99 {t99:.0} us; added p50 {:.0} us p99 {:.0} us\n",
        t50 - d50,
        t99 - d99
    );
    if trials == 0 {
        return Ok(s);
    }
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for k in 0..trials {
        without.push(failover_ms(
            Kind::Redis,
            false,
            nt,
            &dir.join(format!("direct-{k}")),
        )?);
        with.push(failover_ms(
            Kind::Redis,
            true,
            nt,
            &dir.join(format!("tapped-{k}")),
        )?);
        s += &format!(
            "failover trial {k}: direct {:.0} ms, through the tap {:.0} ms\n",
            without[k], with[k]
        );
    }
    let (mw, mo) = (median(with), median(without));
    s += &format!(
        "redis-server failover (kill -9 to promoted and ok, NT {nt} ms, median of {trials}): direct {mo:.0} ms, through the tap {mw:.0} ms, ratio {:.2}\n",
        mw / mo
    );
    Ok(s)
}
