//! Commands on keys: GET, SET, DEL, EXISTS, INCR, INCRBY, DECR, DECRBY,
//! MGET, MSET, TTL, PTTL, EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, PERSIST,
//! and the entry points of DUMP and RESTORE ([`super::dump`]).
//! Mirrors `t_string.c` and `expire.c` of Redis 7.0, texts included.
//!
//! The dispatcher has already routed the request by slot
//! ([`super::routing`]), so every key here is served by this node.
//!
//! A write that changed the data returns [`Outcome::Write`] with the
//! command replicas must apply, in a form that does not depend on when it
//! is applied: absolute expiry times (`SET k v PXAT ms`, `PEXPIREAT`), the
//! new value instead of an increment (INCR as `SET`), the keys actually
//! removed (`DEL`). Replicas run it with [`super::execute_replicated`].

use super::server::{not_an_integer, syntax_error};
use super::{arity_error, Context, Outcome};
use crate::db::Entry;
use crate::resp::{string2ll, Frame};

/// Runs the data command `name` (already looked up, arity checked, routed).
pub fn execute(ctx: &mut Context, name: &str, args: &[Vec<u8>]) -> Outcome {
    // The dispatcher has checked this; checked again so that no call can
    // index past the arguments.
    if !super::table::lookup(name.as_bytes()).is_some_and(|s| s.arity_ok(args.len())) {
        return Outcome::Reply(arity_error(name));
    }
    let reply = match name {
        "get" => get(ctx, &args[1]),
        "set" => return set(ctx, args),
        "del" => return del(ctx, &args[1..]),
        "exists" => {
            let now = ctx.now_ms;
            let n = args[1..].iter().filter(|k| ctx.db.contains(k, now)).count();
            Frame::Integer(n as i64)
        }
        "incr" => return incr_by(ctx, &args[1], 1),
        "decr" => return incr_by(ctx, &args[1], -1),
        "incrby" | "decrby" => return incr_by_arg(ctx, name, args),
        "mget" => Frame::Array(args[1..].iter().map(|k| get(ctx, k)).collect()),
        "mset" => return mset(ctx, args),
        "ttl" => ttl(ctx, &args[1], false),
        "pttl" => ttl(ctx, &args[1], true),
        "expire" => return expire(ctx, args, ExpireCall::new("expire", true, true)),
        "pexpire" => return expire(ctx, args, ExpireCall::new("pexpire", true, false)),
        "expireat" => return expire(ctx, args, ExpireCall::new("expireat", false, true)),
        "pexpireat" => return expire(ctx, args, ExpireCall::new("pexpireat", false, false)),
        "persist" => return persist(ctx, &args[1]),
        "dump" => super::dump::dump(ctx, &args[1]),
        "restore" | "restore-asking" => return super::dump::restore(ctx, args),
        "migrate" => return super::migrate::plan(ctx, args),
        other => Frame::error(format!("ERR no handler for '{other}'")),
    };
    Outcome::Reply(reply)
}

/// `ERR invalid expire time in '<command>' command` (`addReplyErrorExpireTime`).
fn invalid_expire(command: &str) -> Frame {
    Frame::error(format!("ERR invalid expire time in '{command}' command"))
}

/// `now_ms` as Redis's signed milliseconds.
fn now(ctx: &Context) -> i64 {
    i64::try_from(ctx.now_ms).unwrap_or(i64::MAX)
}

fn get(ctx: &mut Context, key: &[u8]) -> Frame {
    match ctx.db.get(key, ctx.now_ms) {
        Some(e) => Frame::Bulk(e.value.clone()),
        None => Frame::Null,
    }
}

/// The command that recreates `key` on a replica: `SET key value`, with
/// `PXAT ms` when it expires.
pub fn set_form(key: &[u8], value: &[u8], expires_at_ms: Option<u64>) -> Vec<Vec<u8>> {
    let mut out = vec![b"SET".to_vec(), key.to_vec(), value.to_vec()];
    if let Some(t) = expires_at_ms {
        out.push(b"PXAT".to_vec());
        out.push(t.to_string().into_bytes());
    }
    out
}

