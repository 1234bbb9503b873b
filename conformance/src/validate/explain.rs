//! Where a candidate state and an observation differ, field by field: what
//! a rejection prints about the closest candidate, and what a snapshot is
//! checked with.

use clusterbus_model::receive::header_of;
use clusterbus_model::{Header, Msg, NodeIx};

use super::mapping::View;
use super::search::Cand;

fn field<T: PartialEq + std::fmt::Debug>(out: &mut Vec<String>, what: String, model: T, seen: T) {
    if model != seen {
        out.push(format!("{what}: model {model:?}, observed {seen:?}"));
    }
}

fn header_diff(out: &mut Vec<String>, what: &str, model: &Header, seen: &Header) {
    field(
        out,
        format!("{what} currentEpoch"),
        model.current_epoch,
        seen.current_epoch,
    );
    field(
        out,
        format!("{what} configEpoch"),
        model.config_epoch,
        seen.config_epoch,
    );
    field(out, format!("{what} master"), model.master, seen.master);
    field(out, format!("{what} shards"), model.shards, seen.shards);
}

/// How a frame `from -> to` with `msg` differs from what candidate `c`
/// would send: the sender's header now, and the next message the model
/// has in flight on that link that the wire has not shown.
pub fn diff_frame(c: &Cand, from: NodeIx, to: NodeIx, msg: &Msg) -> Vec<String> {
    let mut out = Vec::new();
    for (n, what) in [(from, "sender"), (to, "receiver")] {
        if !c.st.nodes[n as usize].up {
            out.push(format!("{what} n{n} is down in the model"));
        }
    }
    header_diff(
        &mut out,
        &format!("n{from} header"),
        &header_of(&c.st, from),
        &msg.header,
    );
    let (f, t) = (from as usize, to as usize);
    match c.st.link(from, to).get(c.seen[f][t].first_unshown()) {
        Some(next) => {
            field(
                &mut out,
                format!("next unshown message n{from}->n{to}"),
                next.to_string(),
                msg.to_string(),
            );
        }
        None => out.push(format!(
            "the model has no unshown message on n{from}->n{to} (frame: {msg})"
        )),
    }
    out
}

/// How node `v.node`'s observed view differs from its state in `c`.
pub fn diff_view(c: &Cand, v: &View) -> Vec<String> {
    let me = v.node;
    let node = &c.st.nodes[me as usize];
    let mut out = Vec::new();
    if !node.up {
        out.push(format!("n{me} is down in the model"));
        return out;
    }
    let w = |s: &str| format!("n{me} {s}");
    field(
        &mut out,
        w("currentEpoch"),
        node.current_epoch,
        v.current_epoch,
    );
    field(
        &mut out,
        w("configEpoch"),
        node.epoch_of(me, node.master.unwrap_or(me)),
        v.my_epoch,
    );
    field(&mut out, w("master"), node.master, v.master);
    for (s, owner) in v.owners.iter().enumerate() {
        field(
            &mut out,
            w(&format!("owner of shard {s}")),
            node.owners[s],
            *owner,
        );
    }
    for (j, pv) in v.peers.iter().enumerate() {
        if j == me as usize {
            continue;
        }
        let p = &node.peers[j];
        field(&mut out, w(&format!("knows n{j}")), p.known, pv.is_some());
        let Some(pv) = pv else { continue };
        if !p.known {
            continue;
        }
        field(&mut out, w(&format!("n{j} FAIL")), p.fail, pv.fail);
        field(&mut out, w(&format!("n{j} PFAIL")), p.pfail, pv.pfail);
        field(&mut out, w(&format!("n{j} master")), p.master, pv.master);
        if p.master.is_none() && pv.master.is_none() {
            field(
                &mut out,
                w(&format!("n{j} configEpoch")),
                p.config_epoch,
                pv.config_epoch,
            );
        }
    }
    out
}
