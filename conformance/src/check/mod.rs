//! `clusterbus check`: run the checker on one or all configurations, print
//! progress every second, then a report per configuration: how far the
//! search went (complete, or bounded at a depth), states, speed, memory, and
//! each property's verdict.

mod memory;
mod tables;

use crate::counterexample;
use clap::builder::PossibleValuesParser;
use clap::Args;
use clusterbus_model::{pins, Bug, ClusterModel, ModelCfg};
use stateright::{Checker, Expectation, HasDiscoveries, Model};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// A named configuration (`specs/model.md` describes each).
    #[arg(long, conflicts_with = "all", value_parser = PossibleValuesParser::new(ModelCfg::NAMES))]
    pub config: Option<String>,
    /// Check every configuration in turn, and compare each count with its pin.
    #[arg(long)]
    pub all: bool,
    /// Switch on a seeded bug; without --config, its own configuration is
    /// used, breadth-first, so the counterexample is a shortest one.
    #[arg(long, value_parser = PossibleValuesParser::new(Bug::ALL.map(Bug::name)))]
    pub bug: Option<String>,
    /// Breadth-first search (the default with --bug): shortest counterexamples.
    #[arg(long, conflicts_with = "dfs")]
    pub bfs: bool,
    /// Depth-first search to the end of the state space (the default where
    /// the configuration names no depth of its own): the least memory.
    #[arg(long)]
    pub dfs: bool,
    /// Checker threads for a depth-first run (a breadth-first one uses one).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Visit every state within this many steps (breadth-first, one thread).
    /// Without it, every reachable state within the configuration's bounds
    /// is visited, except where the configuration names a depth of its own
    /// (`specs/model.md`); the report says which.
    #[arg(long)]
    pub max_depth: Option<usize>,
    /// Visit states that differ only by swapping interchangeable nodes too.
    #[arg(long)]
    pub no_symmetry: bool,
    /// Check only this property (by its name in the report), including a
    /// finding the configuration otherwise searches for on its own.
    #[arg(long)]
    pub property: Option<String>,
    /// Override the configuration's bound on epochs.
    #[arg(long)]
    pub max_epoch: Option<u8>,
    /// Override the configuration's bound on messages in flight.
    #[arg(long)]
    pub max_in_flight: Option<usize>,
    /// Override the configuration's bound on crashes.
    #[arg(long)]
    pub max_crashes: Option<u8>,
    /// Write a counterexample as JSON lines here, with a sequence diagram
    /// beside it (default: under target/counterexamples/).
    #[arg(long)]
    pub trace_out: Option<PathBuf>,
    /// With --all: rewrite the checker tables in README.md and specs/model.md.
    #[arg(long, requires = "all")]
    pub write_tables: bool,
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

/// How much of the state space a run visited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extent {
    /// Every reachable state within the configuration's bounds.
    Complete,
    /// Every state within this many steps.
    Bounded(usize),
    /// The search stopped at the first violation.
    StoppedAtViolation,
}

impl std::fmt::Display for Extent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Extent::Complete => write!(f, "complete"),
            Extent::Bounded(d) => write!(f, "bounded at depth {d}"),
            Extent::StoppedAtViolation => write!(f, "stopped at a violation"),
        }
    }
}

/// What one checker run found.
pub struct RunResult {
    pub config: &'static str,
    /// The configuration's bounds, in words.
    pub bounds: String,
    pub search: &'static str,
    pub symmetry: bool,
    pub extent: Extent,
    pub unique: usize,
    pub total: usize,
    /// Steps of the longest path the search followed.
    pub depth: usize,
    pub seconds: f64,
    pub peak_rss: Option<u64>,
    pub properties: Vec<PropertyResult>,
    /// The configuration's findings (properties Redis 7.0 itself breaks):
    /// each one's shortest counterexample length, `None` if not reproduced.
    pub findings: Vec<(&'static str, Option<usize>)>,
}

impl RunResult {
    /// Every property as expected, and every finding reproduced.
    pub fn ok(&self) -> bool {
        self.properties.iter().all(PropertyResult::ok)
            && self.findings.iter().all(|(_, steps)| steps.is_some())
    }

