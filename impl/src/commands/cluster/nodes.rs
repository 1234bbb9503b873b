//! CLUSTER NODES, MYID and REPLICAS/SLAVES: the node table as text lines.
//!
//! A CLUSTER NODES line and a nodes.conf line are the same line in Redis
//! (`clusterGenNodesDescription` writes both; the file leaves out
//! handshake nodes). So are they here: every record comes from
//! [`Core::node_record`], and [`crate::config::render_node`] writes every line.

use crate::commands::{Context, Outcome};
use crate::config::{render_node, NodeRecord};
use crate::core::Core;
use crate::resp::Frame;

use super::args;

/// Every node I know as a CLUSTER NODES record, by id, handshake nodes
/// included (nodes.conf leaves those out). Mirrors
/// `clusterGenNodesDescription(0, ..)`.
pub fn node_records(core: &Core) -> Vec<NodeRecord> {
    core.nodes().map(|n| core.node_record(n)).collect()
}

/// The CLUSTER NODES text: one line per node, each ending in `\n`.
/// Mirrors `clusterGenNodesDescription`.
pub fn nodes_description(core: &Core) -> String {
    node_records(core)
        .iter()
        .map(|r| render_node(r) + "\n")
        .collect()
}

/// CLUSTER NODES: the description as a bulk string (a verbatim string in
/// RESP3, a bulk string in RESP2). Mirrors the `nodes` branch of `clusterCommand`.
pub(super) fn nodes(ctx: &mut Context, _args: &[Vec<u8>]) -> Outcome {
    Outcome::Reply(Frame::Verbatim(nodes_description(ctx.core).into_bytes()))
}

/// CLUSTER MYID: my 40-character id. Mirrors the `myid` branch of `clusterCommand`.
pub(super) fn myid(ctx: &mut Context, _args: &[Vec<u8>]) -> Outcome {
    Outcome::Reply(Frame::bulk(ctx.core.id().to_vec()))
}

/// `CLUSTER REPLICAS|SLAVES <id>`: the CLUSTER NODES line of each replica of
/// a master, as an array of bulk strings without newlines. Mirrors the
/// `slaves`/`replicas` branch of `clusterCommand`.
pub(super) fn replicas(ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    let core = ctx.core;
    let master = match args::known_node_id(&args[1], |id| core.node(id).is_some()) {
        Ok(id) => id,
        Err(e) => return Outcome::Reply(e),
    };
    let Some(entry) = core.node(&master).filter(|n| !n.is_replica()) else {
        return Outcome::Reply(Frame::error("ERR The specified node is not a master"));
    };
    let lines = node_records(core)
        .iter()
        .filter(|r| args::node_id(r.id.as_bytes()).is_some_and(|id| entry.replicas.contains(&id)))
        .map(|r| Frame::bulk(render_node(r)))
        .collect();
    Outcome::Reply(Frame::Array(lines))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::Fixture;
    use crate::core::tests::met_pair;
    use crate::core::{ClusterCommand, Event};
    use crate::resp::Frame;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn a_lone_master_prints_one_line_with_its_slots() {
        let mut t = Fixture::new();
        assert_eq!(t.reply(&["ADDSLOTSRANGE", "0", "5", "7", "7"]), Frame::ok());
        assert_eq!(
            t.bulk_text(&["NODES"]),
            format!("{A} 127.0.0.1:7000@17000 myself,master - 0 0 0 connected 0-5 7\n")
        );
        assert_eq!(t.bulk_text(&["MYID"]), A);
    }

    #[test]
    fn a_handshake_node_is_listed_but_not_persisted() {
        let mut t = Fixture::new();
        let hs = [b'c'; 40];
        t.apply(ClusterCommand::Meet {
            ip: "10.0.0.2".into(),
            port: 7001,
            cport: 17001,
            handshake_id: hs,
        });
        let text = t.bulk_text(&["NODES"]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(
            lines[0],
            format!("{A} 127.0.0.1:7000@17000 myself,master - 0 0 0 connected")
        );
        let c = "c".repeat(40);
        assert!(
            lines[1].starts_with(&format!("{c} 10.0.0.2:7001@17001 handshake - ")),
            "{}",
            lines[1]
        );
        assert_eq!(t.core.persisted().nodes.len(), 1);
    }

    #[test]
    fn replicas_print_their_masters_epoch_and_are_listed_by_replicas() {
        let (mut a, mut b) = met_pair(15_000);
        let add = ClusterCommand::AddSlots(vec![0, 1, 2]);
        a.handle(0, Event::Command(add));
        b.handle(0, Event::Command(ClusterCommand::Replicate([b'a'; 40])));
        let mut t = Fixture::with_core(b);
        let text = t.bulk_text(&["NODES"]);
        let mine = text
            .lines()
            .find(|l| l.starts_with(B))
            .unwrap_or_else(|| panic!("no line for b in {text}"));
        assert!(
            mine.starts_with(&format!("{B} 127.0.0.1:7001@17001 myself,slave {A} 0 0 ")),
            "{mine}"
        );
        let Frame::Array(lines) = t.reply(&["REPLICAS", A]) else {
            panic!("an array");
        };
        assert_eq!(lines, vec![Frame::bulk(mine)]);
        assert_eq!(
            t.reply(&["SLAVES", B]),
            Frame::error("ERR The specified node is not a master")
        );
    }

    #[test]
    fn replicas_of_an_unknown_or_malformed_id() {
        let mut t = Fixture::new();
        assert_eq!(
            t.reply(&["REPLICAS", "abc"]),
            Frame::error("ERR Unknown node abc")
        );
        assert_eq!(
            t.reply(&["REPLICAS", B]),
            Frame::error(format!("ERR Unknown node {B}"))
        );
        assert_eq!(t.reply(&["REPLICAS", A]), Frame::Array(vec![]));
    }
}
