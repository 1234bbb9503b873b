//! `clusterbus conform` and `clusterbus traces`: generate traces from the
//! model, replay them against node cores, and report where they part.

use crate::counterexample;
use crate::diagram::{render_html, render_svg};
use crate::replay::mapping::Mapping;
use crate::replay::{Disagreement, Replayer, StepError, EVENT_KINDS};
use crate::traces::{self, next_steps, Trace};
use clap::Args;
use clusterbus_model::{Action, ClusterModel, ModelCfg, State};
use stateright::Model;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Args, Debug, Clone)]
pub struct TraceArgs {
    /// A named configuration (see `specs/model.md`).
    #[arg(long, default_value = ModelCfg::DEFAULT)]
    pub config: String,
    /// Every state within this depth, each by the first path that reaches it.
    #[arg(long)]
    pub depth: Option<usize>,
    /// This many seeded random walks.
    #[arg(long)]
    pub walks: Option<usize>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Steps per random walk at most.
    #[arg(long, default_value_t = 60)]
    pub steps: usize,
    /// Also the discovery and bug paths (the default when no other source is given).
    #[arg(long)]
    pub discoveries: bool,
}

#[derive(Args, Debug)]
pub struct ConformArgs {
    #[command(flatten)]
    pub source: TraceArgs,
    /// Replay this trace file instead of generating traces.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Where a disagreement's trace prefix and picture are written.
    #[arg(long, default_value = "target/conformance")]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct WriteArgs {
    #[command(flatten)]
    pub source: TraceArgs,
    /// Directory to write the traces to (one JSON-lines file each).
    #[arg(long)]
    pub out: PathBuf,
}

/// Totals of a conformance run.
#[derive(Debug, Default)]
pub struct Totals {
    pub traces: usize,
    pub steps: usize,
    pub agreed: usize,
    pub disagreements: Vec<(String, Box<Disagreement>, Trace)>,
    /// Traces ended where the model went beyond real time, with why.
    pub beyond_real_time: Vec<(String, usize, String)>,
    pub actions: BTreeMap<&'static str, u64>,
    pub events: BTreeMap<&'static str, u64>,
    pub mapped: BTreeMap<&'static str, u64>,
}

fn config(name: &str) -> Result<ModelCfg, String> {
    ModelCfg::named(name).ok_or_else(|| format!("unknown configuration {name:?}"))
}

/// The traces `args` asks for, except the depth tree (replayed incrementally).
fn listed_traces(cfg: &ModelCfg, args: &TraceArgs) -> Vec<Trace> {
    let mut out = Vec::new();
    if args.discoveries || (args.depth.is_none() && args.walks.is_none()) {
        out.extend(traces::discovery_traces(cfg));
    }
    for w in 0..args.walks.unwrap_or(0) {
        out.push(traces::random_walk(cfg, args.seed, w, args.steps));
    }
    out
}

/// `clusterbus traces`: write traces as JSON lines.
pub fn write_traces(args: &WriteArgs) -> Result<bool, String> {
    let cfg = config(&args.source.config)?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let mut all = listed_traces(&cfg, &args.source);
    if let Some(depth) = args.source.depth {
        all.extend(tree_leaves(&cfg, depth));
    }
    for (k, t) in all.iter().enumerate() {
        let path = args.out.join(format!("{}-{k:05}.jsonl", cfg.name));
        std::fs::write(&path, t.to_json_lines(&cfg))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    println!("{} traces written to {}", all.len(), args.out.display());
    Ok(true)
}

/// `clusterbus conform`.
pub fn run(args: &ConformArgs) -> Result<bool, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let start = Instant::now();
    let mut totals = Totals::default();
    let mut progress = Progress::new();
    let cfg = if let Some(path) = &args.trace {
        let (cfg, trace) = traces::read_trace(path)?;
        replay_trace(&cfg, &trace, dir.path(), &mut totals)?;
        cfg
    } else {
        let cfg = config(&args.source.config)?;
        eprintln!("conform {}: generating traces", cfg.name);
        for trace in listed_traces(&cfg, &args.source) {
            replay_trace(&cfg, &trace, dir.path(), &mut totals)?;
            progress.tick(&totals, start);
        }
        if let Some(depth) = args.source.depth {
            replay_tree(&cfg, depth, dir.path(), &mut totals, &mut progress, start)?;
        }
        cfg
    };
    let secs = start.elapsed().as_secs_f64();
    print_coverage(&totals);
    for (k, (name, d, trace)) in totals.disagreements.iter().enumerate().take(3) {
        report(&cfg, name, d, trace, &args.out, k)?;
    }
    for (name, step, why) in totals.beyond_real_time.iter().take(5) {
        println!("beyond real time: {name}, step {step}: {why}");
    }
    if !totals.beyond_real_time.is_empty() {
        println!(
            "{} traces ended where failure reports differ only by an age the model does not track (see specs/traces.md)",
            totals.beyond_real_time.len()
        );
    }
    println!(
        "traces: {}, steps: {}, agreed: {}, disagreements: {}   ({:.1} s, {:.0} traces/s, {:.0} steps/s)",
        totals.traces,
        totals.steps,
        totals.agreed,
        totals.disagreements.len(),
        secs,
        totals.traces as f64 / secs.max(1e-9),
        totals.steps as f64 / secs.max(1e-9)
    );
    Ok(totals.disagreements.is_empty())
}

