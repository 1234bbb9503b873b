//! [`NodesConf`] → text, in the exact format Redis 7.0 writes.

use super::flags::flags_to_string;
use super::{NodeRecord, NodesConf};
use std::fmt::Write;

/// The whole file: one line per node, then the vars line. Mirrors
/// `clusterSaveConfig` (nodes in the order given).
pub fn render(conf: &NodesConf) -> String {
    let mut out = String::new();
    for node in &conf.nodes {
        out.push_str(&render_node(node));
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "vars currentEpoch {} lastVoteEpoch {}",
        conf.current_epoch, conf.last_vote_epoch
    );
    out
}

/// One node line without the newline; also the shape of a `CLUSTER NODES`
/// line. Mirrors `clusterGenNodeDescription`.
pub fn render_node(node: &NodeRecord) -> String {
    let mut line = format!("{} {}:{}@{}", node.id, node.ip, node.port, node.cport);
    if let Some(host) = &node.hostname {
        let _ = write!(line, ",{host}");
    }
    let master = node.master.as_deref().unwrap_or("-");
    let link = if node.link_connected {
        "connected"
    } else {
        "disconnected"
    };
    let _ = write!(
        line,
        " {} {master} {} {} {} {link}",
        flags_to_string(node.flags),
        node.ping_sent_ms,
        node.pong_received_ms,
        node.config_epoch
    );
    for r in &node.slots {
        if r.start == r.end {
            let _ = write!(line, " {}", r.start);
        } else {
            let _ = write!(line, " {}-{}", r.start, r.end);
        }
    }
    for (slot, arrow, id) in migrations_by_slot(node) {
        let _ = write!(line, " [{slot}{arrow}{id}]");
    }
    line
}

/// Migrating and importing entries merged in slot order, as Redis prints them
/// (it walks slots 0..16384; a slot both migrating and importing is shown
/// as migrating only).
fn migrations_by_slot(node: &NodeRecord) -> Vec<(u16, &'static str, &str)> {
    let mut all: Vec<(u16, &'static str, &str)> = node
        .migrating
        .iter()
        .map(|(s, id)| (*s, "->-", id.as_str()))
        .chain(
            node.importing
                .iter()
                .map(|(s, id)| (*s, "-<-", id.as_str())),
        )
        .collect();
    all.sort_by_key(|(slot, arrow, _)| (*slot, *arrow != "->-"));
    all.dedup_by_key(|(slot, _, _)| *slot);
    all
}
