//! INFO [section ...]: every default section of Redis 7.0 (server,
//! clients, memory, persistence, stats, replication, cpu, modules,
//! errorstats, cluster, keyspace) and commandstats, in Redis 7.0's format
//! (`genRedisInfoString`): a `# Name` header, `field:value` lines ending in
//! CRLF, a blank line between sections. The fields are those redis-cli and
//! cluster tooling read (`cluster_enabled`, `db0:`, `role`, `master_host`,
//! ...), with the values this node knows; fields Redis has but this node
//! cannot know (allocator statistics, RDB state) are left out rather than
//! invented. The process sections are [`super::info_process`]'s.

use std::fmt::Write;

use super::{info_process, Context};
use crate::resp::Frame;

/// The sections this node reports, in Redis's output order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// `# Server`.
    Server,
    /// `# Clients`.
    Clients,
    /// `# Memory`.
    Memory,
    /// `# Persistence`.
    Persistence,
    /// `# Stats`.
    Stats,
    /// `# Replication`.
    Replication,
    /// `# CPU`.
    Cpu,
    /// `# Modules` (none).
    Modules,
    /// `# Errorstats`.
    Errorstats,
    /// `# Cluster`.
    Cluster,
    /// `# Keyspace`.
    Keyspace,
    /// `# Commandstats`: not a default section (`all`, `everything`, or
    /// by name).
    Commandstats,
}

/// Every section, in output order.
pub const SECTIONS: [Section; 12] = [
    Section::Server,
    Section::Clients,
    Section::Memory,
    Section::Persistence,
    Section::Stats,
    Section::Replication,
    Section::Cpu,
    Section::Modules,
    Section::Errorstats,
    Section::Commandstats,
    Section::Cluster,
    Section::Keyspace,
];

impl Section {
    /// The lowercase name a client asks for.
    pub fn name(self) -> &'static str {
        match self {
            Section::Server => "server",
            Section::Clients => "clients",
            Section::Memory => "memory",
            Section::Persistence => "persistence",
            Section::Stats => "stats",
            Section::Cpu => "cpu",
            Section::Modules => "modules",
            Section::Errorstats => "errorstats",
            Section::Commandstats => "commandstats",
            Section::Replication => "replication",
            Section::Cluster => "cluster",
            Section::Keyspace => "keyspace",
        }
    }
}

/// The sections `args` ask for (`genInfoSectionDict`): none or `default`
/// mean the default ones (all but commandstats), `all` and `everything`
/// every one; names are case-insensitive; unknown names select nothing.
pub fn wanted(args: &[Vec<u8>]) -> Vec<Section> {
    let lower: Vec<Vec<u8>> = args.iter().map(|a| a.to_ascii_lowercase()).collect();
    let named = |w: &[&[u8]]| lower.iter().any(|a| w.contains(&a.as_slice()));
    let all = named(&[b"all", b"everything"]);
    let default = all || lower.is_empty() || named(&[b"default"]);
    SECTIONS
        .into_iter()
        .filter(|s| {
            all || (default && *s != Section::Commandstats)
                || lower.iter().any(|a| a.as_slice() == s.name().as_bytes())
        })
        .collect()
}

/// INFO [section ...] as a bulk string.
pub fn info(ctx: &Context, args: &[Vec<u8>]) -> Frame {
    let mut out = String::new();
    for (i, section) in wanted(args).into_iter().enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        render(ctx, section, &mut out);
    }
    Frame::Verbatim(out.into_bytes())
}

/// Appends one section to `out`.
pub fn render(ctx: &Context, section: Section, out: &mut String) {
    match section {
        Section::Server => server(ctx, out),
        Section::Clients => clients(ctx, out),
        Section::Memory => info_process::memory(ctx, out),
        Section::Persistence => info_process::persistence(ctx, out),
        Section::Stats => info_process::stats(ctx, out),
        Section::Cpu => info_process::cpu(ctx, out),
        Section::Modules => out.push_str("# Modules\r\n"),
        Section::Errorstats => out.push_str("# Errorstats\r\n"),
        Section::Commandstats => info_process::commandstats(ctx, out),
        Section::Replication => replication(ctx, out),
        Section::Cluster => out.push_str("# Cluster\r\ncluster_enabled:1\r\n"),
        Section::Keyspace => keyspace(ctx, out),
    }
}

/// Appends `name:value\r\n`.
fn field(out: &mut String, name: &str, value: impl std::fmt::Display) {
    // Writing to a String cannot fail.
    let _ = write!(out, "{name}:{value}\r\n");
}

