#!/usr/bin/env bash
# What the live-conformance bus tap costs, in one run: frames per second
# through it and the latency it adds (a PING of a 4-node cluster, through the
# tap and over a direct loopback connection), and redis-server 7.0's
# failover time (3 masters + 1 replica, kill -9 of a master to its replica
# promoted and cluster_state:ok) with every bus link through the tap and
# without, alternating, with the ratio of the medians.
#
#   benches/cluster/tap_cost.sh [TRIALS=5] [NT=1000]
set -euo pipefail
cd "$(dirname "$0")/../.."
TRIALS=${1:-5}
NT=${2:-1000}
cargo build --release -q -p clusterbus-conformance -p clusterbus-node
./target/release/clusterbus live cost --trials "$TRIALS" --node-timeout "$NT"