/// Replays one trace; a disagreement ends it.
pub fn replay_trace(
    cfg: &ModelCfg,
    trace: &Trace,
    dir: &Path,
    totals: &mut Totals,
) -> Result<(), String> {
    let mut r = Replayer::new(Mapping::new(cfg), dir.join(format!("t{}", totals.traces)))?;
    totals.traces += 1;
    let initial = &trace.states[0];
    if let Err(d) = r.check_initial(initial) {
        totals.steps += 1;
        totals
            .disagreements
            .push((trace.name.clone(), d, trace.clone()));
        return Ok(());
    }
    for (k, action) in trace.actions.iter().enumerate() {
        totals.steps += 1;
        *totals.actions.entry(action.kind()).or_default() += 1;
        match r.step(k + 1, &trace.states[k], action, &trace.states[k + 1]) {
            Ok(()) => totals.agreed += 1,
            Err(StepError::Disagreement(d)) => {
                totals
                    .disagreements
                    .push((trace.name.clone(), d, trace.clone()));
                break;
            }
            Err(StepError::BeyondRealTime(why)) => {
                totals
                    .beyond_real_time
                    .push((trace.name.clone(), k + 1, why));
                break;
            }
        }
    }
    merge(&mut totals.events, &r.events);
    merge(&mut totals.mapped, &r.mapped);
    Ok(())
}

fn merge(into: &mut BTreeMap<&'static str, u64>, from: &BTreeMap<&'static str, u64>) {
    for (k, v) in from {
        *into.entry(k).or_default() += v;
    }
}

/// Every state within `depth`, each reached once, replayed edge by edge: a
/// replayer is cloned at each branch, so every edge of the search tree is
/// one replayed step.
fn replay_tree(
    cfg: &ModelCfg,
    depth: usize,
    dir: &Path,
    totals: &mut Totals,
    progress: &mut Progress,
    start: Instant,
) -> Result<(), String> {
    let model = ClusterModel::new(cfg.clone());
    let init = model.init_states().remove(0);
    let root = Replayer::new(Mapping::new(cfg), dir.join("tree"))?;
    totals.traces += 1;
    let mut seen: HashSet<State> = HashSet::new();
    seen.insert(init);
    // (replayer, path of states, path of actions)
    let mut stack = vec![(root, vec![init], Vec::<Action>::new())];
    while let Some((r, states, actions)) = stack.pop() {
        progress.tick(totals, start);
        if actions.len() >= depth {
            continue;
        }
        let last = *states.last().expect("a path has a state");
        for (a, next) in next_steps(&model, &last) {
            if !seen.insert(next) {
                continue;
            }
            let mut r = r.clone();
            totals.steps += 1;
            *totals.actions.entry(a.kind()).or_default() += 1;
            let k = actions.len() + 1;
            match r.step(k, &last, &a, &next) {
                Ok(()) => {
                    totals.agreed += 1;
                    let (mut s, mut p) = (states.clone(), actions.clone());
                    s.push(next);
                    p.push(a);
                    merge(&mut totals.events, &std::mem::take(&mut r.events));
                    merge(&mut totals.mapped, &std::mem::take(&mut r.mapped));
                    stack.push((r, s, p));
                }
                Err(StepError::BeyondRealTime(why)) => {
                    totals.beyond_real_time.push(("depth tree".into(), k, why));
                }
                Err(StepError::Disagreement(d)) => {
                    let (mut s, mut p) = (states.clone(), actions.clone());
                    s.push(next);
                    p.push(a);
                    let trace = Trace {
                        name: format!("depth tree, path of {k} steps"),
                        states: s,
                        actions: p,
                    };
                    totals.disagreements.push((trace.name.clone(), d, trace));
                }
            }
        }
    }
    Ok(())
}

