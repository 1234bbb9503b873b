//! MIGRATE: move keys to another node as DUMP payloads, restored there with
//! RESTORE-ASKING, then deleted here. Mirrors `migrateCommand` of Redis
//! 7.0.15 (`cluster.c`): its argument checks and their order, `+NOKEY`, and
//! the texts of its errors.
//!
//! The work is split as the node is: [`plan`] reads the request and the data
//! set and says what to send; the runtime talks to the target (a blocking
//! exchange with a timeout, as Redis's is, see `runtime::migrate`); and
//! [`finish`] applies what the target answered.

use super::server::{not_an_integer, syntax_error};
use super::{Context, Outcome};
use crate::db::Db;
use crate::rdb;
use crate::resp::{string2ll, Frame};

/// What the runtime must send to the target, and how to finish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrateJob {
    /// The target's address, as given.
    pub host: String,
    /// The target's client port.
    pub port: u16,
    /// For connecting, and for each write and read (ms, never 0).
    pub timeout_ms: u64,
    /// The commands, in order: AUTH (if asked), SELECT, then one
    /// RESTORE-ASKING per key in `keys`.
    pub commands: Vec<Vec<Vec<u8>>>,
    /// The keys the RESTORE-ASKING commands carry, in order.
    pub keys: Vec<Vec<u8>>,
    /// COPY: keep the keys here.
    pub copy: bool,
}

impl MigrateJob {
    /// How many commands come before the first RESTORE-ASKING.
    pub fn prelude(&self) -> usize {
        self.commands.len() - self.keys.len()
    }
}

/// Why the exchange with the target failed (`socket_err` in Redis).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MigrateIo {
    /// Connecting or writing failed or timed out.
    Writing,
    /// A reply did not come in time, or the link closed.
    Reading,
}

/// `MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
/// [AUTH password] [AUTH2 username password] [KEYS key [key ...]]`.
pub fn plan(ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    let reply = |f: Frame| Outcome::Reply(f);
    let (mut copy, mut replace) = (false, false);
    let mut auth: Option<(Option<Vec<u8>>, Vec<u8>)> = None;
    let mut keys: &[Vec<u8>] = std::slice::from_ref(&args[3]);
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        match args[j].to_ascii_lowercase().as_slice() {
            b"copy" => copy = true,
            b"replace" => replace = true,
            b"auth" if more >= 1 => {
                auth = Some((None, args[j + 1].clone()));
                j += 1;
            }
            b"auth2" if more >= 2 => {
                auth = Some((Some(args[j + 1].clone()), args[j + 2].clone()));
                j += 2;
            }
            b"keys" => {
                if !args[3].is_empty() {
                    return reply(Frame::error(
                        "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
                    ));
                }
                keys = &args[j + 1..];
                break;
            }
            _ => return reply(syntax_error()),
        }
        j += 1;
    }
    let (Some(timeout), Some(db)) = (string2ll(&args[5]), string2ll(&args[4])) else {
        return reply(not_an_integer());
    };
    let timeout_ms = if timeout <= 0 { 1000 } else { timeout as u64 };
    let mut commands = Vec::new();
    if let Some((user, password)) = auth {
        let mut cmd = vec![b"AUTH".to_vec()];
        cmd.extend(user);
        cmd.push(password);
        commands.push(cmd);
    }
    commands.push(vec![b"SELECT".to_vec(), db.to_string().into_bytes()]);
    let mut moving = Vec::new();
    for key in keys {
        let Some(entry) = ctx.db.get(key, ctx.now_ms) else {
            continue;
        };
        let ttl = match entry.expires_at_ms {
            Some(at) => at.saturating_sub(ctx.now_ms).max(1),
            None => 0,
        };
        let mut cmd = vec![
            b"RESTORE-ASKING".to_vec(),
            key.clone(),
            ttl.to_string().into_bytes(),
            rdb::dump_payload(&entry.value),
        ];
        if replace {
            cmd.push(b"REPLACE".to_vec());
        }
        commands.push(cmd);
        moving.push(key.clone());
    }
    if moving.is_empty() {
        return reply(Frame::Simple("NOKEY".into()));
    }
    let Some(port) = std::str::from_utf8(&args[2])
        .ok()
        .and_then(|p| p.parse::<u16>().ok())
    else {
        // Redis's connect fails on such a port, reported as a write error.
        return reply(io_error(MigrateIo::Writing));
    };
    Outcome::Migrate(MigrateJob {
        host: String::from_utf8_lossy(&args[1]).into_owned(),
        port,
        timeout_ms,
        commands,
        keys: moving,
        copy,
    })
}

