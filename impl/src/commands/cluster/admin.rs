//! The CLUSTER subcommands that change who is in the cluster and in which
//! role: MEET, REPLICATE, FAILOVER, SET-CONFIG-EPOCH, BUMPEPOCH, FORGET,
//! RESET, and the read-only COUNT-FAILURE-REPORTS the core answers. Each
//! checks its arguments as the matching branch of `clusterCommand` does and
//! hands a [`ClusterCommand`] to the core; the checks that need the data
//! set (which the core does not hold) are made here.

use std::net::IpAddr;

use crate::commands::{Context, Outcome};
use crate::config::CLUSTER_PORT_INCR;
use crate::core::{random_name, ClusterCommand, FailoverMode};
use crate::resp::{string2ll, Frame};

use super::{args, to_core};

/// `CLUSTER MEET <ip> <port> [<bus-port>]`: start a handshake with a node
/// (the bus port defaults to port + 10000). The address is normalised as
/// `inet_ntop` prints it. Mirrors the `meet` branch of `clusterCommand` and
/// the address checks of `clusterStartHandshake`.
pub(super) fn meet(ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    if args.len() > 4 {
        return Outcome::Reply(args::subcommand_syntax_error(&args[0]));
    }
    to_core(parse_meet(ctx.entropy, args))
}

fn parse_meet(entropy: u64, args: &[Vec<u8>]) -> Result<ClusterCommand, Frame> {
    let port = string2ll(&args[2]).ok_or_else(|| {
        let port = args::text(&args[2]);
        Frame::error(format!("ERR Invalid TCP base port specified: {port}"))
    })?;
    let cport = match args.get(3) {
        Some(c) => string2ll(c).ok_or_else(|| {
            let cport = args::text(c);
            Frame::error(format!("ERR Invalid TCP bus port specified: {cport}"))
        })?,
        None => port.saturating_add(CLUSTER_PORT_INCR.into()),
    };
    let invalid = || {
        let (ip, port) = (args::text(&args[1]), args::text(&args[2]));
        Frame::error(format!("ERR Invalid node address specified: {ip}:{port}"))
    };
    let ip: IpAddr = std::str::from_utf8(&args[1])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(invalid)?;
    let (Some(port), Some(cport)) = (tcp_port(port), tcp_port(cport)) else {
        return Err(invalid());
    };
    Ok(ClusterCommand::Meet {
        ip: ip.to_string(),
        port,
        cport,
        handshake_id: random_name(entropy),
    })
}

/// A port in 1..=65535, the range `clusterStartHandshake` accepts.
fn tcp_port(p: i64) -> Option<u16> {
    u16::try_from(p).ok().filter(|p| *p != 0)
}

/// `CLUSTER REPLICATE <id>`: become a replica of a master. A master holding
/// keys is refused here (the core does not see the data set), after the
/// checks that come first in Redis. Mirrors the `replicate` branch of
/// `clusterCommand`.
pub(super) fn replicate(ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    let core = ctx.core;
    let target = match args::known_node_id(&args[1], |id| core.node(id).is_some()) {
        Ok(id) => id,
        Err(e) => return Outcome::Reply(e),
    };
    let target_is_master = core.node(&target).is_some_and(|n| !n.is_replica());
    let holds_keys = core.is_master() && !ctx.db.is_empty();
    if holds_keys && target != core.id() && target_is_master {
        return Outcome::Reply(Frame::error(
            "ERR To set a master the node must be empty and without assigned slots.",
        ));
    }
    Outcome::Cluster(ClusterCommand::Replicate(target))
}

/// `CLUSTER FAILOVER [FORCE|TAKEOVER]` on a replica. Mirrors the `failover`
/// branch of `clusterCommand`.
pub(super) fn failover(_ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    let mode = match args.get(1) {
        None => FailoverMode::Default,
        Some(_) if args.len() > 2 => {
            return Outcome::Reply(args::subcommand_syntax_error(&args[0]))
        }
        Some(m) if m.eq_ignore_ascii_case(b"force") => FailoverMode::Force,
        Some(m) if m.eq_ignore_ascii_case(b"takeover") => FailoverMode::Takeover,
        Some(_) => return Outcome::Reply(args::syntax_error()),
    };
    Outcome::Cluster(ClusterCommand::Failover { mode })
}

/// `CLUSTER SET-CONFIG-EPOCH <epoch>` on a fresh node. Mirrors the
/// `set-config-epoch` branch of `clusterCommand`.
pub(super) fn set_config_epoch(_ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    let epoch = args::integer(&args[1]).and_then(|e| {
        u64::try_from(e)
            .map_err(|_| Frame::error(format!("ERR Invalid config epoch specified: {e}")))
    });
    to_core(epoch.map(ClusterCommand::SetConfigEpoch))
}

