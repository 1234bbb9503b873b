//! `clusterbus`: the project's front door. `check` runs the model checker,
//! `traces` writes the model's traces, `conform` replays them against the
//! node core, `live` runs real clusters behind the bus tap, `explore` serves stateright's Explorer on a configuration.

mod check;
mod conform;
mod counterexample;
mod diagram;
mod live;
mod replay;
mod traces;
mod validate;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "clusterbus",
    about = "A checked model and reference node of the Redis Cluster bus"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check the model: every reachable state, or every state within a stated depth (default configuration: failover-3m1r).
    Check(check::CheckArgs),
    /// Write the model's traces (discoveries, bug paths, a depth tree, random walks) as JSON lines.
    Traces(conform::WriteArgs),
    /// Replay the model's traces against the node core and compare after every step.
    Conform(conform::ConformArgs),
    /// Real clusters behind the bus tap: record what they do.
    Live {
        #[command(subcommand)]
        command: live::record::LiveCommand,
    },
    /// Serve stateright's Explorer for a configuration.
    Explore {
        #[arg(long, default_value = clusterbus_model::ModelCfg::DEFAULT)]
        config: String,
        #[arg(long, default_value = "127.0.0.1:3000")]
        addr: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let verdict = |r: Result<bool, String>| r.map(|ok| if ok { 0 } else { 1 });
    let result = match cli.command {
        Command::Check(args) => verdict(check::run(&args)),
        Command::Traces(args) => verdict(conform::write_traces(&args)),
        Command::Conform(args) => verdict(conform::run(&args)),
        // Live validation has a third outcome: outside the model (3).
        Command::Live { command } => live::record::run(&command),
        Command::Explore { config, addr } => verdict(check::explore(&config, &addr)),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