/// The `-IOERR` reply for a failed exchange.
pub fn io_error(io: MigrateIo) -> Frame {
    let doing = match io {
        MigrateIo::Writing => "writing",
        MigrateIo::Reading => "reading",
    };
    Frame::error(format!("IOERR error or timeout {doing} to target instance"))
}

/// Applies the target's replies: `replies[k]` answers `job.commands[k]`
/// (`Err` holds an error reply's text). A key the target restored is deleted
/// here unless COPY. Returns the client's reply and, if keys were deleted,
/// the DEL the replicas must apply.
pub fn finish(
    db: &mut Db,
    now_ms: u64,
    job: &MigrateJob,
    replies: &[Result<(), String>],
) -> (Frame, Option<Vec<Vec<u8>>>) {
    let prelude = job.prelude();
    // An AUTH or SELECT refused: nothing was restored that counts.
    if let Some(Err(e)) = replies.iter().take(prelude).find(|r| r.is_err()) {
        return (target_error(e), None);
    }
    let mut first_error = None;
    let mut deleted = vec![b"DEL".to_vec()];
    for (key, answer) in job.keys.iter().zip(&replies[prelude.min(replies.len())..]) {
        match answer {
            Err(e) => {
                first_error.get_or_insert_with(|| e.clone());
            }
            Ok(()) if !job.copy => {
                if db.remove(key, now_ms) {
                    deleted.push(key.clone());
                }
            }
            Ok(()) => {}
        }
    }
    let propagate = (deleted.len() > 1).then_some(deleted);
    match first_error {
        Some(e) => (target_error(&e), propagate),
        None => (Frame::ok(), propagate),
    }
}