fn server(ctx: &Context, out: &mut String) {
    let f = ctx.facts;
    out.push_str("# Server\r\n");
    field(out, "redis_version", &f.version);
    field(out, "redis_git_sha1", "00000000");
    field(out, "redis_git_dirty", 0);
    field(out, "redis_mode", "cluster");
    field(out, "arch_bits", usize::BITS);
    field(out, "process_id", f.process_id);
    field(out, "process_supervised", "no");
    field(out, "run_id", &f.run_id);
    field(out, "tcp_port", f.tcp_port);
    field(out, "server_time_usec", ctx.now_ms.saturating_mul(1000));
    field(out, "uptime_in_seconds", f.uptime_s);
    field(out, "uptime_in_days", f.uptime_s / 86_400);
    field(out, "hz", 10);
    field(out, "configured_hz", 10);
    field(out, "config_file", &f.config_file);
    field(out, "io_threads_active", 0);
}

fn clients(ctx: &Context, out: &mut String) {
    out.push_str("# Clients\r\n");
    field(out, "connected_clients", ctx.facts.connected_clients);
    field(out, "blocked_clients", 0);
    field(out, "tracking_clients", 0);
}

/// The replication section. The role is the core's (a replica in the
/// cluster's view is `role:slave`); the master's address comes from the
/// runtime's replication facts, else from the node table with the link down.
fn replication(ctx: &Context, out: &mut String) {
    let repl = &ctx.facts.replication;
    out.push_str("# Replication\r\n");
    if ctx.core.is_master() {
        field(out, "role", "master");
    } else {
        field(out, "role", "slave");
        replica_fields(ctx, out);
    }
    field(out, "connected_slaves", repl.replicas.len());
    for (i, (ip, port, offset)) in repl.replicas.iter().enumerate() {
        let _ = write!(
            out,
            "slave{i}:ip={ip},port={port},state=online,offset={offset},lag=0\r\n"
        );
    }
    field(out, "master_failover_state", "no-failover");
    field(out, "master_replid", &repl.master_replid);
    field(out, "master_replid2", "0".repeat(40));
    field(out, "master_repl_offset", repl.master_repl_offset);
    field(out, "second_repl_offset", -1);
}

/// The lines a replica adds after `role:slave`.
fn replica_fields(ctx: &Context, out: &mut String) {
    let repl = &ctx.facts.replication;
    let (host, port, up) = match &repl.master {
        Some((host, port, up)) => (host.clone(), *port, *up),
        None => ctx
            .core
            .master()
            .and_then(|m| ctx.core.node(&m))
            .map(|n| (n.ip.clone(), n.port, false))
            .unwrap_or_default(),
    };
    field(out, "master_host", host);
    field(out, "master_port", port);
    field(out, "master_link_status", if up { "up" } else { "down" });
    field(out, "master_last_io_seconds_ago", if up { 0 } else { -1 });
    field(out, "master_sync_in_progress", 0);
    field(out, "slave_read_repl_offset", repl.master_repl_offset);
    field(out, "slave_repl_offset", repl.master_repl_offset);
    if !up {
        field(out, "master_link_down_since_seconds", -1);
    }
    field(out, "slave_priority", 100);
    field(out, "slave_read_only", 1);
    field(out, "replica_announced", 1);
}

