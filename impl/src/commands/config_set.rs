//! CONFIG SET parameter value [parameter value ...]: validates every pair
//! first and changes nothing unless all are good, as `configSetCommand`
//! does; the runtime then applies the [`ConfigChange`]s (the node timeout
//! and the other cluster settings at once, in the core).
//!
//! Settable here: `cluster-node-timeout`, `cluster-require-full-coverage`,
//! `cluster-replica-validity-factor` (and its old name
//! `cluster-slave-validity-factor`). Parameters Redis can change but this
//! node cannot (`port`, `bind`, `dir`, `requirepass`, the announced
//! address, ...) are refused with an error that says so.

use super::server::syntax_error;
use super::Outcome;
use crate::core::CoreConfig;
use crate::resp::{string2ll, Frame};

/// One validated setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigChange {
    /// `cluster-node-timeout`, ms.
    NodeTimeoutMs(u64),
    /// `cluster-require-full-coverage`.
    RequireFullCoverage(bool),
    /// `cluster-replica-validity-factor`.
    ReplicaValidityFactor(u64),
}

impl ConfigChange {
    /// Applies this change to the core's settings.
    pub fn apply(&self, cfg: &mut CoreConfig) {
        match *self {
            ConfigChange::NodeTimeoutMs(ms) => cfg.node_timeout_ms = ms,
            ConfigChange::RequireFullCoverage(yes) => cfg.require_full_coverage = yes,
            ConfigChange::ReplicaValidityFactor(f) => cfg.replica_validity_factor = f,
        }
    }
}

/// What CONFIG SET knows about a parameter.
enum Param {
    Settable(fn(&[u8]) -> Result<ConfigChange, &'static str>),
    /// Redis cannot change it either (`IMMUTABLE_CONFIG`).
    Immutable,
    /// Redis can change it at run time; this node cannot.
    Unsupported,
}

fn param(name: &[u8]) -> Option<Param> {
    let p = match name.to_ascii_lowercase().as_slice() {
        b"cluster-node-timeout" => {
            Param::Settable(|v| nonneg(v, i64::MAX).map(|n| ConfigChange::NodeTimeoutMs(n as u64)))
        }
        b"cluster-require-full-coverage" => {
            Param::Settable(|v| yes_no(v).map(ConfigChange::RequireFullCoverage))
        }
        b"cluster-replica-validity-factor" | b"cluster-slave-validity-factor" => {
            Param::Settable(|v| {
                nonneg(v, i64::from(i32::MAX))
                    .map(|n| ConfigChange::ReplicaValidityFactor(n as u64))
            })
        }
        b"cluster-enabled" | b"cluster-config-file" | b"cluster-port" => Param::Immutable,
        b"port"
        | b"requirepass"
        | b"bind"
        | b"dir"
        | b"appendonly"
        | b"save"
        | b"cluster-announce-ip"
        | b"cluster-announce-port"
        | b"cluster-announce-bus-port"
        | b"cluster-allow-reads-when-down"
        | b"cluster-replica-no-failover"
        | b"cluster-slave-no-failover" => Param::Unsupported,
        _ => return None,
    };
    Some(p)
}

/// An integer in `0..=max` (`numericConfigSet` for a long long config).
fn nonneg(v: &[u8], max: i64) -> Result<i64, &'static str> {
    let n = string2ll(v).ok_or("argument couldn't be parsed into an integer")?;
    if n < 0 || n > max {
        return Err(if max == i64::MAX {
            "argument must be between 0 and 9223372036854775807 inclusive"
        } else {
            "argument must be between 0 and 2147483647 inclusive"
        });
    }
    Ok(n)
}

fn yes_no(v: &[u8]) -> Result<bool, &'static str> {
    match v.to_ascii_lowercase().as_slice() {
        b"yes" => Ok(true),
        b"no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'"),
    }
}

fn failed(name: &[u8], why: &str) -> Frame {
    Frame::error(format!(
        "ERR CONFIG SET failed (possibly related to argument '{}') - {why}",
        String::from_utf8_lossy(name)
    ))
}

/// CONFIG SET over `pairs` (the words after `CONFIG SET`).
pub fn config_set(pairs: &[Vec<u8>]) -> Outcome {
    if pairs.len() % 2 == 1 {
        return Outcome::Reply(syntax_error());
    }
    let mut found = Vec::new();
    for pair in pairs.chunks(2) {
        match param(&pair[0]) {
            Some(p) => found.push((&pair[0], &pair[1], p)),
            None => {
                return Outcome::Reply(Frame::error(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                    String::from_utf8_lossy(&pair[0])
                )))
            }
        }
    }
    let mut changes = Vec::new();
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for (name, value, p) in found {
        let lower = name.to_ascii_lowercase();
        let canonical = if lower == b"cluster-slave-validity-factor" {
            b"cluster-replica-validity-factor".to_vec()
        } else {
            lower
        };
        match p {
            Param::Immutable => return Outcome::Reply(failed(name, "can't set immutable config")),
            Param::Unsupported => {
                return Outcome::Reply(failed(name, "not supported by clusterbus-node"))
            }
            Param::Settable(_) if seen.contains(&canonical) => {
                return Outcome::Reply(failed(name, "duplicate parameter"))
            }
            Param::Settable(parse) => match parse(value) {
                Ok(change) => changes.push(change),
                Err(why) => return Outcome::Reply(failed(name, why)),
            },
        }
        seen.push(canonical);
    }
    Outcome::Config(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(words: &[&str]) -> Outcome {
        let args: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        config_set(&args)
    }

    fn err(words: &[&str]) -> String {
        match set(words) {
            Outcome::Reply(Frame::Error(e)) => e,
            other => panic!("{words:?}: {other:?}"),
        }
    }

    #[test]
    fn every_pair_is_checked_before_anything_changes() {
        assert_eq!(
            set(&[
                "cluster-node-timeout",
                "5000",
                "CLUSTER-REQUIRE-FULL-COVERAGE",
                "no"
            ]),
            Outcome::Config(vec![
                ConfigChange::NodeTimeoutMs(5000),
                ConfigChange::RequireFullCoverage(false)
            ])
        );
        assert_eq!(
            err(&["cluster-node-timeout", "x"]),
            "ERR CONFIG SET failed (possibly related to argument 'cluster-node-timeout') - \
             argument couldn't be parsed into an integer"
        );
        assert_eq!(
            err(&["cluster-node-timeout", "5", "nosuch", "1"]),
            "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"
        );
        assert_eq!(
            err(&["cluster-config-file", "x"]),
            "ERR CONFIG SET failed (possibly related to argument 'cluster-config-file') - \
             can't set immutable config"
        );
        assert_eq!(
            err(&[
                "cluster-replica-validity-factor",
                "1",
                "cluster-slave-validity-factor",
                "2"
            ]),
            "ERR CONFIG SET failed (possibly related to argument 'cluster-slave-validity-factor') \
             - duplicate parameter"
        );
        assert_eq!(err(&["a", "b", "c"]), "ERR syntax error");
        assert_eq!(
            err(&["cluster-require-full-coverage", "maybe"]),
            "ERR CONFIG SET failed (possibly related to argument \
             'cluster-require-full-coverage') - argument must be 'yes' or 'no'"
        );
        assert!(err(&["port", "1"]).ends_with("not supported by clusterbus-node"));
    }
}