/// The expiry options of SET.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExpireKind {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// SET's options once parsed (`OBJ_SET_NX`, ...).
#[derive(Default)]
struct SetOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    expire: Option<(ExpireKind, &'a [u8])>,
}

/// Parses SET's options. Mirrors `parseExtendedStringArgumentsOrReply`:
/// NX and XX exclude each other, KEEPTTL and the four expiry options
/// exclude each other, an expiry option may be repeated (the last wins).
fn parse_set_options(opts: &[Vec<u8>]) -> Result<SetOptions<'_>, Frame> {
    let mut o = SetOptions::default();
    let mut j = 0;
    while j < opts.len() {
        let opt = opts[j].to_ascii_lowercase();
        let next = opts.get(j + 1).map(|v| v.as_slice());
        let kind = match opt.as_slice() {
            b"ex" => Some(ExpireKind::Ex),
            b"px" => Some(ExpireKind::Px),
            b"exat" => Some(ExpireKind::ExAt),
            b"pxat" => Some(ExpireKind::PxAt),
            _ => None,
        };
        match (opt.as_slice(), kind, next) {
            (b"nx", _, _) if !o.xx => o.nx = true,
            (b"xx", _, _) if !o.nx => o.xx = true,
            (b"get", _, _) => o.get = true,
            (b"keepttl", _, _) if o.expire.is_none() => o.keepttl = true,
            (_, Some(kind), Some(value))
                if !o.keepttl && o.expire.is_none_or(|(k, _)| k == kind) =>
            {
                o.expire = Some((kind, value));
                j += 1;
            }
            _ => return Err(syntax_error()),
        }
        j += 1;
    }
    Ok(o)
}

/// The absolute expiry of SET's option (`getExpireMillisecondsOrReply`).
fn set_expiry(kind: ExpireKind, raw: &[u8], now_ms: i64) -> Result<u64, Frame> {
    let v = string2ll(raw).ok_or_else(not_an_integer)?;
    let seconds = matches!(kind, ExpireKind::Ex | ExpireKind::ExAt);
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(invalid_expire("set"));
    }
    let ms = if seconds { v * 1000 } else { v };
    let at = match kind {
        ExpireKind::Ex | ExpireKind::Px => ms.checked_add(now_ms),
        ExpireKind::ExAt | ExpireKind::PxAt => Some(ms),
    };
    match at {
        Some(t) if t > 0 => Ok(t as u64),
        _ => Err(invalid_expire("set")),
    }
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL].
/// Mirrors `setCommand` and `setGenericCommand`.
fn set(ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    let (key, value) = (&args[1], &args[2]);
    let o = match parse_set_options(&args[3..]) {
        Ok(o) => o,
        Err(e) => return Outcome::Reply(e),
    };
    let expiry = match o.expire {
        Some((kind, raw)) => match set_expiry(kind, raw, now(ctx)) {
            Ok(t) => Some(t),
            Err(e) => return Outcome::Reply(e),
        },
        None => None,
    };
    let old = ctx.db.get(key, ctx.now_ms).cloned();
    let old_reply = || match &old {
        Some(e) => Frame::Bulk(e.value.clone()),
        None => Frame::Null,
    };
    if (o.nx && old.is_some()) || (o.xx && old.is_none()) {
        return Outcome::Reply(if o.get { old_reply() } else { Frame::Null });
    }
    let expires_at_ms = match (expiry, o.keepttl) {
        (Some(t), _) => Some(t),
        (None, true) => old.as_ref().and_then(|e| e.expires_at_ms),
        (None, false) => None,
    };
    let entry = Entry {
        value: value.clone(),
        expires_at_ms,
    };
    ctx.db.set(key.clone(), entry);
    Outcome::Write {
        reply: if o.get { old_reply() } else { Frame::ok() },
        propagate: set_form(key, value, expires_at_ms),
    }
}

