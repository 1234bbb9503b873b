//! CLUSTER SLOTS and CLUSTER SHARDS: who serves which slots, as nested
//! arrays (RESP2: a map is an array of alternating keys and values). Cluster
//! clients and `redis-cli --cluster` build their slot tables from these.
//!
//! Both walk the slot table (`clusterState.slots`), not each node's own
//! bitmap, as Redis does. The preferred endpoint is always the IP
//! (`cluster-preferred-endpoint-type ip`), and no node has a hostname.

use std::collections::BTreeMap;

use crate::codec::NodeName;
use crate::commands::{Context, Outcome};
use crate::core::{name_from_str, Core, NodeEntry, SlotOwnerRange};
use crate::resp::Frame;

/// The runs of consecutive slots with one owner, in slot order.
fn owner_runs(core: &Core) -> Vec<SlotOwnerRange> {
    core.summary().slots
}

/// A node's replication offset as CLUSTER SLOTS and SHARDS use it: my own
/// for myself (the table entry of myself is not updated), the one from its
/// last header otherwise.
fn repl_offset(core: &Core, n: &NodeEntry) -> u64 {
    if n.name == core.id() {
        core.repl_offset()
    } else {
        n.repl_offset
    }
}

/// Whether CLUSTER SLOTS lists a replica: not FAIL, and it has synced
/// something (offset not 0). Mirrors `isReplicaAvailable`.
fn replica_available(core: &Core, n: &NodeEntry) -> bool {
    !n.failed() && repl_offset(core, n) != 0
}

/// `[ip, port, id, {}]`: one node of a CLUSTER SLOTS entry; the map of
/// extra endpoints is empty (no hostnames). Mirrors `addNodeToNodeReply`.
fn slot_node(n: &NodeEntry) -> Frame {
    Frame::Array(vec![
        Frame::bulk(n.ip.as_str()),
        Frame::Integer(n.port.into()),
        Frame::bulk(n.name.to_vec()),
        Frame::Map(Vec::new()),
    ])
}

/// `[start, end, master, replicas...]` for one run of slots. Mirrors
/// `addNodeReplyForClusterSlot`.
fn slot_entry(core: &Core, run: &SlotOwnerRange) -> Option<Frame> {
    let owner = core.node(&name_from_str(&run.owner)?)?;
    let mut entry = vec![
        Frame::Integer(run.start.into()),
        Frame::Integer(run.end.into()),
        slot_node(owner),
    ];
    let replicas = owner.replicas.iter().filter_map(|r| core.node(r));
    entry.extend(
        replicas
            .filter(|r| replica_available(core, r))
            .map(slot_node),
    );
    Some(Frame::Array(entry))
}

/// The CLUSTER SLOTS reply. Mirrors `clusterReplyMultiBulkSlots`.
pub fn slots_reply(core: &Core) -> Frame {
    let runs = owner_runs(core);
    Frame::Array(runs.iter().filter_map(|r| slot_entry(core, r)).collect())
}

/// The details of one node of a shard. Mirrors `addNodeDetailsToShardReply`
/// (no TLS: `port` is the client port, no `tls-port`; no hostname).
fn shard_node(core: &Core, n: &NodeEntry) -> Frame {
    let offset = repl_offset(core, n);
    let health = if n.failed() {
        "fail"
    } else if n.is_replica() && offset == 0 {
        "loading"
    } else {
        "online"
    };
    let mut fields = vec![("id", Frame::bulk(n.name.to_vec()))];
    if n.port != 0 {
        fields.push(("port", Frame::Integer(n.port.into())));
    }
    fields.extend([
        ("ip", Frame::bulk(n.ip.as_str())),
        ("endpoint", Frame::bulk(n.ip.as_str())),
        (
            "role",
            Frame::bulk(if n.is_replica() { "replica" } else { "master" }),
        ),
        (
            "replication-offset",
            Frame::Integer(i64::try_from(offset).unwrap_or(i64::MAX)),
        ),
        ("health", Frame::bulk(health)),
    ]);
    Frame::map(fields)
}

/// One shard: a master's slot ranges as flat `start, end` pairs, and the
/// master followed by its replicas. Mirrors `addShardReplyForClusterShards`
/// with `clusterGetNodesServingMySlots`.
fn shard(core: &Core, master: &NodeEntry, ranges: &[(u16, u16)]) -> Frame {
    let slots = ranges
        .iter()
        .flat_map(|(s, e)| [Frame::Integer((*s).into()), Frame::Integer((*e).into())])
        .collect();
    let replicas = master.replicas.iter().filter_map(|r| core.node(r));
    let nodes = std::iter::once(master)
        .chain(replicas)
        .map(|n| shard_node(core, n))
        .collect();
    Frame::map(vec![
        ("slots", Frame::Array(slots)),
        ("nodes", Frame::Array(nodes)),
    ])
}

