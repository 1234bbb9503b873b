//! `clusterbus`: the project's front door. `check` runs the model checker,
//! `explore` serves stateright's Explorer on a configuration.

mod check;
mod counterexample;
mod diagram;

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
    /// Check the model exhaustively (default configuration: failover-3m1r).
    Check(check::CheckArgs),
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
    let result = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Explore { config, addr } => check::explore(&config, &addr),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
