//! `clusterbus check`: run the checker on one or all configurations, print
//! progress every second, then a table per configuration.

use crate::counterexample;
use clap::Args;
use clusterbus_model::{Bug, ClusterModel, ModelCfg};
use stateright::{Checker, Expectation, HasDiscoveries, Model};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// A named configuration (see `specs/model.md`).
    #[arg(long, conflicts_with = "all")]
    pub config: Option<String>,
    /// Check every configuration in turn.
    #[arg(long)]
    pub all: bool,
    /// Switch on a seeded bug; without --config, its own configuration is used.
    #[arg(long)]
    pub bug: Option<String>,
    /// Breadth-first search (the default): shortest counterexamples, and every
    /// behaviour up to the depth bound.
    #[arg(long, conflicts_with = "dfs")]
    pub bfs: bool,
    /// Depth-first search: less memory, but with a depth bound it may leave
    /// states unexplored that BFS would reach by a shorter path.
    #[arg(long)]
    pub dfs: bool,
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Do not explore past this depth (default: the configuration's bound).
    #[arg(long)]
    pub max_depth: Option<usize>,
    /// Write a counterexample as JSON lines here (and an SVG beside it).
    #[arg(long)]
    pub trace_out: Option<PathBuf>,
}

/// One property's outcome.
pub struct PropertyResult {
    pub name: &'static str,
    pub expectation: Expectation,
    pub discovered: bool,
}

impl PropertyResult {
    /// An Always property must not be discovered; a Sometimes one must.
    pub fn ok(&self) -> bool {
        match self.expectation {
            Expectation::Sometimes => self.discovered,
            _ => !self.discovered,
        }
    }

    fn verdict(&self) -> &'static str {
        match (&self.expectation, self.discovered) {
            (Expectation::Sometimes, true) => "discovered",
            (Expectation::Sometimes, false) => "NOT DISCOVERED",
            (_, false) => "held",
            (_, true) => "VIOLATED",
        }
    }
}

/// What one checker run found.
pub struct RunResult {
    pub config: &'static str,
    pub unique: usize,
    pub total: usize,
    pub depth: usize,
    pub seconds: f64,
    pub properties: Vec<PropertyResult>,
}

pub fn run(args: &CheckArgs) -> Result<bool, String> {
    let bug = match &args.bug {
        Some(name) => Some(Bug::from_name(name).ok_or_else(|| unknown_bug(name))?),
        None => None,
    };
    let configs = if args.all {
        ModelCfg::all()
    } else {
        let name = args
            .config
            .as_deref()
            .or(bug.map(Bug::config))
            .unwrap_or(ModelCfg::DEFAULT);
        vec![ModelCfg::named(name).ok_or_else(|| format!("unknown configuration {name:?}"))?]
    };
    let mut all_ok = true;
    let mut results = Vec::new();
    for cfg in configs {
        let cfg = cfg.with_bug(bug);
        let (result, counterexamples) = check_one(cfg.clone(), args);
        for (name, path) in &counterexamples {
            counterexample::report(&cfg, name, path, args.trace_out.as_deref())?;
        }
        all_ok &= result.properties.iter().all(PropertyResult::ok);
        print_table(&result);
        results.push(result);
    }
    if results.len() > 1 {
        print_summary(&results);
    }
    Ok(all_ok)
}

fn unknown_bug(name: &str) -> String {
    let names: Vec<_> = Bug::ALL.iter().map(|b| b.name()).collect();
    format!("unknown bug {name:?}; known: {}", names.join(", "))
}

type Trace = stateright::Path<clusterbus_model::State, clusterbus_model::Action>;