/// CLUSTER BUMPEPOCH. Mirrors the `bumpepoch` branch of `clusterCommand`.
pub(super) fn bumpepoch(_ctx: &mut Context, _args: &[Vec<u8>]) -> Outcome {
    Outcome::Cluster(ClusterCommand::BumpEpoch)
}

/// `CLUSTER FORGET <id>`. A malformed id names no node; the core checks the
/// rest. Mirrors the `forget` branch of `clusterCommand`.
pub(super) fn forget(_ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    to_core(args::known_node_id(&args[1], |_| true).map(ClusterCommand::Forget))
}

/// `CLUSTER COUNT-FAILURE-REPORTS <id>`. Mirrors the
/// `count-failure-reports` branch of `clusterCommand`.
pub(super) fn count_failure_reports(_ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    let id = args::known_node_id(&args[1], |_| true);
    to_core(id.map(ClusterCommand::CountFailureReports))
}

/// `CLUSTER RESET [HARD|SOFT]` (soft by default). A master holding keys is
/// refused; a replica drops its data set, as `clusterReset` empties the
/// data of a replica it turns into a master. A hard reset takes a new id
/// drawn from the entropy. Mirrors the `reset` branch of `clusterCommand`.
pub(super) fn reset(ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    let hard = match args.get(1) {
        None => false,
        Some(_) if args.len() > 2 => {
            return Outcome::Reply(args::subcommand_syntax_error(&args[0]))
        }
        Some(m) if m.eq_ignore_ascii_case(b"hard") => true,
        Some(m) if m.eq_ignore_ascii_case(b"soft") => false,
        Some(_) => return Outcome::Reply(args::syntax_error()),
    };
    if ctx.core.is_master() && !ctx.db.is_empty() {
        return Outcome::Reply(Frame::error(
            "ERR CLUSTER RESET can't be called with master nodes containing keys",
        ));
    }
    if !ctx.core.is_master() {
        ctx.db.clear();
    }
    Outcome::Cluster(ClusterCommand::Reset {
        hard,
        new_id: random_name(ctx.entropy),
    })
}

/// CLUSTER SAVECONFIG: `OK`. The runtime writes nodes.conf whenever the
/// core reports a change (`Effect::Persist`), so nothing is left unsaved.
pub(super) fn saveconfig(_ctx: &mut Context, _args: &[Vec<u8>]) -> Outcome {
    Outcome::Reply(Frame::ok())
}

