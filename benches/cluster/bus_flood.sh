#!/usr/bin/env bash
# The memory of a clusterbus-node under a flood of bus frames: a fresh node
# on 127.0.0.1 gets FRAMES frames on one bus connection as fast as it takes
# them: PONGs (input only: the node answers nothing), then PINGs from a peer
# that never reads the PONG answers; prints the node's RSS before and at its
# peak each time.
# Needs python3 (no packages).
#
#   benches/cluster/bus_flood.sh [FRAMES=400000]
set -euo pipefail
cd "$(dirname "$0")/../.."
FRAMES=${1:-400000}
PORT=${PORT:-21500}
cargo build --release -q -p clusterbus-node
WORK=$(mktemp -d)
PID=""
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

for mode in pong ping; do
    rm -rf "$WORK/node" && mkdir -p "$WORK/node"
    target/release/clusterbus-node --port "$PORT" --cluster-port $((PORT + 1)) --bind 127.0.0.1 \
        --dir "$WORK/node" --cluster-config-file nodes.conf >"$WORK/node/log" 2>&1 &
    PID=$!
    for _ in $(seq 100); do
        if timeout 2 redis-cli -p "$PORT" PING 2>/dev/null | grep -q PONG; then break; fi
        sleep 0.05
    done
    timeout 300 python3 benches/cluster/bus_flood.py $((PORT + 1)) "$PID" "$FRAMES" "$mode"
    kill "$PID"
    wait "$PID" 2>/dev/null || true
    PID=""
done