/// Run the checker on one configuration, with progress on stderr.
pub fn check_one(cfg: ModelCfg, args: &CheckArgs) -> (RunResult, Vec<(&'static str, Trace)>) {
    let name = cfg.name;
    let model = ClusterModel::new(cfg);
    let properties = model.properties();
    let depth = args.max_depth.unwrap_or(model.cfg.max_depth);
    let mut builder = model
        .checker()
        .threads(args.threads)
        .finish_when(HasDiscoveries::AnyFailures);
    builder = builder.target_max_depth(depth);
    let mode = if args.dfs { "dfs" } else { "bfs" };
    eprintln!("checking {name} ({mode}, {} thread(s))", args.threads);
    let start = Instant::now();
    let (unique, total, depth, discoveries) = if args.dfs {
        watch(builder.spawn_dfs(), start)
    } else {
        watch(builder.spawn_bfs(), start)
    };
    let seconds = start.elapsed().as_secs_f64();
    let mut counterexamples = Vec::new();
    let props = properties
        .iter()
        .map(|p| {
            let found = discoveries.iter().find(|(n, _)| *n == p.name);
            if let (Some((n, path)), false) = (found, p.expectation == Expectation::Sometimes) {
                counterexamples.push((*n, path.clone()));
            }
            PropertyResult {
                name: p.name,
                expectation: p.expectation.clone(),
                discovered: found.is_some(),
            }
        })
        .collect();
    (
        RunResult {
            config: name,
            unique,
            total,
            depth,
            seconds,
            properties: props,
        },
        counterexamples,
    )
}

type Found = Vec<(&'static str, Trace)>;

/// Print progress every second until the checker is done.
fn watch<C: Checker<ClusterModel>>(checker: C, start: Instant) -> (usize, usize, usize, Found) {
    let mut last = (Instant::now(), 0usize);
    while !checker.is_done() {
        std::thread::sleep(Duration::from_millis(100));
        if last.0.elapsed() >= Duration::from_secs(1) {
            let total = checker.state_count();
            let rate = (total - last.1) as f64 / last.0.elapsed().as_secs_f64();
            eprintln!(
                "  {:>6.1}s  states {:>12}  unique {:>11}  {:>10.0} states/s  depth {}",
                start.elapsed().as_secs_f64(),
                total,
                checker.unique_state_count(),
                rate,
                checker.max_depth()
            );
            last = (Instant::now(), total);
        }
    }
    let checker = checker.join();
    let found = checker.discoveries().into_iter().collect();
    (
        checker.unique_state_count(),
        checker.state_count(),
        checker.max_depth(),
        found,
    )
}

fn print_table(r: &RunResult) {
    println!();
    println!("configuration {}", r.config);
    println!(
        "  unique states {}   states {}   max depth {}   {:.1} s   {:.0} states/s",
        r.unique,
        r.total,
        r.depth,
        r.seconds,
        r.total as f64 / r.seconds.max(1e-9)
    );
    for p in &r.properties {
        let kind = match p.expectation {
            Expectation::Sometimes => "sometimes",
            _ => "always",
        };
        println!("  {:<9} {:<48} {}", kind, p.name, p.verdict());
    }
}

fn print_summary(results: &[RunResult]) {
    println!();
    println!("| configuration | unique states | max depth | seconds | states/s | result |");
    println!("|---|---:|---:|---:|---:|---|");
    for r in results {
        let ok = r.properties.iter().all(PropertyResult::ok);
        println!(
            "| {} | {} | {} | {:.1} | {:.0} | {} |",
            r.config,
            r.unique,
            r.depth,
            r.seconds,
            r.total as f64 / r.seconds.max(1e-9),
            if ok { "pass" } else { "FAIL" }
        );
    }
}

/// `clusterbus explore`: serve the Explorer (blocks).
pub fn explore(config: &str, addr: &str) -> Result<bool, String> {
    let cfg = ModelCfg::named(config).ok_or_else(|| format!("unknown configuration {config:?}"))?;
    eprintln!("serving the Explorer for {config} on http://{addr}");
    ClusterModel::new(cfg).checker().serve(addr);
    Ok(true)
}
