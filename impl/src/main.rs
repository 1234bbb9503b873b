//! `clusterbus-node`: the deployable reference node. Flags as redis-server
//! names them; SIGTERM and SIGINT save nodes.conf and exit cleanly.

use clap::Parser;
use clusterbus_node::runtime::options::Options;
use clusterbus_node::runtime::Node;

fn main() -> std::process::ExitCode {
    let options = Options::parse();
    let settings = match options.settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("clusterbus-node: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    init_logging(&settings.loglevel);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("clusterbus-node: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let node = match Node::bind(&settings).await {
            Ok(node) => node,
            Err(e) => {
                tracing::error!("{e}");
                eprintln!("clusterbus-node: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
        tracing::info!(
            "node {} ready: clients on {}:{}, bus on {}:{}",
            node.id(),
            settings.bind,
            settings.port,
            settings.bind,
            settings.cluster_port
        );
        node.run(shutdown_signal()).await;
        std::process::ExitCode::SUCCESS
    })
}

/// Completes at the first SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("cannot listen for SIGTERM: {e}");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
    }
}

fn init_logging(level: &str) {
    let filter = match level {
        "debug" => "debug",
        "verbose" => "info",
        "warning" => "warn",
        _ => "info",
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