/// DEL key...: removes the keys that exist; propagates those.
fn del(ctx: &mut Context, keys: &[Vec<u8>]) -> Outcome {
    let now = ctx.now_ms;
    let removed: Vec<Vec<u8>> = keys
        .iter()
        .filter(|k| ctx.db.remove(k, now))
        .cloned()
        .collect();
    let reply = Frame::Integer(removed.len() as i64);
    if removed.is_empty() {
        return Outcome::Reply(reply);
    }
    let mut propagate = vec![b"DEL".to_vec()];
    propagate.extend(removed);
    Outcome::Write { reply, propagate }
}

/// INCRBY / DECRBY key n. Mirrors `incrbyCommand` and `decrbyCommand`.
fn incr_by_arg(ctx: &mut Context, name: &str, args: &[Vec<u8>]) -> Outcome {
    let Some(n) = string2ll(&args[2]) else {
        return Outcome::Reply(not_an_integer());
    };
    if name == "incrby" {
        return incr_by(ctx, &args[1], n);
    }
    match n.checked_neg() {
        Some(neg) => incr_by(ctx, &args[1], neg),
        None => Outcome::Reply(Frame::error("ERR decrement would overflow")),
    }
}

/// Adds `by` to the integer at `key` (0 when missing), keeping its expiry.
/// Mirrors `incrDecrCommand`.
fn incr_by(ctx: &mut Context, key: &[u8], by: i64) -> Outcome {
    let (old, expires_at_ms) = match ctx.db.get(key, ctx.now_ms) {
        Some(e) => match string2ll(&e.value) {
            Some(v) => (v, e.expires_at_ms),
            None => return Outcome::Reply(not_an_integer()),
        },
        None => (0, None),
    };
    let Some(new) = old.checked_add(by) else {
        return Outcome::Reply(Frame::error("ERR increment or decrement would overflow"));
    };
    let value = new.to_string().into_bytes();
    let propagate = set_form(key, &value, expires_at_ms);
    let entry = Entry {
        value,
        expires_at_ms,
    };
    ctx.db.set(key.to_vec(), entry);
    Outcome::Write {
        reply: Frame::Integer(new),
        propagate,
    }
}

/// MSET key value [key value ...]: every key set, expiries cleared.
fn mset(ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    if args.len().is_multiple_of(2) {
        return Outcome::Reply(arity_error("mset"));
    }
    for pair in args[1..].chunks_exact(2) {
        let entry = Entry {
            value: pair[1].clone(),
            expires_at_ms: None,
        };
        ctx.db.set(pair[0].clone(), entry);
    }
    let mut propagate = vec![b"MSET".to_vec()];
    propagate.extend(args[1..].iter().cloned());
    Outcome::Write {
        reply: Frame::ok(),
        propagate,
    }
}

/// TTL / PTTL: -2 without the key, -1 without expiry, else the time left
/// (seconds rounded to nearest, as `ttlGenericCommand`).
fn ttl(ctx: &mut Context, key: &[u8], in_ms: bool) -> Frame {
    let now = ctx.now_ms;
    let Some(entry) = ctx.db.get(key, now) else {
        return Frame::Integer(-2);
    };
    let Some(at) = entry.expires_at_ms else {
        return Frame::Integer(-1);
    };
    let left = i64::try_from(at.saturating_sub(now)).unwrap_or(i64::MAX);
    Frame::Integer(if in_ms {
        left
    } else {
        left.saturating_add(500) / 1000
    })
}

/// Which EXPIRE variant runs: its name (for errors), whether the time is
/// relative to now, whether it is in seconds.
#[derive(Clone, Copy)]
struct ExpireCall {
    name: &'static str,
    relative: bool,
    seconds: bool,
}

impl ExpireCall {
    const fn new(name: &'static str, relative: bool, seconds: bool) -> ExpireCall {
        ExpireCall {
            name,
            relative,
            seconds,
        }
    }
}

