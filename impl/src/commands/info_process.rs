//! The INFO sections about the process rather than the cluster: memory,
//! persistence, stats, CPU, modules, errorstats and commandstats, in the
//! format of Redis 7.0's `genRedisInfoString`. The values are the node's
//! own: the resident set size and CPU times the runtime read from /proc,
//! the counters it keeps, and the state of its dump.rdb. A field Redis has
//! and this node cannot fill (allocator statistics, copy-on-write sizes,
//! AOF state, keyspace hits) is left out, never invented.

use std::fmt::Write;

use super::Context;

/// Counters and process readings, as the runtime reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessFacts {
    /// `total_connections_received`.
    pub connections_received: u64,
    /// `total_commands_processed`.
    pub commands_processed: u64,
    /// `instantaneous_ops_per_sec`.
    pub ops_per_sec: u64,
    /// `used_memory_rss`, bytes (None: /proc not readable).
    pub rss_bytes: Option<u64>,
    /// `used_cpu_user` / `used_cpu_sys`, microseconds.
    pub cpu_user_us: u64,
    pub cpu_sys_us: u64,
    /// Per command (full name): calls and microseconds spent.
    pub commands: Vec<(String, u64, u64)>,
}

fn field(out: &mut String, name: &str, value: impl std::fmt::Display) {
    let _ = write!(out, "{name}:{value}\r\n");
}

/// `bytesToHuman`: 1023B, 1.00K, 7.33M, 2.00G.
pub fn bytes_to_human(n: u64) -> String {
    let n = n as f64;
    const K: f64 = 1024.0;
    if n < K {
        format!("{n}B")
    } else if n < K * K {
        format!("{:.2}K", n / K)
    } else if n < K * K * K {
        format!("{:.2}M", n / (K * K))
    } else {
        format!("{:.2}G", n / (K * K * K))
    }
}

/// `# Memory`.
pub fn memory(ctx: &Context, out: &mut String) {
    out.push_str("# Memory\r\n");
    if let Some(rss) = ctx.facts.process.rss_bytes {
        field(out, "used_memory_rss", rss);
        field(out, "used_memory_rss_human", bytes_to_human(rss));
    }
    field(out, "maxmemory", 0);
    field(out, "maxmemory_human", "0B");
    field(out, "maxmemory_policy", "noeviction");
    field(out, "mem_allocator", "libc");
}

/// `# Persistence`: dump.rdb (loaded before the ports open, so never
/// `loading`); there is no AOF.
pub fn persistence(ctx: &Context, out: &mut String) {
    let p = &ctx.facts.persistence;
    out.push_str("# Persistence\r\n");
    field(out, "loading", 0);
    field(out, "async_loading", 0);
    field(
        out,
        "rdb_changes_since_last_save",
        p.changes_since_last_save,
    );
    field(out, "rdb_bgsave_in_progress", p.bgsave_in_progress as u8);
    field(out, "rdb_last_save_time", p.last_save_s);
    let status = if p.last_bgsave_ok { "ok" } else { "err" };
    field(out, "rdb_last_bgsave_status", status);
    field(out, "rdb_last_bgsave_time_sec", p.last_bgsave_time_s);
    field(out, "rdb_current_bgsave_time_sec", p.current_bgsave_time_s);
    field(out, "rdb_saves", p.saves);
    field(out, "rdb_last_load_keys_loaded", p.loaded_keys);
    field(out, "aof_enabled", 0);
    field(out, "aof_rewrite_in_progress", 0);
}

/// `# Stats`.
pub fn stats(ctx: &Context, out: &mut String) {
    let p = &ctx.facts.process;
    out.push_str("# Stats\r\n");
    field(out, "total_connections_received", p.connections_received);
    field(out, "total_commands_processed", p.commands_processed);
    field(out, "instantaneous_ops_per_sec", p.ops_per_sec);
    field(out, "rejected_connections", 0);
}

/// `# CPU`: seconds with six decimals, as `%ld.%06ld`.
pub fn cpu(ctx: &Context, out: &mut String) {
    let p = &ctx.facts.process;
    let secs = |us: u64| format!("{}.{:06}", us / 1_000_000, us % 1_000_000);
    out.push_str("# CPU\r\n");
    field(out, "used_cpu_sys", secs(p.cpu_sys_us));
    field(out, "used_cpu_user", secs(p.cpu_user_us));
    field(out, "used_cpu_sys_children", "0.000000");
    field(out, "used_cpu_user_children", "0.000000");
}

/// `# Commandstats`: one line per command called since the start (or the
/// last CONFIG RESETSTAT).
pub fn commandstats(ctx: &Context, out: &mut String) {
    out.push_str("# Commandstats\r\n");
    for (name, calls, usec) in &ctx.facts.process.commands {
        let per_call = if *calls == 0 {
            0.0
        } else {
            *usec as f64 / *calls as f64
        };
        let _ = write!(
            out,
            "cmdstat_{name}:calls={calls},usec={usec},usec_per_call={per_call:.2},\
             rejected_calls=0,failed_calls=0\r\n"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::Node;
    use super::*;

    #[test]
    fn human_sizes_as_redis_prints_them() {
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(7_684_096), "7.33M");
        assert_eq!(bytes_to_human(2048), "2.00K");
    }

    #[test]
    fn process_sections_show_the_runtimes_counters() {
        let mut n = Node::master();
        n.facts.process = ProcessFacts {
            connections_received: 3,
            commands_processed: 17,
            ops_per_sec: 5,
            rss_bytes: Some(7_684_096),
            cpu_user_us: 2_023_789,
            cpu_sys_us: 1_500,
            commands: vec![("get".into(), 4, 10)],
        };
        let text =
            |n: &mut Node, s: &str| String::from_utf8_lossy(&n.bytes(&["info", s])).into_owned();
        assert!(text(&mut n, "stats").contains(
            "# Stats\r\ntotal_connections_received:3\r\ntotal_commands_processed:17\r\n\
             instantaneous_ops_per_sec:5\r\n"
        ));
        assert!(text(&mut n, "memory")
            .contains("used_memory_rss:7684096\r\nused_memory_rss_human:7.33M\r\n"));
        assert!(text(&mut n, "cpu").contains("used_cpu_sys:0.001500\r\nused_cpu_user:2.023789\r\n"));
        assert!(text(&mut n, "commandstats").contains(
            "cmdstat_get:calls=4,usec=10,usec_per_call=2.50,rejected_calls=0,failed_calls=0\r\n"
        ));
    }
}
