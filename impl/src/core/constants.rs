//! Redis 7.0 cluster constants, with Redis's names and units.

/// Milliseconds between two runs of `clusterCron`.
pub const CLUSTER_CRON_PERIOD_MS: u64 = 100;
/// Every this many cron ticks, ping the oldest-pong node of a random sample.
pub const CLUSTER_CRON_SAMPLE_EVERY_TICKS: u64 = 10;
/// How many nodes `clusterCron` samples when looking for the oldest pong.
pub const CLUSTER_CRON_PING_SAMPLE: usize = 5;
/// Failure reports are valid for this many node timeouts (`CLUSTER_FAIL_REPORT_VALIDITY_MULT`).
pub const CLUSTER_FAIL_REPORT_VALIDITY_MULT: u64 = 2;
/// A FAIL on a master with slots is undone after this many node timeouts (`CLUSTER_FAIL_UNDO_TIME_MULT`).
pub const CLUSTER_FAIL_UNDO_TIME_MULT: u64 = 2;
/// Milliseconds a manual failover may take (`CLUSTER_MF_TIMEOUT`).
pub const CLUSTER_MF_TIMEOUT_MS: u64 = 5000;
/// Minimum handshake lifetime in milliseconds (the floor in `clusterCron`).
pub const CLUSTER_HANDSHAKE_TIMEOUT_MIN_MS: u64 = 1000;
/// Fixed part of the election delay (`clusterHandleSlaveFailover`).
pub const ELECTION_FIXED_DELAY_MS: u64 = 500;
/// Upper bound (exclusive) of the random part of the election delay.
pub const ELECTION_JITTER_MAX_MS: u64 = 500;
/// Extra election delay per rank.
pub const ELECTION_RANK_DELAY_MS: u64 = 1000;
/// Floor of the failover auth timeout (`clusterHandleSlaveFailover`).
pub const FAILOVER_AUTH_TIMEOUT_MIN_MS: u64 = 2000;
/// Redis's default `repl-ping-replica-period`, in milliseconds, used by the
/// replica validity check.
pub const REPL_PING_REPLICA_PERIOD_MS: u64 = 10_000;
/// Minimum number of gossip entries per PING (`clusterSendPing`).
pub const GOSSIP_MIN_ENTRIES: usize = 3;
/// One gossip entry per this many known nodes (`clusterSendPing`).
pub const GOSSIP_NODES_PER_ENTRY: usize = 10;
/// Number of hash slots.
pub const CLUSTER_SLOTS: usize = crate::codec::CLUSTER_SLOTS;