/// The NX / XX / GT / LT options of EXPIRE (`parseExtendedExpireArgumentsOrReply`).
#[derive(Default)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

fn parse_expire_flags(opts: &[Vec<u8>]) -> Result<ExpireFlags, Frame> {
    let mut f = ExpireFlags::default();
    for opt in opts {
        match opt.to_ascii_lowercase().as_slice() {
            b"nx" => f.nx = true,
            b"xx" => f.xx = true,
            b"gt" => f.gt = true,
            b"lt" => f.lt = true,
            _ => {
                let opt = String::from_utf8_lossy(opt);
                return Err(Frame::error(format!("ERR Unsupported option {opt}")));
            }
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        return Err(Frame::error(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if f.gt && f.lt {
        return Err(Frame::error(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    Ok(f)
}

/// The absolute time an EXPIRE variant asks for, in ms (may be in the past).
fn expire_when(call: ExpireCall, raw: &[u8], now_ms: i64) -> Result<i64, Frame> {
    let mut when = string2ll(raw).ok_or_else(not_an_integer)?;
    if call.seconds {
        when = when
            .checked_mul(1000)
            .ok_or_else(|| invalid_expire(call.name))?;
    }
    let base = if call.relative { now_ms } else { 0 };
    when.checked_add(base)
        .ok_or_else(|| invalid_expire(call.name))
}

/// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX|XX|GT|LT]. Mirrors
/// `expireGenericCommand`: a time already past deletes the key (on a
/// master; a replica waits for its master's DEL).
fn expire(ctx: &mut Context, args: &[Vec<u8>], call: ExpireCall) -> Outcome {
    let flags = match parse_expire_flags(&args[3..]) {
        Ok(f) => f,
        Err(e) => return Outcome::Reply(e),
    };
    let when = match expire_when(call, &args[2], now(ctx)) {
        Ok(w) => w,
        Err(e) => return Outcome::Reply(e),
    };
    let key = &args[1];
    let Some(entry) = ctx.db.get(key, ctx.now_ms).cloned() else {
        return Outcome::Reply(Frame::Integer(0));
    };
    let current = entry
        .expires_at_ms
        .map(|t| i64::try_from(t).unwrap_or(i64::MAX));
    let refused = (flags.nx && current.is_some())
        || (flags.xx && current.is_none())
        || (flags.gt && current.is_none_or(|c| when <= c))
        || (flags.lt && current.is_some_and(|c| when >= c));
    if refused {
        return Outcome::Reply(Frame::Integer(0));
    }
    if when <= now(ctx) && ctx.core.is_master() {
        ctx.db.remove(key, ctx.now_ms);
        return Outcome::Write {
            reply: Frame::Integer(1),
            propagate: vec![b"DEL".to_vec(), key.clone()],
        };
    }
    let at = u64::try_from(when).unwrap_or(0);
    ctx.db.set(
        key.clone(),
        Entry {
            expires_at_ms: Some(at),
            ..entry
        },
    );
    Outcome::Write {
        reply: Frame::Integer(1),
        propagate: vec![
            b"PEXPIREAT".to_vec(),
            key.clone(),
            at.to_string().into_bytes(),
        ],
    }
}

/// PERSIST key: drops the expiry; 1 when there was one.
fn persist(ctx: &mut Context, key: &[u8]) -> Outcome {
    let entry = match ctx.db.get(key, ctx.now_ms) {
        Some(e) if e.expires_at_ms.is_some() => e.clone(),
        _ => return Outcome::Reply(Frame::Integer(0)),
    };
    let entry = Entry {
        expires_at_ms: None,
        ..entry
    };
    ctx.db.set(key.to_vec(), entry);
    Outcome::Write {
        reply: Frame::Integer(1),
        propagate: vec![b"PERSIST".to_vec(), key.to_vec()],
    }
}

#[cfg(test)]
#[path = "data_tests.rs"]
mod tests;
