//! MULTI, EXEC and DISCARD: what a request means for its client's
//! transaction, as a pure function of the transaction and the node's
//! state. The runtime keeps one [`Multi`] per client in a transaction and
//! runs what [`step`] returns. Mirrors `multi.c` and the MULTI branches of
//! `processCommand` in Redis 7.0: a request queued inside MULTI is checked
//! first (existence, arity, AUTH, routing, writes on a replica, and
//! `no_multi` commands) and a failed check is an error reply that makes
//! EXEC abort; EXEC routes the keys of every queued command together.

use super::routing::{self, Query};
use super::{admit, resolve, Context, Request};
use crate::resp::Frame;

/// A client's open transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Multi {
    pub queued: Vec<Request>,
    /// A queued request failed its checks (`CLIENT_DIRTY_EXEC`).
    pub dirty: bool,
}

/// What the runtime does with a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Not a transaction matter: run it as usual.
    Run,
    /// Answer this (MULTI, DISCARD, QUEUED, an error).
    Reply(Frame),
    /// EXEC: run these in order, their replies as one array.
    Exec(Vec<Request>),
}

/// The step for `req` given the client's transaction `multi` (changed in
/// place: opened, queued to, or closed).
pub fn step(ctx: &Context, multi: &mut Option<Multi>, req: &Request) -> Step {
    let name = req
        .args
        .first()
        .map(|n| n.to_ascii_lowercase())
        .unwrap_or_default();
    let Some(tx) = multi.as_mut() else {
        return match name.as_slice() {
            b"multi" if req.args.len() == 1 => {
                *multi = Some(Multi::default());
                Step::Reply(Frame::ok())
            }
            b"exec" if req.args.len() == 1 => Step::Reply(Frame::error("ERR EXEC without MULTI")),
            b"discard" if req.args.len() == 1 => {
                Step::Reply(Frame::error("ERR DISCARD without MULTI"))
            }
            _ => Step::Run,
        };
    };
    let (_, spec) = match resolve(&req.args) {
        Ok(found) => found,
        Err(e) => {
            tx.dirty = true;
            return Step::Reply(e);
        }
    };
    match spec.name {
        "multi" => return Step::Reply(Frame::error("ERR MULTI calls can not be nested")),
        "discard" => {
            *multi = None;
            return Step::Reply(Frame::ok());
        }
        "exec" => return exec(ctx, multi),
        // Run, not queued, and refused (`watchCommand`); the transaction stays clean.
        "watch" => return Step::Reply(Frame::error("ERR WATCH inside MULTI is not allowed")),
        // Closes the connection as outside a transaction.
        "quit" => return Step::Run,
        _ => {}
    }
    if spec.has_flag("no_multi") {
        tx.dirty = true;
        return Step::Reply(Frame::error("ERR Command not allowed inside a transaction"));
    }
    if let Err(e) = admit(ctx, spec, &req.args) {
        tx.dirty = true;
        return Step::Reply(e);
    }
    if !tx.dirty {
        tx.queued.push(req.clone());
    }
    Step::Reply(Frame::Simple("QUEUED".into()))
}

/// EXEC: aborts after a failed check; else routes every queued key as one
/// request (`getNodeByQuery` over the whole transaction) and runs them.
fn exec(ctx: &Context, multi: &mut Option<Multi>) -> Step {
    let Some(tx) = multi.take() else {
        return Step::Reply(Frame::error("ERR EXEC without MULTI"));
    };
    if tx.dirty {
        return Step::Reply(Frame::error(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    let mut keys: Vec<&[u8]> = Vec::new();
    let mut write = false;
    for r in &tx.queued {
        if let Ok((_, spec)) = resolve(&r.args) {
            write |= spec.is_write();
            keys.extend(spec.key_args(&r.args));
        }
    }
    let query = Query {
        write,
        readonly: ctx.session.readonly,
        asking: ctx.session.asking,
        migrate: false,
    };
    let has_key = |key: &[u8]| ctx.db.is_live(key, ctx.now_ms);
    if let Err(redirect) = routing::route(ctx.core, keys, query, has_key) {
        return Step::Reply(redirect.reply());
    }
    Step::Exec(tx.queued)
}