/// The CLUSTER SHARDS reply: one shard per master, slots or not. Mirrors
/// `clusterReplyShards`.
pub fn shards_reply(core: &Core) -> Frame {
    let mut ranges: BTreeMap<NodeName, Vec<(u16, u16)>> = BTreeMap::new();
    for run in owner_runs(core) {
        if let Some(owner) = name_from_str(&run.owner) {
            ranges.entry(owner).or_default().push((run.start, run.end));
        }
    }
    let shards = core
        .nodes()
        .filter(|n| n.is_master())
        .map(|m| shard(core, m, ranges.get(&m.name).map_or(&[], |r| r.as_slice())))
        .collect();
    Frame::Array(shards)
}

/// CLUSTER SLOTS.
pub(super) fn slots(ctx: &mut Context, _args: &[Vec<u8>]) -> Outcome {
    Outcome::Reply(slots_reply(ctx.core))
}

/// CLUSTER SHARDS.
pub(super) fn shards(ctx: &mut Context, _args: &[Vec<u8>]) -> Outcome {
    Outcome::Reply(shards_reply(ctx.core))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{exchange_pings, Fixture};
    use crate::core::tests::met_pair;
    use crate::core::{ClusterCommand, Event};
    use crate::resp::Frame;

    fn int(n: i64) -> Frame {
        Frame::Integer(n)
    }

    fn node(ip: &str, port: i64, id: u8) -> Frame {
        Frame::Array(vec![
            Frame::bulk(ip),
            int(port),
            Frame::bulk(vec![id; 40]),
            Frame::Map(vec![]),
        ])
    }

    #[test]
    fn slots_lists_runs_of_one_owner() {
        let mut t = Fixture::new();
        t.reply(&["ADDSLOTSRANGE", "0", "99", "200", "300"]);
        assert_eq!(
            t.reply(&["SLOTS"]),
            Frame::Array(vec![
                Frame::Array(vec![int(0), int(99), node("127.0.0.1", 7000, b'a')]),
                Frame::Array(vec![int(200), int(300), node("127.0.0.1", 7000, b'a')]),
            ])
        );
    }

    #[test]
    fn shards_list_every_master_and_replicas_without_offset_are_loading() {
        let (mut a, mut b) = met_pair(15_000);
        a.handle(0, Event::Command(ClusterCommand::AddSlots(vec![5, 6, 9])));
        b.handle(0, Event::Command(ClusterCommand::Replicate([b'a'; 40])));
        exchange_pings(&mut a, &mut b);
        let mut t = Fixture::with_core(b);
        let Frame::Array(shards) = t.reply(&["SHARDS"]) else {
            panic!("an array");
        };
        assert_eq!(shards.len(), 1, "b is a replica: one master, one shard");
        let Frame::Map(shard) = &shards[0] else {
            panic!("a map");
        };
        assert_eq!(shard[0].0, Frame::bulk("slots"));
        assert_eq!(
            shard[0].1,
            Frame::Array(vec![int(5), int(6), int(9), int(9)])
        );
        assert_eq!(shard[1].0, Frame::bulk("nodes"));
        let Frame::Array(nodes) = &shard[1].1 else {
            panic!("an array of nodes");
        };
        assert_eq!(nodes.len(), 2);
        let Frame::Map(replica) = &nodes[1] else {
            panic!("a map");
        };
        let keys: Vec<&Frame> = replica.iter().map(|(k, _)| k).collect();
        let names = [
            "id",
            "port",
            "ip",
            "endpoint",
            "role",
            "replication-offset",
            "health",
        ];
        assert_eq!(keys, names.map(Frame::bulk).iter().collect::<Vec<_>>());
        assert_eq!(replica[4].1, Frame::bulk("replica"));
        assert_eq!(replica[6].1, Frame::bulk("loading"));
        // A replica with offset 0 is not in CLUSTER SLOTS.
        t.core.set_repl_offset(0);
        let Frame::Array(slots) = t.reply(&["SLOTS"]) else {
            panic!("an array");
        };
        assert_eq!(slots.len(), 2, "5-6 and 9: {slots:?}");
        for entry in &slots {
            let Frame::Array(e) = entry else {
                panic!("an entry");
            };
            assert_eq!(e.len(), 3, "no replica listed: {e:?}");
        }
        t.core.set_repl_offset(10);
        let Frame::Array(slots) = t.reply(&["SLOTS"]) else {
            panic!("an array");
        };
        for entry in &slots {
            let Frame::Array(e) = entry else {
                panic!("an entry");
            };
            assert_eq!(e.get(3), Some(&node("127.0.0.1", 7001, b'b')));
        }
    }
}