/// `db0:keys=N,expires=M,avg_ttl=0`, only when there are keys, as Redis.
fn keyspace(ctx: &Context, out: &mut String) {
    out.push_str("# Keyspace\r\n");
    let keys = ctx.db.len();
    if keys > 0 {
        let expires = ctx.db.volatile_len();
        let _ = write!(out, "db0:keys={keys},expires={expires},avg_ttl=0\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{Node, NOW_MS};
    use super::*;
    use crate::db::Entry;

    fn text(n: &mut Node, words: &[&str]) -> String {
        let bytes = n.bytes(words);
        let body = bytes.splitn(2, |b| *b == b'\n').nth(1).unwrap_or_default();
        String::from_utf8_lossy(&body[..body.len().saturating_sub(2)]).into_owned()
    }

    #[test]
    fn sections_are_chosen_like_redis() {
        let names = |args: &[&str]| {
            let a: Vec<Vec<u8>> = args.iter().map(|s| s.as_bytes().to_vec()).collect();
            wanted(&a)
                .into_iter()
                .map(Section::name)
                .collect::<Vec<_>>()
        };
        let default = vec![
            "server",
            "clients",
            "memory",
            "persistence",
            "stats",
            "replication",
            "cpu",
            "modules",
            "errorstats",
            "cluster",
            "keyspace",
        ];
        assert_eq!(names(&[]), default);
        assert_eq!(names(&["server", "DEFAULT"]), default);
        let all = names(&["everything"]);
        assert_eq!(all.len(), default.len() + 1);
        assert!(all.contains(&"commandstats"));
        assert_eq!(names(&["commandstats"]), vec!["commandstats"]);
        assert_eq!(names(&["CLUSTER", "server"]), vec!["server", "cluster"]);
        assert_eq!(names(&["latencystats"]), Vec::<&str>::new());
    }

    #[test]
    fn single_sections_byte_for_byte() {
        let mut n = Node::master();
        assert_eq!(
            n.bytes(&["info", "cluster"]),
            b"$30\r\n# Cluster\r\ncluster_enabled:1\r\n\r\n"
        );
        assert_eq!(n.bytes(&["info", "keyspace"]), b"$12\r\n# Keyspace\r\n\r\n");
        assert_eq!(n.bytes(&["info", "bogus"]), b"$0\r\n\r\n");
        n.set_key("a");
        let volatile = Entry {
            value: b"1".to_vec(),
            expires_at_ms: Some(NOW_MS + 100_000),
        };
        n.db.set(b"b".to_vec(), volatile);
        assert_eq!(
            n.bytes(&["info", "keyspace"]),
            b"$44\r\n# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n\r\n"
        );
        assert_eq!(
            text(&mut n, &["info", "clients", "cluster"]),
            "# Clients\r\nconnected_clients:1\r\nblocked_clients:0\r\ntracking_clients:0\r\n\
             \r\n# Cluster\r\ncluster_enabled:1\r\n"
        );
    }

    #[test]
    fn server_section_fields() {
        let mut n = Node::master();
        assert_eq!(
            text(&mut n, &["info", "server"]),
            "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\n\
             redis_mode:cluster\r\narch_bits:64\r\nprocess_id:8342\r\nprocess_supervised:no\r\n\
             run_id:b00f7bf67f065647b451ea0ad2dc131f4c8a37df\r\ntcp_port:7000\r\n\
             server_time_usec:1700000000000000\r\nuptime_in_seconds:119\r\nuptime_in_days:0\r\n\
             hz:10\r\nconfigured_hz:10\r\nconfig_file:\r\nio_threads_active:0\r\n"
        );
    }

    #[test]
    fn replication_of_a_master_with_a_replica() {
        let mut n = Node::master();
        n.facts.replication.master_replid = "ce765131515b77e38228d1cede64d02f6761cd4d".into();
        n.facts.replication.master_repl_offset = 113;
        n.facts.replication.replicas = vec![("127.0.0.1".into(), 47392, 113)];
        assert_eq!(
            text(&mut n, &["info", "replication"]),
            "# Replication\r\nrole:master\r\nconnected_slaves:1\r\n\
             slave0:ip=127.0.0.1,port=47392,state=online,offset=113,lag=0\r\n\
             master_failover_state:no-failover\r\n\
             master_replid:ce765131515b77e38228d1cede64d02f6761cd4d\r\n\
             master_replid2:0000000000000000000000000000000000000000\r\n\
             master_repl_offset:113\r\nsecond_repl_offset:-1\r\n"
        );
    }

    #[test]
    fn replication_of_a_replica() {
        let mut n = Node::replica();
        n.facts.replication.master = Some(("127.0.0.1".into(), 47391, true));
        n.facts.replication.master_repl_offset = 113;
        let up = text(&mut n, &["info", "replication"]);
        assert!(up.starts_with(
            "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:47391\r\n\
             master_link_status:up\r\nmaster_last_io_seconds_ago:0\r\nmaster_sync_in_progress:0\r\n\
             slave_read_repl_offset:113\r\nslave_repl_offset:113\r\nslave_priority:100\r\n\
             slave_read_only:1\r\nreplica_announced:1\r\nconnected_slaves:0\r\n"
        ));
        // Without replication facts: the master from the node table, link down.
        n.facts.replication.master = None;
        let down = text(&mut n, &["info", "replication"]);
        assert!(down.contains(
            "master_host:127.0.0.1\r\nmaster_port:30000\r\nmaster_link_status:down\r\n\
             master_last_io_seconds_ago:-1\r\n"
        ));
        assert!(down.contains("master_link_down_since_seconds:-1\r\nslave_priority:100\r\n"));
    }

    #[test]
    fn default_info_has_every_section_separated_by_blank_lines() {
        let mut n = Node::master();
        let all = text(&mut n, &["INFO"]);
        let headers: Vec<&str> = all.lines().filter(|l| l.starts_with('#')).collect();
        assert_eq!(
            headers,
            vec![
                "# Server",
                "# Clients",
                "# Memory",
                "# Persistence",
                "# Stats",
                "# Replication",
                "# CPU",
                "# Modules",
                "# Errorstats",
                "# Cluster",
                "# Keyspace"
            ]
        );
        assert!(all.contains("io_threads_active:0\r\n\r\n# Clients\r\n"));
        assert!(all.ends_with("cluster_enabled:1\r\n\r\n# Keyspace\r\n"));
        assert_eq!(text(&mut n, &["info", "default"]), all);
        let everything = text(&mut n, &["info", "all"]);
        assert_eq!(
            everything.replace("# Commandstats\r\n\r\n", ""),
            all,
            "all = default + commandstats"
        );
    }
}
