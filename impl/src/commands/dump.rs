//! DUMP, RESTORE and RESTORE-ASKING: a key's value as Redis's serialized
//! form ([`crate::rdb`]'s DUMP payloads), so keys can move between this node
//! and redis-server. Mirrors `dumpCommand` and `restoreCommand` of Redis
//! 7.0 (`cluster.c`), texts and the order of the checks included.
//!
//! RESTORE-ASKING is RESTORE with the ASKING flag: MIGRATE sends it, and
//! it is served for a slot being imported (see `routing`).

use super::server::syntax_error;
use super::{Context, Outcome};
use crate::db::Entry;
use crate::rdb;
use crate::resp::{string2ll, Frame};

/// DUMP key: the payload, or a null for a missing key.
pub fn dump(ctx: &mut Context, key: &[u8]) -> Frame {
    match ctx.db.get(key, ctx.now_ms) {
        Some(e) => Frame::Bulk(rdb::dump_payload(&e.value)),
        None => Frame::Null,
    }
}

/// `RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds]
/// [FREQ frequency]`. The key's access time and frequency are not kept by
/// this node, so IDLETIME and FREQ are checked and have no effect.
pub fn restore(ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    let reply = |f: Frame| Outcome::Reply(f);
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq) = (false, false);
    let mut j = 4;
    while j < args.len() {
        let more = args.len() - j - 1;
        let a = args[j].to_ascii_lowercase();
        match a.as_slice() {
            b"replace" => replace = true,
            b"absttl" => absttl = true,
            b"idletime" if more >= 1 && !freq => {
                let Some(v) = string2ll(&args[j + 1]) else {
                    return reply(super::server::not_an_integer());
                };
                if v < 0 {
                    return reply(Frame::error("ERR Invalid IDLETIME value, must be >= 0"));
                }
                idle = true;
                j += 1;
            }
            b"freq" if more >= 1 && !idle => {
                let Some(v) = string2ll(&args[j + 1]) else {
                    return reply(super::server::not_an_integer());
                };
                if !(0..=255).contains(&v) {
                    return reply(Frame::error(
                        "ERR Invalid FREQ value, must be >= 0 and <= 255",
                    ));
                }
                freq = true;
                j += 1;
            }
            _ => return reply(syntax_error()),
        }
        j += 1;
    }
    let key = &args[1];
    if !replace && ctx.db.contains(key, ctx.now_ms) {
        return reply(Frame::error("BUSYKEY Target key name already exists."));
    }
    let Some(ttl) = string2ll(&args[2]) else {
        return reply(super::server::not_an_integer());
    };
    if ttl < 0 {
        return reply(Frame::error("ERR Invalid TTL value, must be >= 0"));
    }
    let value = match rdb::restore_payload(&args[3]) {
        Ok(v) => v,
        Err(e) if e.what.contains("version or checksum") => {
            return reply(Frame::error(
                "ERR DUMP payload version or checksum are wrong",
            ))
        }
        Err(_) => return reply(Frame::error("ERR Bad data format")),
    };
    let now = ctx.now_ms;
    let deleted = replace && ctx.db.remove(key, now);
    let at = match (ttl, absttl) {
        (0, _) => None,
        (t, true) => Some(t as u64),
        (t, false) => Some(now.saturating_add(t as u64)),
    };
    if at.is_some_and(|t| t <= now) {
        // Already expired: the old key (if any) is gone, nothing is made.
        return match deleted {
            true => Outcome::Write {
                reply: Frame::ok(),
                propagate: vec![b"DEL".to_vec(), key.clone()],
            },
            false => reply(Frame::ok()),
        };
    }
    let propagate = super::data::set_form(key, &value, at);
    ctx.db.set(
        key.clone(),
        Entry {
            value,
            expires_at_ms: at,
        },
    );
    Outcome::Write {
        reply: Frame::ok(),
        propagate,
    }
}
