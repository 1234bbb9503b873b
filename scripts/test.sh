#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need when it is missing:
# redis-server and redis-cli 7.0 (Debian's packages), used by the interop tests;
# python3 with venv and pip, with which tests/redis_py.rs installs redis-py
# from PyPI into a venv under target/.
set -euo pipefail
cd "$(dirname "$0")/.."

# apt_install WHY PACKAGE...: installs Debian packages, with sudo unless root.
apt_install() {
    echo "installing ${*:2} (needed by $1)"
    local sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${@:2}" >/dev/null
}

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    apt_install "the interop tests" redis-server redis-tools
fi
redis-server --version

if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    apt_install "tests/redis_py.rs" python3 python3-venv python3-pip
fi
python3 --version

# The project's standards, where the toolchain has the tools: formatted,
# clippy-clean, and documented without warnings.
if cargo fmt --version >/dev/null 2>&1 && cargo clippy --version >/dev/null 2>&1; then
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -q -- -D warnings
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps -q
else
    echo "test.sh: rustfmt or clippy is not installed; format and lint checks skipped"
fi

cargo test --workspace --release "$@"
