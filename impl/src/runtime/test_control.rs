//! The testing mode (`--cluster-test-control yes`), for replaying the
//! model's traces on live processes. It is off unless the flag turns it on,
//! and refused on a bind other hosts can reach.
//!
//! In it the node keeps no time of its own: its clock stands still until a
//! client moves it, its cron and timers do not run, and the choices it
//! makes at random elsewhere are fixed (messages sent in reaction to a
//! delivery carry no gossip; a node an inbound MEET creates is named from a
//! counter of this process, so its name differs from the in-process
//! replay's, whose counter all nodes share; replays match handshake nodes
//! by address). Replication, which the model does not cover, still runs on
//! the system clock. Its outbound links come up without the first PING or MEET: the
//! driver sends that as the `LinkUp` event, with the gossip it chooses.
//! Bus frames arrive and are handled as always.
//!
//! `CLUSTERBUS.TEST` on the client port:
//! - `CLOCK <ms>`: the clock moves to `ms` (never back);
//! - `EVENT <json>`: one core event (`core::Event` as JSON, deliveries
//!   excepted), handled at the clock; the reply (the core's reply to a
//!   command, else OK) comes once every effect is done: nodes.conf written
//!   and synced, every frame written to its socket;
//! - `SYNC <n>`: replies once the node has handled `n` bus frames since it
//!   started, and written every frame that caused;
//! - `STATE`: a JSON object with the clock, the frames handled and written,
//!   and the whole core (`core::Core::to_json`).
//!
//! A frame written to its socket is not yet read by the peer: a driver
//! that needs it there counts it on the other side (the tap does).

use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::commands::Session;
use crate::resp::Frame;

use super::client::ClientReply;
use super::link::Drained;

/// How long an EVENT or SYNC may wait for its effects before it answers
/// with an error.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Most SYNCs waiting at once; one more is refused.
const MAX_PENDING_SYNCS: usize = 64;
/// The latest clock a driver may set (2^52 ms, some 140,000 years): far
/// from where the core's sums of times would overflow.
pub const MAX_CLOCK_MS: u64 = 1 << 52;
/// How often a waiting reply looks at the links again.
const POLL: Duration = Duration::from_millis(1);

/// A SYNC waiting for frames to arrive.
struct PendingSync {
    frames: u64,
    reply: oneshot::Sender<ClientReply>,
    session: Session,
    deadline: Instant,
}

/// The testing mode's state in the node task.
pub struct TestControl {
    /// The node's clock, Unix ms as the core sees it.
    pub clock_ms: u64,
    /// Names a node an inbound MEET creates.
    entropy: u64,
    /// Bus frames handled since the start.
    pub frames_in: u64,
    syncs: Vec<PendingSync>,
}

/// What a `CLUSTERBUS.TEST` request asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    Clock(u64),
    Event(Box<crate::core::Event>),
    Sync(u64),
    State,
}

impl Request {
    /// Parses the arguments after the command name; `Err` is the error reply.
    pub fn parse(args: &[Vec<u8>]) -> Result<Request, String> {
        let text = |i: usize| args.get(i).map(|a| String::from_utf8_lossy(a).into_owned());
        let number = |i: usize| -> Result<u64, String> {
            let t = text(i).ok_or("ERR wrong number of arguments for 'clusterbus.test'")?;
            t.parse()
                .map_err(|_| format!("ERR CLUSTERBUS.TEST: {t:?} is not a number"))
        };
        let verb = text(0).unwrap_or_default().to_ascii_lowercase();
        let request = match verb.as_str() {
            "clock" => match number(1)? {
                ms if ms <= MAX_CLOCK_MS => Request::Clock(ms),
                ms => {
                    return Err(format!(
                        "ERR CLUSTERBUS.TEST: clock {ms} is past {MAX_CLOCK_MS}"
                    ))
                }
            },
            "sync" => Request::Sync(number(1)?),
            "state" => Request::State,
            "event" => {
                let t = text(1).ok_or("ERR wrong number of arguments for 'clusterbus.test'")?;
                Request::Event(Box::new(
                    crate::core::Event::from_json(&t)
                        .map_err(|e| format!("ERR CLUSTERBUS.TEST: {e}"))?,
                ))
            }
            other => {
                return Err(format!(
                    "ERR CLUSTERBUS.TEST: unknown verb {other:?} (CLOCK, EVENT, SYNC, STATE)"
                ))
            }
        };
        let expected = if matches!(request, Request::State) {
            1
        } else {
            2
        };
        if args.len() != expected {
            return Err("ERR wrong number of arguments for 'clusterbus.test'".into());
        }
        Ok(request)
    }
}