fn target_error(text: &str) -> Frame {
    Frame::error(format!("ERR Target instance replied with error: {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testkit::Node;
    use crate::db::Entry;

    fn words(list: &[&str]) -> Vec<Vec<u8>> {
        list.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    fn plan_on(node: &mut Node, list: &[&str]) -> Outcome {
        node.run(list)
    }

    fn job(outcome: Outcome) -> MigrateJob {
        match outcome {
            Outcome::Migrate(job) => job,
            other => panic!("not a migration: {other:?}"),
        }
    }

    #[test]
    fn arguments_are_checked_in_redis_order() {
        let mut n = Node::master();
        let err = |t: &str| Outcome::Reply(Frame::error(t));
        let m = ["MIGRATE", "127.0.0.1", "7001"];
        let with = |rest: &[&'static str]| [&m[..], rest].concat();
        assert_eq!(
            plan_on(&mut n, &with(&["{t}a", "0", "100", "keys", "{t}b"])),
            err("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string")
        );
        assert_eq!(
            plan_on(&mut n, &with(&["{t}a", "0", "100", "foo"])),
            err("ERR syntax error")
        );
        assert_eq!(
            plan_on(&mut n, &with(&["{t}a", "0", "100", "auth"])),
            err("ERR syntax error")
        );
        assert_eq!(
            plan_on(&mut n, &with(&["{t}a", "0", "100", "auth2", "u"])),
            err("ERR syntax error")
        );
        assert_eq!(
            plan_on(&mut n, &with(&["{t}a", "x", "100"])),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            plan_on(&mut n, &with(&["", "0", "100", "keys", "{t}a", "{t}b"])),
            Outcome::Reply(Frame::Simple("NOKEY".into()))
        );
    }

    #[test]
    fn a_plan_carries_auth_select_and_a_restore_per_present_key() {
        let mut n = Node::master();
        n.db.set(
            b"{t}a".to_vec(),
            Entry {
                value: b"1".to_vec(),
                expires_at_ms: None,
            },
        );
        let expiry = Some(n.now_ms + 5_000);
        n.db.set(
            b"{t}b".to_vec(),
            Entry {
                value: b"2".to_vec(),
                expires_at_ms: expiry,
            },
        );
        let list = [
            "MIGRATE", "h", "7001", "", "0", "-5", "REPLACE", "AUTH2", "u", "p", "KEYS", "{t}a",
            "{t}gone", "{t}b",
        ];
        let j = job(plan_on(&mut n, &list));
        assert_eq!(
            (j.host.as_str(), j.port, j.timeout_ms, j.copy),
            ("h", 7001, 1000, false)
        );
        assert_eq!(j.keys, words(&["{t}a", "{t}b"]));
        assert_eq!(j.commands[0], words(&["AUTH", "u", "p"]));
        assert_eq!(j.commands[1], words(&["SELECT", "0"]));
        assert_eq!(j.prelude(), 2);
        let restore_b = &j.commands[3];
        assert_eq!(
            restore_b[..3],
            words(&["RESTORE-ASKING", "{t}b", "5000"])[..]
        );
        assert_eq!(restore_b[3], rdb::dump_payload(b"2"));
        assert_eq!(restore_b[4], b"REPLACE".to_vec());
        assert_eq!(j.commands[2][2], b"0".to_vec(), "no expiry: ttl 0");
    }

    #[test]
    fn finishing_deletes_what_the_target_took_and_reports_its_first_error() {
        let mut n = Node::master();
        for k in ["{t}a", "{t}b", "{t}c"] {
            n.db.set(
                k.as_bytes().to_vec(),
                Entry {
                    value: b"v".to_vec(),
                    expires_at_ms: None,
                },
            );
        }
        let j = job(plan_on(
            &mut n,
            &[
                "MIGRATE", "h", "1", "", "0", "9", "KEYS", "{t}a", "{t}b", "{t}c",
            ],
        ));
        let busy = "BUSYKEY Target key name already exists.".to_string();
        let replies = [Ok(()), Ok(()), Err(busy.clone()), Ok(())];
        let (reply, propagate) = finish(&mut n.db, n.now_ms, &j, &replies);
        assert_eq!(
            reply,
            Frame::error(format!("ERR Target instance replied with error: {busy}"))
        );
        assert_eq!(propagate, Some(words(&["DEL", "{t}a", "{t}c"])));
        assert!(
            n.db.is_live(b"{t}b", n.now_ms),
            "a key the target refused stays"
        );
        assert!(!n.db.is_live(b"{t}a", n.now_ms));
        // SELECT refused: nothing is deleted.
        n.db.set(
            b"{t}a".to_vec(),
            Entry {
                value: b"v".to_vec(),
                expires_at_ms: None,
            },
        );
        let j = job(plan_on(&mut n, &["MIGRATE", "h", "1", "{t}a", "0", "9"]));
        let (reply, propagate) = finish(
            &mut n.db,
            n.now_ms,
            &j,
            &[Err("ERR DB index is out of range".into()), Ok(())],
        );
        assert_eq!(
            reply,
            Frame::error("ERR Target instance replied with error: ERR DB index is out of range")
        );
        assert_eq!(propagate, None);
        assert!(n.db.is_live(b"{t}a", n.now_ms));
        // COPY keeps the keys.
        let j = job(plan_on(
            &mut n,
            &["MIGRATE", "h", "1", "{t}a", "0", "9", "COPY"],
        ));
        assert_eq!(
            finish(&mut n.db, n.now_ms, &j, &[Ok(()), Ok(())]),
            (Frame::ok(), None)
        );
        assert!(n.db.is_live(b"{t}a", n.now_ms));
        assert_eq!(
            io_error(MigrateIo::Reading),
            Frame::error("IOERR error or timeout reading to target instance")
        );
    }
}
