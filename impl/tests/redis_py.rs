//! redis-py's `RedisCluster()`, with its default arguments (redis-py 5 and
//! later: RESP3, so `HELLO 3` first), against three `clusterbus-node`
//! masters made a cluster by `redis-cli --cluster create`: the script
//! `fixtures/redis_py_cluster.py` checks that RESP3 was negotiated, then
//! SET, GET and a pipeline over keys of all three shards.
//!
//! redis-py is installed by the test itself, into a virtual environment
//! under Cargo's target directory (`python3 -m venv`, then `pip install
//! redis`), kept for the next run. When python3, venv or pip cannot do
//! that, the test fails and says why: it never passes without running.

mod procs;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use procs::{cluster_create, require_redis_tools, wait_until, Kind, Proc};

const NODE_TIMEOUT_MS: u64 = 1000;
const LIMIT: Duration = Duration::from_secs(30);
/// Longest a pip install may take (it downloads from PyPI).
const PIP_LIMIT_S: &str = "300";
/// Longest the script may take.
const SCRIPT_LIMIT_S: &str = "120";

/// `timeout LIMIT program args...`, so no step can hang the test.
fn bounded(limit_s: &str, program: &Path, args: &[&str]) -> Output {
    Command::new("timeout")
        .arg(limit_s)
        .arg(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A venv holding redis-py 5 or later; its python. Made once and kept.
fn redis_py_venv() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("redis-py-venv");
    let python = venv.join("bin").join("python");
    let has_redis = |python: &Path| {
        python.exists()
            && bounded(
                "30",
                python,
                &[
                    "-c",
                    "import redis, sys; sys.exit(int(redis.__version__.split('.')[0]) < 5)",
                ],
            )
            .status
            .success()
    };
    if has_redis(&python) {
        return python;
    }
    let venv_s = venv.to_str().expect("target dir path is UTF-8");
    let made = bounded(
        "120",
        Path::new("python3"),
        &["-m", "venv", "--clear", venv_s],
    );
    assert!(
        made.status.success(),
        "could not create a Python venv at {venv_s} with `python3 -m venv` (on Debian: \
         apt-get install python3-venv; ./scripts/test.sh installs it):\n{}",
        text(&made)
    );
    let pip = venv.join("bin").join("pip");
    let installed = bounded(
        PIP_LIMIT_S,
        &pip,
        &[
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "redis>=5",
        ],
    );
    assert!(
        installed.status.success(),
        "could not `pip install redis` into {venv_s} (PyPI must be reachable):\n{}",
        text(&installed)
    );
    assert!(
        has_redis(&python),
        "redis-py 5+ is not importable from {venv_s}"
    );
    python
}

#[test]
fn redis_py_cluster_client_with_default_arguments() {
    require_redis_tools();
    let python = redis_py_venv();
    let root = tempfile::tempdir().expect("temp dir");
    let nodes: Vec<Proc> = (0..3)
        .map(|i| {
            Proc::start(
                Kind::Clusterbus,
                &root.path().join(format!("n{i}")),
                NODE_TIMEOUT_MS,
            )
        })
        .collect();
    let refs: Vec<&Proc> = nodes.iter().collect();
    let created = cluster_create(&refs, 0);
    assert!(
        created.status.success(),
        "--cluster create failed:\n{}",
        text(&created)
    );
    wait_until("cluster_state:ok on all three", LIMIT, &refs, || {
        refs.iter().all(|n| n.state_ok())
    });

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/redis_py_cluster.py");
    let script = script.to_str().expect("repo path is UTF-8");
    let port = nodes[0].port.to_string();
    let run = bounded(SCRIPT_LIMIT_S, &python, &[script, &port]);
    let logs: Vec<String> = nodes.iter().map(|n| n.log()).collect();
    assert!(
        run.status.success(),
        "redis-py against clusterbus failed:\n{}\nnode logs:\n{}",
        text(&run),
        logs.join("\n---\n")
    );
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(out.contains("ok: 100 keys"), "{out}");
    eprint!("{out}");
}
