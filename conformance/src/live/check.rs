//! `clusterbus live validate`, `live check` and `live soak`: an observed
//! trace judged by the model (`crate::validate`), one recorded on the spot,
//! or many random fault schedules each recorded and judged.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;

use super::record::{record, RecordArgs};
use crate::validate::{self, observed, report, Verdict};

/// Options of `live validate`.
#[derive(Args)]
pub struct ValidateArgs {
    /// A `clusterbus-observed` trace (from `live record`).
    #[arg(long)]
    pub trace: PathBuf,
    /// Internal (unobserved) model steps allowed between two observations.
    #[arg(long, default_value_t = validate::MAX_INTERNAL)]
    pub max_internal: u32,
}

/// Options of `live check`.
#[derive(Args)]
pub struct CheckArgs {
    /// redis-server or clusterbus-node.
    #[arg(long)]
    pub server: String,
    #[arg(long)]
    pub scenario: String,
    /// Seed of the `random` scenario.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where the trace goes (default `target/live/SCENARIO-SERVER.jsonl`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// What `live check` and `live soak` share: the nodes' timeout and the
/// search's bound.
#[derive(Args)]
pub struct RunArgs {
    /// cluster-node-timeout of every node, ms.
    #[arg(long, default_value_t = 1000)]
    pub node_timeout: u64,
    /// Internal (unobserved) model steps allowed between two observations.
    #[arg(long, default_value_t = validate::MAX_INTERNAL)]
    pub max_internal: u32,
}

/// Options of `live soak`.
#[derive(Args)]
pub struct SoakArgs {
    #[arg(long)]
    pub server: String,
    /// Runs, with seeds `seed`, `seed + 1`, ...
    #[arg(long, default_value_t = 10)]
    pub runs: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where the traces go (default `target/live/soak/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// Validates one trace file, prints the verdict; the exit code.
pub fn validate_file(a: &ValidateArgs) -> Result<u8, String> {
    let (code, _) = judge(&a.trace, a.max_internal, true)?;
    Ok(code)
}

/// Validates `path`; prints the report (and progress when `loud`), writes
/// the prefix of a rejected trace beside it. The exit code and the validation.
fn judge(path: &Path, max_internal: u32, loud: bool) -> Result<(u8, validate::Validation), String> {
    let t = observed::read(path)?;
    let mut last = Instant::now();
    let v = validate::validate(&t, max_internal, |done, total| {
        if loud && last.elapsed().as_secs() >= 1 {
            eprintln!("validating: {done}/{total} observations");
            last = Instant::now();
        }
    });
    print!("{}", report::summary(&t, &v));
    if let Verdict::Rejected { event, .. } = &v.verdict {
        let p = report::write_prefix(&t, *event, path)?;
        println!("prefix written to {} (diagram: .svg, .html)", p.display());
    }
    Ok((report::exit_code(&v), v))
}

fn default_out(scenario: &str, server: &str) -> PathBuf {
    PathBuf::from(format!("target/live/{scenario}-{server}.jsonl"))
}

fn ensure_parent(p: &Path) -> Result<(), String> {
    match p.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display())),
        None => Ok(()),
    }
}

/// Records the scenario, then validates what it recorded.
pub fn check(a: &CheckArgs) -> Result<u8, String> {
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| default_out(&a.scenario, &a.server));
    ensure_parent(&out)?;
    let rec = RecordArgs {
        server: a.server.clone(),
        scenario: a.scenario.clone(),
        out: out.clone(),
        node_timeout: a.run.node_timeout,
        seed: a.seed,
        masters: 3,
        replicas: 1,
    };
    let complete = record(&rec)?;
    if !complete {
        println!("the scenario did not reach its end; validating what it recorded");
    }
    Ok(judge(&out, a.run.max_internal, true)?.0)
}

/// Random schedules, each recorded and validated; totals at the end.
pub fn soak(a: &SoakArgs) -> Result<u8, String> {
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("target/live/soak"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let started = Instant::now();
    let (mut verdicts, mut observations, mut faults) = ([0u64; 5], 0usize, 0usize);
    for r in 0..a.runs {
        let seed = a.seed + r;
        let out = dir.join(format!("random-{}-seed-{seed}.jsonl", a.server));
        let rec = RecordArgs {
            server: a.server.clone(),
            scenario: "random".into(),
            out: out.clone(),
            node_timeout: a.run.node_timeout,
            seed,
            masters: 3,
            replicas: 1,
        };
        record(&rec)?;
        let (code, v) = judge(&out, a.run.max_internal, false)?;
        verdicts[code.min(4) as usize] += 1;
        observations += v.stats.observations;
        faults += super::random::FAULTS;
        eprintln!(
            "soak: run {}/{} (seed {seed}) exit {code}; so far {} validated, {} rejected, {} outside the model, {} undecided, {observations} observations, {:.0} s",
            r + 1,
            a.runs,
            verdicts[0],
            verdicts[1],
            verdicts[3],
            verdicts[4],
            started.elapsed().as_secs_f64()
        );
    }
    println!(
        "soak: {} runs, {observations} observations, {faults} faults; validated {}, rejected {}, outside the model {}, undecided {}",
        a.runs, verdicts[0], verdicts[1], verdicts[3], verdicts[4]
    );
    Ok(u8::from(verdicts[1] > 0))
}