    fn rate(&self, count: usize) -> f64 {
        count as f64 / self.seconds.max(1e-9)
    }
}

pub fn run(args: &CheckArgs) -> Result<bool, String> {
    let bug = args.bug.as_deref().map(Bug::from_name).unwrap_or(None);
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
        let mut cfg = cfg.with_bug(bug);
        if args.no_symmetry {
            cfg = cfg.without_symmetry();
        }
        if let Some(p) = &args.property {
            // The name lives as long as the run; the model keeps `&'static str`s.
            cfg = cfg.focused_on(Box::leak(p.clone().into_boxed_str()));
            if ClusterModel::new(cfg.clone()).properties().is_empty() {
                return Err(format!("{}: no property named {p:?}", cfg.name));
            }
        }
        cfg.max_epoch = args.max_epoch.unwrap_or(cfg.max_epoch);
        cfg.max_in_flight = args.max_in_flight.unwrap_or(cfg.max_in_flight);
        cfg.max_crashes = args.max_crashes.unwrap_or(cfg.max_crashes);
        let (result, counterexamples) = check_one(cfg.clone(), args);
        for (name, path) in &counterexamples {
            let out = trace_path(args.trace_out.as_deref(), &cfg, name);
            counterexample::report(&cfg, name, path, Some(&out))?;
        }
        let mut result = result;
        // A finding lies within the configuration's own bounds; with others
        // it may not, and is not searched for.
        let own_bounds =
            args.max_epoch.is_none() && args.max_in_flight.is_none() && args.max_crashes.is_none();
        let searched = cfg.bug.is_none() && cfg.focus.is_none() && own_bounds;
        if searched && result.extent != Extent::StoppedAtViolation {
            result.findings = reproduce_findings(&cfg)?;
        } else if !cfg.findings.is_empty() && cfg.focus.is_none() {
            eprintln!(
                "{}: its findings are not searched for in this run",
                cfg.name
            );
        }
        all_ok &= result.ok();
        print_report(&result);
        results.push(result);
    }
    let overridden = args.dfs
        || args.property.is_some()
        || args.max_depth.is_some()
        || args.max_epoch.is_some()
        || args.max_in_flight.is_some()
        || args.max_crashes.is_some();
    if args.all && !overridden {
        all_ok &= compare_with_pins(&results);
    }
    if args.all {
        let table = tables::markdown(&results);
        println!("\n{table}");
        if args.write_tables {
            tables::write(&table)?;
        }
    }
    Ok(all_ok)
}

/// Where a counterexample goes: `--trace-out`, or a file named after the
/// configuration and property under `target/counterexamples/`.
fn trace_path(given: Option<&Path>, cfg: &ModelCfg, property: &str) -> PathBuf {
    if let Some(p) = given {
        return p.to_path_buf();
    }
    let slug: String = property
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = match cfg.bug {
        Some(b) => format!("{}-{}.jsonl", cfg.name, b.name()),
        None => format!("{}-{slug}.jsonl", cfg.name),
    };
    PathBuf::from("target/counterexamples").join(name)
}

/// A run's unique-state count must be its pinned one: a change to the state
/// space is then a visible, reviewed change of `pins.rs`.
fn compare_with_pins(results: &[RunResult]) -> bool {
    let mut ok = true;
    for r in results
        .iter()
        .filter(|r| r.extent != Extent::StoppedAtViolation)
    {
        match pins::unique_states(r.config, r.symmetry) {
            Some(pin) if pin == r.unique => {}
            Some(pin) => {
                println!(
                    "{}: {} unique states, pinned {pin} (model/src/pins.rs)",
                    r.config, r.unique
                );
                ok = false;
            }
            None => {
                println!("{}: no pinned count in model/src/pins.rs", r.config);
                ok = false;
            }
        }
        for &(finding, steps) in &r.findings {
            let pin = pins::finding_steps(r.config, finding);
            if steps.is_some() && steps != pin {
                println!(
                    "{}: \"{finding}\" in {steps:?} steps, pinned {pin:?} (model/src/pins.rs)",
                    r.config
                );
                ok = false;
            }
        }
    }
    ok
}

type Trace = stateright::Path<clusterbus_model::State, clusterbus_model::Action>;

