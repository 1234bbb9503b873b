#!/usr/bin/env bash
# The client port against redis-server 7.0, in one run: one node of each
# kind on 127.0.0.1, in cluster mode and owning every slot, measured by
# redis-benchmark with the same arguments (random keys of 100,000). Prints
# the median requests/s of ROUNDS runs (default 3) per test for both and
# their ratio (clusterbus / redis-server), then the time of one write of
# 10,000 pipelined PINGs.
#
#   benches/cluster/clientport.sh [REQUESTS=100000] [CLIENTS=50]
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/../.."
N=${1:-100000}
C=${2:-50}
BASE=${BASE:-22000}
# shellcheck source=benches/cluster/lib.sh
. benches/cluster/lib.sh

start() { # kind port
    start_node "$1" "$2" "$WORK/$2"
    local port=$2
    wait_pong "$port"
    cli "$port" CLUSTER ADDSLOTSRANGE 0 16383 >/dev/null
    for _ in $(seq 200); do cli "$port" CLUSTER INFO | grep -q '^cluster_state:ok' && return 0; sleep 0.05; done
    echo "node on $port never became ok" >&2
    return 1
}

start redis "$BASE"
start clusterbus $((BASE + 1))

# requests/s of one redis-benchmark test (-q prints "SET: 123456.79 requests per second, ...").
rate() { # port test pipeline
    redis-benchmark -p "$1" -t "$2" -n "$N" -c "$C" -P "$3" -r 100000 -q 2>/dev/null \
        | tr '\r' '\n' | awk -v t="$2" 'toupper($1) == toupper(t) ":" { print $2 }' | tail -1
}

# Each test ROUNDS times, the two servers in turn, and the median of each:
# on a small machine redis-benchmark shares the cores with the server.
ROUNDS=${ROUNDS:-3}
printf '%-10s %4s %16s %16s %7s\n' test "-P" redis-server clusterbus ratio
for p in 1 16; do
    for t in set get ping_mbulk; do
        rs=() cs=()
        for _ in $(seq "$ROUNDS"); do
            rs+=("$(rate "$BASE" "$t" "$p")")
            cs+=("$(rate $((BASE + 1)) "$t" "$p")")
        done
        r=$(printf '%s\n' "${rs[@]}" | median)
        c=$(printf '%s\n' "${cs[@]}" | median)
        printf '%-10s %4s %16s %16s %7s\n' "$t" "$p" "$r" "$c" "$(ratio "$c" "$r")"
    done
done

# One write of 10,000 pipelined PINGs, timed until the last PONG is read.
pings() { # port
    python3 - "$1" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
payload = b"PING\r\n" * 10000
want = len(b"+PONG\r\n") * 10000
t = time.perf_counter()
s.sendall(payload)
got = 0
while got < want:
    chunk = s.recv(1 << 16)
    if not chunk:
        break
    got += len(chunk)
print(f"{(time.perf_counter() - t) * 1000:.1f}")
PY
}
r=$(for _ in $(seq "$ROUNDS"); do pings "$BASE"; done | median)
c=$(for _ in $(seq "$ROUNDS"); do pings $((BASE + 1)); done | median)
printf '10,000 pipelined PINGs in one write (median): redis-server %s ms, clusterbus %s ms\n' "$r" "$c"
