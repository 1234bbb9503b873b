//! What INFO reports about the process, measured by the runtime: resident
//! memory and CPU time from /proc, the commands run (per command, with the
//! time spent), and the operations per second (`trackInstantaneousMetric`).

use std::collections::BTreeMap;

use crate::commands::info_process::ProcessFacts;

/// Samples the ops/sec figure averages over (`STATS_METRIC_SAMPLES`).
const STATS_METRIC_SAMPLES: usize = 16;
/// Clock ticks per second of /proc/<pid>/stat (`USER_HZ`, 100 on Linux).
const USER_HZ: u64 = 100;

/// `VmRSS` of /proc/self/status, bytes.
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// User and system CPU time of this process (utime, stime of
/// /proc/self/stat), microseconds.
pub fn cpu_us() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces; fields after it start at `state`.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    let to_us = |t: u64| t * 1_000_000 / USER_HZ;
    Some((to_us(ticks(11)?), to_us(ticks(12)?)))
}

/// Commands run, per command, and the ops/sec meter.
#[derive(Debug, Default)]
pub struct CommandCounters {
    /// Requests run (`total_commands_processed`).
    pub total: u64,
    per_command: BTreeMap<(&'static str, Option<&'static str>), (u64, u64)>,
    samples: [u64; STATS_METRIC_SAMPLES],
    next_sample: usize,
    last_sample: Option<(u64, u64)>,
}

impl CommandCounters {
    /// One request of `name` (None: unknown command) took `usec`.
    pub fn count(&mut self, name: Option<(&'static str, Option<&'static str>)>, usec: u64) {
        self.total += 1;
        if let Some(name) = name {
            let e = self.per_command.entry(name).or_default();
            e.0 += 1;
            e.1 += usec;
        }
    }

    /// Takes a sample at `now_ms` (every cron tick): the rate since the
    /// last sample, in operations per second.
    pub fn sample(&mut self, now_ms: u64) {
        if let Some((at, total)) = self.last_sample {
            let dt = now_ms.saturating_sub(at);
            let rate = ((self.total - total) * 1000).checked_div(dt).unwrap_or(0);
            self.samples[self.next_sample] = rate;
            self.next_sample = (self.next_sample + 1) % STATS_METRIC_SAMPLES;
        }
        self.last_sample = Some((now_ms, self.total));
    }

    /// The mean of the samples (`getInstantaneousMetric`).
    pub fn ops_per_sec(&self) -> u64 {
        self.samples.iter().sum::<u64>() / STATS_METRIC_SAMPLES as u64
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&mut self) {
        *self = CommandCounters::default();
    }

    /// The facts INFO shows, with `connections` accepted so far; /proc is
    /// read when `read_proc`.
    pub fn facts(&self, connections: u64, read_proc: bool) -> ProcessFacts {
        let (cpu_user_us, cpu_sys_us) = if read_proc {
            cpu_us().unwrap_or_default()
        } else {
            (0, 0)
        };
        ProcessFacts {
            connections_received: connections,
            commands_processed: self.total,
            ops_per_sec: self.ops_per_sec(),
            rss_bytes: if read_proc { rss_bytes() } else { None },
            cpu_user_us,
            cpu_sys_us,
            commands: self
                .per_command
                .iter()
                .map(|((top, sub), (calls, usec))| {
                    let name = match sub {
                        Some(sub) => format!("{top}|{sub}"),
                        None => top.to_string(),
                    };
                    (name, *calls, *usec)
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_command_and_rates_over_samples() {
        let mut c = CommandCounters::default();
        c.sample(0);
        for _ in 0..10 {
            c.count(Some(("get", None)), 3);
        }
        c.count(Some(("client", Some("list"))), 7);
        c.count(None, 1);
        c.sample(100); // 12 requests in 100 ms: 120/s in one sample of 16
        let f = c.facts(2, false);
        assert_eq!((f.commands_processed, f.ops_per_sec), (12, 120 / 16));
        assert_eq!(
            f.commands,
            vec![
                ("client|list".to_string(), 1, 7),
                ("get".to_string(), 10, 30)
            ]
        );
        c.reset();
        assert_eq!(c.facts(0, false).commands_processed, 0);
    }

    #[test]
    fn proc_readings_are_there_on_linux() {
        assert!(rss_bytes().is_some_and(|b| b > 0));
        assert!(cpu_us().is_some());
    }
}