/// The maximal paths of the depth tree, for `clusterbus traces --depth`.
fn tree_leaves(cfg: &ModelCfg, depth: usize) -> Vec<Trace> {
    let model = ClusterModel::new(cfg.clone());
    let init = model.init_states().remove(0);
    let mut seen: HashSet<State> = HashSet::new();
    seen.insert(init);
    let mut out = Vec::new();
    let mut stack = vec![(vec![init], Vec::<Action>::new())];
    while let Some((states, actions)) = stack.pop() {
        let last = *states.last().expect("a path has a state");
        let mut extended = false;
        if actions.len() < depth {
            for (a, next) in next_steps(&model, &last) {
                if seen.insert(next) {
                    extended = true;
                    let (mut s, mut p) = (states.clone(), actions.clone());
                    s.push(next);
                    p.push(a);
                    stack.push((s, p));
                }
            }
        }
        if !extended && !actions.is_empty() {
            out.push(Trace {
                name: format!("depth tree leaf {}", out.len()),
                states,
                actions,
            });
        }
    }
    out
}

struct Progress {
    last: Instant,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            last: Instant::now(),
        }
    }

    fn tick(&mut self, t: &Totals, start: Instant) {
        if self.last.elapsed().as_secs_f64() >= 1.0 {
            self.last = Instant::now();
            let secs = start.elapsed().as_secs_f64();
            eprintln!(
                "  {secs:>6.1}s  traces {:>7}  steps {:>9}  agreed {:>9}  disagreements {:>4}  {:>7.0} steps/s",
                t.traces,
                t.steps,
                t.agreed,
                t.disagreements.len(),
                t.steps as f64 / secs.max(1e-9)
            );
        }
    }
}

fn print_coverage(t: &Totals) {
    let used = |m: &BTreeMap<&'static str, u64>, k: &str| m.get(k).copied().unwrap_or(0);
    println!("model action kinds exercised:");
    let kinds = Action::KINDS;
    for k in kinds {
        println!("  {k:<22} {:>9}", used(&t.actions, k));
    }
    let a = kinds.iter().filter(|k| used(&t.actions, k) > 0).count();
    println!("  {a} of {} kinds", kinds.len());
    println!("core event kinds exercised:");
    for k in EVENT_KINDS {
        println!("  {k:<24} {:>9}", used(&t.events, k));
    }
    let e = EVENT_KINDS
        .iter()
        .filter(|k| used(&t.events, k) > 0)
        .count();
    println!("  {e} of {} kinds", EVENT_KINDS.len());
    for (rule, n) in &t.mapped {
        println!("mapping rule \"{rule}\": {n} times");
    }
}

/// Prints a disagreement and writes its trace prefix and picture.
fn report(
    cfg: &ModelCfg,
    name: &str,
    d: &Disagreement,
    trace: &Trace,
    out: &Path,
    k: usize,
) -> Result<(), String> {
    println!();
    println!("DISAGREEMENT in {name}, step {}: {}", d.step, d.action);
    for line in &d.differences {
        println!("  {line}");
    }
    println!("  side by side (model | node), nodes that differ:");
    for (i, (m, n)) in d.model.iter().zip(&d.node).enumerate() {
        if m != n {
            println!(
                "    n{i} model {}",
                serde_json::to_string(m).unwrap_or_default()
            );
            println!(
                "    n{i} node  {}",
                serde_json::to_string(n).unwrap_or_default()
            );
        }
    }
    for line in d.logs.iter().take(20) {
        println!("  log: {line}");
    }
    let upto = d.step.min(trace.actions.len());
    let prefix = Trace {
        name: format!("{name}: disagreement at step {}", d.step),
        states: trace.states[..=upto].to_vec(),
        actions: trace.actions[..upto].to_vec(),
    };
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let base = out.join(format!("disagreement-{}-{k}", cfg.name));
    let jsonl = base.with_extension("jsonl");
    std::fs::write(&jsonl, prefix.to_json_lines(cfg))
        .map_err(|e| format!("{}: {e}", jsonl.display()))?;
    let picture = counterexample::diagram(cfg, &prefix.name, &prefix.states, &prefix.actions);
    let svg = base.with_extension("svg");
    std::fs::write(&svg, render_svg(&picture)).map_err(|e| format!("{}: {e}", svg.display()))?;
    let html = base.with_extension("html");
    std::fs::write(&html, render_html(&picture)).map_err(|e| format!("{}: {e}", html.display()))?;
    println!(
        "  trace prefix: {}; picture: {} (and .html)",
        jsonl.display(),
        svg.display()
    );
    Ok(())
}