/// CLUSTER LINKS: not supported yet (the core does not keep the per-link
/// send buffers and inbound link ages Redis reports).
pub(super) fn links(_ctx: &mut Context, _args: &[Vec<u8>]) -> Outcome {
    Outcome::Reply(Frame::error(
        "ERR CLUSTER LINKS is not supported by this node yet",
    ))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::Fixture;
    use crate::commands::Outcome;
    use crate::core::tests::met_pair;
    use crate::core::{random_name, ClusterCommand, FailoverMode};
    use crate::resp::Frame;

    fn err(text: &str) -> Frame {
        Frame::error(text)
    }

    #[test]
    fn meet_parses_ports_and_defaults_the_bus_port() {
        let mut t = Fixture::new();
        let meet = |ip: &str, port, cport| {
            Outcome::Cluster(ClusterCommand::Meet {
                ip: ip.into(),
                port,
                cport,
                handshake_id: random_name(42),
            })
        };
        assert_eq!(
            t.run(&["MEET", "10.0.0.2", "7001"]),
            meet("10.0.0.2", 7001, 17001)
        );
        assert_eq!(
            t.run(&["meet", "10.0.0.2", "7001", "9"]),
            meet("10.0.0.2", 7001, 9)
        );
        assert_eq!(t.run(&["MEET", "0:0::1", "1", "2"]), meet("::1", 1, 2));
    }

    #[test]
    fn meet_errors_match_redis() {
        let mut t = Fixture::new();
        let cases = [
            (
                &["MEET", "1.2.3.4", "x"][..],
                "ERR Invalid TCP base port specified: x",
            ),
            (
                &["MEET", "1.2.3.4", "1", "x"],
                "ERR Invalid TCP bus port specified: x",
            ),
            (
                &["MEET", "foo", "1"],
                "ERR Invalid node address specified: foo:1",
            ),
            (
                &["MEET", "01.2.3.4", "1"],
                "ERR Invalid node address specified: 01.2.3.4:1",
            ),
            (
                &["MEET", "1.2.3.4", "0"],
                "ERR Invalid node address specified: 1.2.3.4:0",
            ),
            (
                &["MEET", "1.2.3.4", "-1"],
                "ERR Invalid node address specified: 1.2.3.4:-1",
            ),
            (
                &["MEET", "1.2.3.4", "70000"],
                "ERR Invalid node address specified: 1.2.3.4:70000",
            ),
            (
                &["MEET", "1.2.3.4", "60000"],
                "ERR Invalid node address specified: 1.2.3.4:60000",
            ),
            (
                &["MEET", "1.2.3.4", "1", "0"],
                "ERR Invalid node address specified: 1.2.3.4:1",
            ),
            (
                &["MEET", "1.2.3.4", "1", "2", "3"],
                "ERR unknown subcommand or wrong number of arguments for 'MEET'. Try CLUSTER HELP.",
            ),
        ];
        for (words, text) in cases {
            assert_eq!(t.reply(words), err(text), "{words:?}");
        }
    }

    #[test]
    fn failover_and_reset_options() {
        let mut t = Fixture::new();
        let failover = |mode| Outcome::Cluster(ClusterCommand::Failover { mode });
        assert_eq!(t.run(&["FAILOVER"]), failover(FailoverMode::Default));
        assert_eq!(t.run(&["failover", "Force"]), failover(FailoverMode::Force));
        assert_eq!(
            t.run(&["FAILOVER", "TAKEOVER"]),
            failover(FailoverMode::Takeover)
        );
        assert_eq!(t.reply(&["FAILOVER", "x"]), err("ERR syntax error"));
        assert_eq!(
            t.reply(&["failover", "a", "b"]),
            err("ERR unknown subcommand or wrong number of arguments for 'failover'. Try CLUSTER HELP.")
        );
        assert_eq!(
            t.reply(&["FAILOVER"]),
            err("ERR You should send CLUSTER FAILOVER to a replica")
        );
        let reset = |hard| {
            Outcome::Cluster(ClusterCommand::Reset {
                hard,
                new_id: random_name(42),
            })
        };
        assert_eq!(t.run(&["RESET"]), reset(false));
        assert_eq!(t.run(&["RESET", "soft"]), reset(false));
        assert_eq!(t.run(&["RESET", "HARD"]), reset(true));
        assert_eq!(t.reply(&["RESET", "x"]), err("ERR syntax error"));
        assert_eq!(
            t.reply(&["reset", "a", "b"]),
            err("ERR unknown subcommand or wrong number of arguments for 'reset'. Try CLUSTER HELP.")
        );
    }

    #[test]
    fn reset_refuses_a_master_with_keys_and_empties_a_replica() {
        let mut t = Fixture::new();
        t.set_key("foo");
        assert_eq!(
            t.reply(&["RESET", "HARD"]),
            err("ERR CLUSTER RESET can't be called with master nodes containing keys")
        );
        let (_a, b) = met_pair(15_000);
        let mut t = Fixture::with_core(b);
        assert_eq!(t.reply(&["REPLICATE", &"a".repeat(40)]), Frame::ok());
        t.set_key("foo");
        assert_eq!(t.reply(&["RESET", "HARD"]), Frame::ok());
        assert!(t.db.is_empty());
        assert_eq!(t.core.id(), random_name(42));
        assert!(t.core.is_master());
    }

    #[test]
    fn replicate_checks_ids_then_keys() {
        let (_a, b) = met_pair(15_000);
        let mut t = Fixture::with_core(b);
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        assert_eq!(t.reply(&["REPLICATE", "abc"]), err("ERR Unknown node abc"));
        assert_eq!(
            t.reply(&["REPLICATE", &"A".repeat(40)]),
            err(&format!("ERR Unknown node {}", "A".repeat(40)))
        );
        t.set_key("foo");
        assert_eq!(
            t.reply(&["REPLICATE", &b]),
            err("ERR Can't replicate myself")
        );
        assert_eq!(
            t.reply(&["REPLICATE", &a]),
            err("ERR To set a master the node must be empty and without assigned slots.")
        );
        t.db.clear();
        assert_eq!(t.reply(&["REPLICATE", &a]), Frame::ok());
        assert_eq!(t.core.master(), Some([b'a'; 40]));
    }

    #[test]
    fn epochs_forget_and_failure_reports() {
        let mut t = Fixture::new();
        let not_int = err("ERR value is not an integer or out of range");
        assert_eq!(t.reply(&["SET-CONFIG-EPOCH", "x"]), not_int);
        assert_eq!(
            t.reply(&["SET-CONFIG-EPOCH", "-1"]),
            err("ERR Invalid config epoch specified: -1")
        );
        assert_eq!(t.reply(&["SET-CONFIG-EPOCH", "5"]), Frame::ok());
        assert_eq!(t.reply(&["BUMPEPOCH"]), Frame::Simple("STILL 5".into()));
        let me = "a".repeat(40);
        assert_eq!(t.reply(&["FORGET", "abc"]), err("ERR Unknown node abc"));
        assert_eq!(
            t.reply(&["FORGET", &me]),
            err("ERR I tried hard but I can't forget myself...")
        );
        assert_eq!(t.reply(&["COUNT-FAILURE-REPORTS", &me]), Frame::Integer(0));
        assert_eq!(
            t.reply(&["COUNT-FAILURE-REPORTS", "x"]),
            err("ERR Unknown node x")
        );
        assert_eq!(t.reply(&["SAVECONFIG"]), Frame::ok());
    }
}