impl TestControl {
    /// The mode, with the clock at `start_ms`.
    pub fn new(start_ms: u64) -> TestControl {
        TestControl {
            clock_ms: start_ms,
            entropy: 0,
            frames_in: 0,
            syncs: Vec::new(),
        }
    }

    /// The entropy of the next delivery.
    pub fn next_entropy(&mut self) -> u64 {
        self.entropy += 1;
        self.entropy
    }

    /// Holds a SYNC until `frames` frames have been handled.
    pub fn wait_for(&mut self, frames: u64, reply: oneshot::Sender<ClientReply>, session: Session) {
        if self.syncs.len() >= MAX_PENDING_SYNCS {
            let why = format!("ERR CLUSTERBUS.TEST SYNC: {MAX_PENDING_SYNCS} SYNCs already wait");
            return answer(reply, Frame::error(&why), session);
        }
        self.syncs.push(PendingSync {
            frames,
            reply,
            session,
            deadline: Instant::now() + WRITE_TIMEOUT,
        });
    }

    /// The SYNCs whose frames have arrived, and answers those out of time.
    pub fn due_syncs(&mut self) -> Vec<(oneshot::Sender<ClientReply>, Session)> {
        let now = Instant::now();
        let mut due = Vec::new();
        let frames_in = self.frames_in;
        for s in std::mem::take(&mut self.syncs) {
            if s.frames <= frames_in {
                due.push((s.reply, s.session));
            } else if now >= s.deadline {
                let why = format!(
                    "ERR CLUSTERBUS.TEST SYNC: {frames_in} of {} frames arrived within {} s",
                    s.frames,
                    WRITE_TIMEOUT.as_secs()
                );
                answer(s.reply, Frame::error(&why), s.session);
            } else {
                self.syncs.push(s);
            }
        }
        due
    }
}

/// Answers with `frame` once every link in `links` has written what it
/// holds, or with an error after [`WRITE_TIMEOUT`].
pub fn reply_when_written(
    links: Vec<Drained>,
    frame: Frame,
    reply: oneshot::Sender<ClientReply>,
    session: Session,
) {
    tokio::spawn(async move {
        let deadline = Instant::now() + WRITE_TIMEOUT;
        loop {
            let waiting = links.iter().filter(|l| !l.done()).count();
            if waiting == 0 {
                return answer(reply, frame, session);
            }
            if Instant::now() >= deadline {
                let why = format!(
                    "ERR CLUSTERBUS.TEST: {waiting} links still hold frames after {} s",
                    WRITE_TIMEOUT.as_secs()
                );
                return answer(reply, Frame::error(&why), session);
            }
            tokio::time::sleep(POLL).await;
        }
    });
}

fn answer(reply: oneshot::Sender<ClientReply>, frame: Frame, session: Session) {
    let _ = reply.send(ClientReply {
        frame,
        session,
        close: false,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Event;

    fn args(words: &[&str]) -> Vec<Vec<u8>> {
        words.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn requests_parse_and_bad_ones_are_errors() {
        assert_eq!(
            Request::parse(&args(&["clock", "12"])),
            Ok(Request::Clock(12))
        );
        assert_eq!(Request::parse(&args(&["STATE"])), Ok(Request::State));
        assert_eq!(Request::parse(&args(&["sync", "3"])), Ok(Request::Sync(3)));
        assert_eq!(
            Request::parse(&args(&["event", "\"ElectionDue\""])),
            Ok(Request::Event(Box::new(Event::ElectionDue)))
        );
        let err = |w: &[&str]| Request::parse(&args(w)).unwrap_err();
        assert!(err(&["clock", "soon"]).contains("not a number"));
        assert!(err(&["clock", &u64::MAX.to_string()]).contains("is past"));
        assert!(err(&["event", "{\"Deliver\":{}}"]).contains("does not parse"));
        assert!(err(&["state", "x"]).contains("wrong number"));
        assert!(err(&["clock"]).contains("wrong number"));
        assert!(err(&["jump"]).contains("unknown verb"));
    }
}
