//! Test support: start an unmodified `redis-server` 7.0 in cluster mode on
//! 127.0.0.1, talk RESP to it, and kill it when the guard is dropped.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Upper bound for any single wait on redis-server (start, reply, exit).
pub const WAIT: Duration = Duration::from_secs(10);

/// A RESP reply, as much of RESP2 as the tests need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
    /// `*-1`, as EXEC answers when a watched key changed.
    NullArray,
}

impl Reply {
    /// The text of a status or bulk reply; panics (a test failure) otherwise.
    pub fn text(&self) -> String {
        match self {
            Reply::Status(s) => s.clone(),
            Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("expected a string reply, got {other:?}"),
        }
    }
}

/// A running redis-server; killed (and reaped) on drop.
pub struct Redis {
    child: Option<Child>,
    pub port: u16,
    pub bus_port: u16,
    pub dir: PathBuf,
}

/// Two ports the OS says are free right now on 127.0.0.1.
pub fn free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let b = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let ports = (local_port(&a), local_port(&b));
    drop((a, b));
    ports
}

fn local_port(l: &TcpListener) -> u16 {
    l.local_addr().expect("listener has an address").port()
}

/// Fail loudly when redis-server is missing: these tests must not pass vacuously.
pub fn require_redis_server() {
    let version = Command::new("redis-server").arg("--version").output();
    let found = version.is_ok();
    assert!(
        found,
        "redis-server (7.0) is not on PATH. These tests check the codec and nodes.conf \
         against a real Redis; run ./scripts/test.sh, which installs redis-server, or \
         install redis-server 7.0 yourself."
    );
    let text = version
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(
        text.contains("v=7.0."),
        "these tests pin Redis 7.0's wire format and nodes.conf, but redis-server says {text:?}; \
         run ./scripts/test.sh or put redis-server 7.0 first on PATH"
    );
}

impl Redis {
    /// Start redis-server in cluster mode with `dir` as its working directory.
    pub fn start(dir: &Path, extra: &[&str]) -> Redis {
        let (port, bus_port) = free_ports();
        Redis::start_on(dir, port, bus_port, extra)
    }

    /// Start redis-server in cluster mode on the given client and bus ports.
    pub fn start_on(dir: &Path, port: u16, bus_port: u16, extra: &[&str]) -> Redis {
        require_redis_server();
        let (p, bp) = (port.to_string(), bus_port.to_string());
        let dir_s = dir.to_str().expect("temp dir path is UTF-8");
        let mut args = vec![
            "--port",
            &p,
            "--cluster-port",
            &bp,
            "--bind",
            "127.0.0.1",
            "--cluster-enabled",
            "yes",
            "--dir",
            dir_s,
            "--save",
            "",
            "--appendonly",
            "no",
            "--cluster-config-file",
            "nodes.conf",
            "--logfile",
            "redis.log",
            "--daemonize",
            "no",
        ];
        args.extend_from_slice(extra);
        let child = Command::new("redis-server")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server (run ./scripts/test.sh to install it)");
        let mut redis = Redis {
            child: Some(child),
            port,
            bus_port,
            dir: dir.to_path_buf(),
        };
        redis.wait_ready();
        redis
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("redis-server exited early ({status}); see {:?}", self.log());
                }
            }
            if let Ok(Reply::Status(s)) = self.try_cmd(&["PING"]) {
                if s == "PONG" {
                    return;
                }
            }
            sleep(Duration::from_millis(50));
        }
        panic!(
            "redis-server on port {} not ready within {WAIT:?}; log: {}",
            self.port,
            self.log()
        );
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
    }

    /// Run one command; panics (a test failure) on I/O errors.
    pub fn cmd(&self, args: &[&str]) -> Reply {
        self.try_cmd(args)
            .unwrap_or_else(|e| panic!("{args:?} on port {}: {e}", self.port))
    }

    pub fn try_cmd(&self, args: &[&str]) -> std::io::Result<Reply> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(WAIT))?;
        stream.set_write_timeout(Some(WAIT))?;
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        stream.write_all(&req)?;
        read_reply(&mut BufReader::new(stream))
    }

    /// SHUTDOWN NOSAVE and wait for the process to exit.
    pub fn shutdown(&mut self) {
        let _ = self.try_cmd(&["SHUTDOWN", "NOSAVE"]);
        let Some(mut child) = self.child.take() else {
            return;
        };
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("redis-server did not exit within {WAIT:?} after SHUTDOWN");
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn read_line(r: &mut impl BufRead) -> std::io::Result<String> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(line.trim_end_matches("\r\n").to_string())
}

fn bad(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg)
}

/// Read one RESP2 reply.
pub fn read_reply(r: &mut impl BufRead) -> std::io::Result<Reply> {
    let line = read_line(r)?;
    let (kind, rest) = line.split_at(line.len().min(1));
    let num = || {
        rest.parse::<i64>()
            .map_err(|_| bad(format!("bad RESP length {line:?}")))
    };
    Ok(match kind {
        "+" => Reply::Status(rest.to_string()),
        "-" => Reply::Error(rest.to_string()),
        ":" => Reply::Int(num()?),
        "$" if num()? < 0 => Reply::Bulk(None),
        "$" => {
            let mut buf = vec![0u8; num()? as usize + 2];
            r.read_exact(&mut buf)?;
            buf.truncate(buf.len() - 2);
            Reply::Bulk(Some(buf))
        }
        "*" if num()? < 0 => Reply::NullArray,
        "*" => {
            let n = num()?.max(0);
            Reply::Array((0..n).map(|_| read_reply(r)).collect::<Result<_, _>>()?)
        }
        _ => return Err(bad(format!("unexpected RESP line {line:?}"))),
    })
}

/// One RESP connection to a node's client port on 127.0.0.1.
pub struct Conn {
    pub port: u16,
    reader: BufReader<TcpStream>,
}

impl Conn {
    /// Connects; every reply is awaited at most [`WAIT`] x 3.
    pub fn open(port: u16) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(WAIT * 3))?;
        Ok(Conn {
            port,
            reader: BufReader::new(stream),
        })
    }

    /// Sends one command and reads its (RESP2) reply.
    pub fn call(&mut self, words: &[&str]) -> std::io::Result<Reply> {
        let mut req = format!("*{}\r\n", words.len()).into_bytes();
        for w in words {
            req.extend_from_slice(format!("${}\r\n{w}\r\n", w.len()).as_bytes());
        }
        self.reader.get_mut().write_all(&req)?;
        read_reply(&mut self.reader)
    }
}

/// One request with binary arguments to the server on `port`, its reply.
pub fn call_bytes(port: u16, args: &[&[u8]]) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    let mut req = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        req.extend_from_slice(a);
        req.extend_from_slice(b"\r\n");
    }
    s.write_all(&req).expect("send");
    read_reply(&mut BufReader::new(s)).expect("a reply")
}
