# Shared by the cluster benchmarks (sourced, not run): builds the node,
# makes a work directory that is removed on exit with every node started
# from it (each pid goes to $WORK/pids, so nodes started from subshells are
# stopped too), and starts nodes of either kind on 127.0.0.1.
#
# Node ports: client port P, bus port P + 1000. Callers choose P below the
# kernel's ephemeral range, so the OS never hands one of them out.

cargo build --release -q -p clusterbus-node
NODE_BIN=${NODE_BIN:-$PWD/target/release/clusterbus-node}
WORK=$(mktemp -d)
cleanup() {
    if [ -f "$WORK/pids" ]; then xargs kill -9 <"$WORK/pids" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# redis-cli against a local port; never fails, never waits over 10 s.
cli() { timeout 10 redis-cli -p "$1" "${@:2}" 2>/dev/null || true; }

# start_node KIND PORT DIR [ARG...]: a node (redis or clusterbus) in DIR, in
# cluster mode, without saving, with the extra node arguments given. Returns
# at once; the pid is the last line of $WORK/pids.
start_node() {
    local kind=$1 port=$2 dir=$3
    shift 3
    mkdir -p "$dir"
    local common=(--port "$port" --cluster-port $((port + 1000)) --bind 127.0.0.1 --dir "$dir" --save "" "$@")
    if [ "$kind" = redis ]; then
        redis-server "${common[@]}" --cluster-enabled yes --appendonly no \
            --repl-diskless-sync-delay 0 --daemonize no >"$dir/node.log" 2>&1 &
    else
        "$NODE_BIN" "${common[@]}" >"$dir/node.log" 2>&1 &
    fi
    echo $! >>"$WORK/pids"
}

# wait_pong PORT: until the node answers PING (5 s at most).
wait_pong() {
    for _ in $(seq 100); do [ "$(cli "$1" PING)" = PONG ] && return 0; sleep 0.05; done
    echo "node on $1 did not start" >&2
    return 1
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# ratio A B: A / B with two decimals, "-" when B is 0.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
