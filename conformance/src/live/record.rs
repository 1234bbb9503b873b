//! `clusterbus live record`: run one scenario on a real cluster and write
//! what the tap observed.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::procs::Kind;
use super::scenarios::{Setup, NAMES};
use super::{milestones, output};

/// `clusterbus live ...`.
#[derive(Subcommand)]
pub enum LiveCommand {
    /// Run a scenario on real processes behind the tap; write the observed trace.
    Record(RecordArgs),
    /// Validate an observed trace against the model (exit 0 validated,
    /// 1 an observation no model path explains, 3 outside the model, 4 undecided).
    Validate(super::check::ValidateArgs),
    /// Record a scenario, then validate its trace.
    Check(super::check::CheckArgs),
    /// Random fault schedules, each recorded and validated; totals at the end.
    Soak(super::check::SoakArgs),
    /// Measure what the tap costs: throughput, added latency, failover time.
    Cost {
        /// Failover trials with and without the tap.
        #[arg(long, default_value_t = 5)]
        trials: usize,
        /// cluster-node-timeout for the failover trials, ms.
        #[arg(long, default_value_t = 1000)]
        node_timeout: u64,
    },
}

/// Options of `live record`.
#[derive(Args)]
pub struct RecordArgs {
    /// redis-server (Debian's 7.0, unmodified) or clusterbus-node.
    #[arg(long)]
    pub server: String,
    /// One of: form-3, create-3m3r, failover-3m1r, rejoin, contested-3m2r,
    /// pause, partition, manual-failover, lost-votes, collision, random.
    #[arg(long)]
    pub scenario: String,
    /// Where the trace goes (JSON lines); FILE.svg and FILE.html beside it,
    /// the nodes' directories and logs in FILE.nodes/.
    #[arg(long)]
    pub out: PathBuf,
    /// cluster-node-timeout of every node, ms.
    #[arg(long, default_value_t = 1000)]
    pub node_timeout: u64,
    /// Seed of the `random` scenario's schedule.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Masters of the `random` scenario.
    #[arg(long, default_value_t = 3)]
    pub masters: usize,
    /// Replicas of the `random` scenario (of the first masters, one each).
    #[arg(long, default_value_t = 1)]
    pub replicas: usize,
}

/// Runs the command; its exit code (`record`: 1 when the scenario did not
/// reach its end or a milestone is missing from the frames).
pub fn run(cmd: &LiveCommand) -> Result<u8, String> {
    let a = match cmd {
        LiveCommand::Record(a) => a,
        LiveCommand::Validate(a) => return super::check::validate_file(a),
        LiveCommand::Check(a) => return super::check::check(a),
        LiveCommand::Soak(a) => return super::check::soak(a),
        LiveCommand::Cost {
            trials,
            node_timeout,
        } => return cost(*trials, *node_timeout).map(|_| 0),
    };
    record(a).map(|ok| u8::from(!ok))
}

/// Records one scenario to `a.out`; whether it reached its end with every
/// milestone seen.
pub fn record(a: &RecordArgs) -> Result<bool, String> {
    let kind = Kind::parse(&a.server).map_err(|e| e.to_string())?;
    if !NAMES.contains(&a.scenario.as_str()) {
        return Err(format!(
            "unknown scenario {:?}; known: {}",
            a.scenario,
            NAMES.join(", ")
        ));
    }
    let mut dir = a.out.clone().into_os_string();
    dir.push(".nodes");
    let dir = PathBuf::from(dir);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let setup = Setup {
        seed: a.seed,
        masters: a.masters,
        replicas: a.replicas,
    };
    let o =
        super::run(kind, &a.scenario, a.node_timeout, setup, &dir).map_err(|e| e.to_string())?;
    output::write(&o, &a.out).map_err(|e| e.to_string())?;
    print!("{}", output::summary(&o));
    println!(
        "trace: {} (diagram: .svg, .html; node logs: {})",
        a.out.display(),
        dir.display()
    );
    Ok(o.error.is_none() && milestones::all_seen(&o.milestones))
}

fn cost(trials: usize, node_timeout: u64) -> Result<bool, String> {
    super::procs::require_redis_tools().map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| format!("a temporary directory: {e}"))?;
    let report =
        super::cost::report(trials, node_timeout, dir.path()).map_err(|e| e.to_string())?;
    print!("{report}");
    Ok(true)
}
