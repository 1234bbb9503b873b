//! CLUSTER INFO: the state of the cluster as `field:value` lines, in the
//! order and under the names Redis 7.0 prints them (tools such as
//! `redis-cli --cluster check` read `cluster_state` and friends from it).

use std::fmt::Write;

use crate::codec::MessageType;
use crate::commands::{Context, Outcome};
use crate::core::info::CLUSTERMSG_TYPE_COUNT;
use crate::core::{ClusterInfo, ClusterState};
use crate::resp::Frame;

/// The name of a bus message type in the `cluster_stats_messages_<name>_*`
/// fields. Mirrors `clusterGetMessageTypeString`.
pub fn message_type_name(t: MessageType) -> &'static str {
    match t {
        MessageType::Ping => "ping",
        MessageType::Pong => "pong",
        MessageType::Meet => "meet",
        MessageType::Fail => "fail",
        MessageType::Publish => "publish",
        MessageType::PublishShard => "publishshard",
        MessageType::FailoverAuthRequest => "auth-req",
        MessageType::FailoverAuthAck => "auth-ack",
        MessageType::Update => "update",
        MessageType::MfStart => "mfstart",
        MessageType::Module => "module",
    }
}

/// The CLUSTER INFO text, CRLF-terminated lines: the slot and node counts,
/// the epochs, the per-type message counts that are not zero (sent, then
/// their total; received, then theirs), and the link buffer counter (always
/// 0: this node has no send-buffer limit). Mirrors the `info` branch of
/// `clusterCommand`.
pub fn info_text(info: &ClusterInfo) -> String {
    let state = match info.state {
        ClusterState::Ok => "ok",
        ClusterState::Fail => "fail",
    };
    let mut out = String::new();
    let fields: [(&str, &dyn std::fmt::Display); 9] = [
        ("cluster_state", &state),
        ("cluster_slots_assigned", &info.slots_assigned),
        ("cluster_slots_ok", &info.slots_ok),
        ("cluster_slots_pfail", &info.slots_pfail),
        ("cluster_slots_fail", &info.slots_fail),
        ("cluster_known_nodes", &info.known_nodes),
        ("cluster_size", &info.size),
        ("cluster_current_epoch", &info.current_epoch),
        ("cluster_my_epoch", &info.my_epoch),
    ];
    for (name, value) in fields {
        let _ = write!(out, "{name}:{value}\r\n");
    }
    message_counts(&mut out, "sent", &info.stats.sent);
    message_counts(&mut out, "received", &info.stats.received);
    out.push_str("total_cluster_links_buffer_limit_exceeded:0\r\n");
    out
}

/// The `cluster_stats_messages_<type>_<dir>` lines of the non-zero counts,
/// then `cluster_stats_messages_<dir>` with their sum.
fn message_counts(out: &mut String, dir: &str, counts: &[u64; CLUSTERMSG_TYPE_COUNT]) {
    let mut total = 0;
    for (code, count) in counts.iter().enumerate() {
        let Some(t) = MessageType::from_code(code as u16) else {
            continue;
        };
        if *count == 0 {
            continue;
        }
        total += count;
        let name = message_type_name(t);
        let _ = write!(out, "cluster_stats_messages_{name}_{dir}:{count}\r\n");
    }
    let _ = write!(out, "cluster_stats_messages_{dir}:{total}\r\n");
}

/// CLUSTER INFO as a bulk string (verbatim in RESP3).
pub(super) fn info(ctx: &mut Context, _args: &[Vec<u8>]) -> Outcome {
    Outcome::Reply(Frame::Verbatim(info_text(&ctx.core.info()).into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::BusStats;

    fn sample() -> ClusterInfo {
        let mut stats = BusStats::default();
        stats.sent[MessageType::Ping as usize] = 8;
        stats.sent[MessageType::Meet as usize] = 1;
        stats.received[MessageType::Pong as usize] = 9;
        stats.received[MessageType::FailoverAuthRequest as usize] = 2;
        ClusterInfo {
            state: ClusterState::Ok,
            slots_assigned: 16384,
            slots_ok: 16000,
            slots_pfail: 384,
            slots_fail: 0,
            known_nodes: 2,
            size: 1,
            current_epoch: 3,
            my_epoch: 1,
            stats,
        }
    }

    #[test]
    fn fields_come_in_redis_order_with_crlf() {
        assert_eq!(
            info_text(&sample()),
            "cluster_state:ok\r\n\
             cluster_slots_assigned:16384\r\n\
             cluster_slots_ok:16000\r\n\
             cluster_slots_pfail:384\r\n\
             cluster_slots_fail:0\r\n\
             cluster_known_nodes:2\r\n\
             cluster_size:1\r\n\
             cluster_current_epoch:3\r\n\
             cluster_my_epoch:1\r\n\
             cluster_stats_messages_ping_sent:8\r\n\
             cluster_stats_messages_meet_sent:1\r\n\
             cluster_stats_messages_sent:9\r\n\
             cluster_stats_messages_pong_received:9\r\n\
             cluster_stats_messages_auth-req_received:2\r\n\
             cluster_stats_messages_received:11\r\n\
             total_cluster_links_buffer_limit_exceeded:0\r\n"
        );
    }

    #[test]
    fn a_fresh_node_reports_fail_and_zero_totals() {
        let mut t = super::super::test_support::Fixture::new();
        let text = t.bulk_text(&["INFO"]);
        assert!(text.starts_with("cluster_state:fail\r\ncluster_slots_assigned:0\r\n"));
        assert!(text.ends_with(
            "cluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\n\
             total_cluster_links_buffer_limit_exceeded:0\r\n"
        ));
    }
}