/// Run the checker on one configuration, with progress on stderr.
pub fn check_one(cfg: ModelCfg, args: &CheckArgs) -> (RunResult, Vec<(&'static str, Trace)>) {
    let name = cfg.name;
    // A seeded bug is searched for without the configuration's depth (its
    // counterexample may lie deeper), and --dfs asks for the whole space.
    // A finding checked alone (`--property`) is searched within its own depth.
    let finding = cfg.findings.iter().find(|f| Some(f.property) == cfg.focus);
    let own_depth = match finding {
        Some(f) => Some(f.within),
        None => cfg.check_depth.filter(|_| cfg.bug.is_none() && !args.dfs),
    };
    let max_depth = args.max_depth.or(own_depth);
    // A depth bound means "every state within D steps", which only a
    // breadth-first search on one thread guarantees (a depth-first one, or
    // several threads, may reach a state first by a longer path and cut it
    // off). A seeded bug's search is breadth-first on one thread too, so its
    // counterexample is a shortest one.
    let bfs = args.bfs || max_depth.is_some() || (cfg.bug.is_some() && !args.dfs);
    if args.dfs && max_depth.is_some() {
        eprintln!("a depth bound needs breadth-first search: --dfs ignored");
    }
    let threads = if bfs { 1 } else { args.threads };
    let symmetry = !cfg.interchangeable.is_empty();
    let model = ClusterModel::new(cfg);
    let bounds = model.cfg.bounds();
    let properties = model.properties();
    // stateright counts the initial state as depth 1 and skips, unchecked,
    // the states at its target depth: checking every state within D steps
    // takes a target of D + 2 (and the states one step further are
    // generated, and counted, but not checked).
    let mut builder = model
        .checker()
        .threads(threads)
        .finish_when(HasDiscoveries::AnyFailures);
    if let Some(d) = max_depth {
        builder = builder.target_max_depth(d + 2);
    }
    let search = if bfs { "bfs" } else { "dfs" };
    eprintln!(
        "checking {name} ({search}, {threads} thread(s), symmetry {}; {})",
        if symmetry { "on" } else { "off" },
        bounds
    );
    memory::reset_peak_rss();
    let start = Instant::now();
    let (unique, total, depth, discoveries) = if bfs {
        watch(builder.spawn_bfs(), start)
    } else {
        watch(builder.spawn_dfs(), start)
    };
    let seconds = start.elapsed().as_secs_f64();
    let mut counterexamples = Vec::new();
    let props: Vec<PropertyResult> = properties
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
    let extent = if !counterexamples.is_empty() {
        Extent::StoppedAtViolation
    } else if let Some(d) = max_depth {
        Extent::Bounded(d)
    } else {
        Extent::Complete
    };
    let result = RunResult {
        config: name,
        bounds,
        search,
        symmetry,
        extent,
        unique,
        total,
        // Steps, not stateright's depth; a bounded run's deepest checked state.
        depth: match extent {
            Extent::Bounded(d) => depth.saturating_sub(1).min(d),
            _ => depth.saturating_sub(1),
        },
        seconds,
        peak_rss: memory::peak_rss_bytes(),
        properties: props,
        findings: vec![],
    };
    (result, counterexamples)
}

type Found = Vec<(&'static str, Trace)>;

/// Search for each of the configuration's findings on its own (its only
/// property), breadth-first on one thread, so the counterexample printed and
/// written beside the others is a shortest one; within the finding's own
/// depth.
fn reproduce_findings(cfg: &ModelCfg) -> Result<Vec<(&'static str, Option<usize>)>, String> {
    let mut out = Vec::new();
    for f in &cfg.findings {
        let finding = f.property;
        let focused = cfg.clone().focused_on(finding);
        let depth = f.within;
        eprintln!("searching {} for the finding \"{finding}\"", cfg.name);
        let mut builder = ClusterModel::new(focused.clone())
            .checker()
            .finish_when(HasDiscoveries::AnyFailures);
        builder = builder.target_max_depth(depth + 2);
        let (_, _, _, found) = watch(builder.spawn_bfs(), Instant::now());
        let steps = match found.iter().find(|(n, _)| *n == finding) {
            Some((_, path)) => {
                let trace = trace_path(None, &focused, finding);
                counterexample::report(&focused, finding, path, Some(&trace))?;
                Some(path.clone().into_actions().len())
            }
            None => None,
        };
        out.push((finding, steps));
    }
    Ok(out)
}

/// Print progress every second until the checker is done.
fn watch<C: Checker<ClusterModel>>(checker: C, start: Instant) -> (usize, usize, usize, Found) {
    let mut last = (Instant::now(), 0usize);
    while !checker.is_done() {
        std::thread::sleep(Duration::from_millis(100));
        if last.0.elapsed() >= Duration::from_secs(1) {
            let total = checker.state_count();
            let rate = (total - last.1) as f64 / last.0.elapsed().as_secs_f64();
            eprintln!(
                "  {:>6.1}s  states {:>12}  unique {:>11}  {:>10.0} states/s  depth {:>3}  {}",
                start.elapsed().as_secs_f64(),
                total,
                checker.unique_state_count(),
                rate,
                checker.max_depth().saturating_sub(1),
                memory::megabytes(memory::peak_rss_bytes()),
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

fn print_report(r: &RunResult) {
    println!();
    println!(
        "configuration {}: {} ({}, symmetry {}; {})",
        r.config,
        r.extent,
        r.search,
        if r.symmetry { "on" } else { "off" },
        r.bounds
    );
    println!(
        "  unique states {}   states {}   max depth {}   {:.1} s   {:.0} states/s ({:.0} unique/s)   peak {}",
        r.unique,
        r.total,
        r.depth,
        r.seconds,
        r.rate(r.total),
        r.rate(r.unique),
        memory::megabytes(r.peak_rss),
    );
    for p in &r.properties {
        let kind = match p.expectation {
            Expectation::Sometimes => "sometimes",
            _ => "always",
        };
        println!("  {:<9} {:<52} {}", kind, p.name, p.verdict());
    }
    for (name, steps) in &r.findings {
        let verdict = match steps {
            Some(n) => format!("reproduced in {n} steps"),
            None => "NOT REPRODUCED".to_string(),
        };
        println!("  {:<9} {:<52} {verdict}", "finding", name);
    }
}

/// `clusterbus explore`: serve the Explorer (blocks).
pub fn explore(config: &str, addr: &str) -> Result<bool, String> {
    let cfg = ModelCfg::named(config).ok_or_else(|| format!("unknown configuration {config:?}"))?;
    eprintln!("serving the Explorer for {config} on http://{addr}");
    ClusterModel::new(cfg).checker().serve(addr);
    Ok(true)
}
