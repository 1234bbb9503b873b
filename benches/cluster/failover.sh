#!/usr/bin/env bash
# The cluster harness: the same 6-node scenario (3 masters + 3 replicas on
# 127.0.0.1, cluster-node-timeout NT) against redis-server 7.0 and against
# clusterbus-node, in one run. Per trial: `redis-cli --cluster create`, wait
# until every node reports cluster_state:ok, let replicas sync, kill -9 a
# master, and time until its replica is promoted and every live node is ok.
# Prints each trial, the medians, their ratio and the idle RSS of a node.
#
#   benches/cluster/failover.sh [TRIALS=5] [NT=1000]
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/../.."
TRIALS=${1:-5}
NT=${2:-1000}
# Client ports from BASE, bus ports 1000 above: both below the ephemeral range.
BASE=${BASE:-21000}
# shellcheck source=benches/cluster/lib.sh
. benches/cluster/lib.sh

now() { date +%s.%N; }
# Arithmetic on epoch seconds with decimals. printf, not print: mawk (Debian's
# default awk) prints large numbers with OFMT "%.6g", so `print now + 30`
# gives 1.79615e+09.
calc() { awk "BEGIN { printf \"%.6f\\n\", ($1) }"; }
# Exit status 0 when $1 is later than $2.
past() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }
state_ok() { cli "$1" CLUSTER INFO | grep -q '^cluster_state:ok'; }

# A node with the trial's node timeout; prints its pid.
start_trial_node() { # kind port dir
    start_node "$1" "$2" "$3" --cluster-node-timeout "$NT" --cluster-config-file nodes.conf
    tail -n 1 "$WORK/pids"
}

wait_for() { # limit-seconds command...
    local limit=$1; shift
    local deadline; deadline=$(calc "$(now) + $limit")
    until "$@"; do
        if past "$(now)" "$deadline"; then return 1; fi
        sleep 0.05
    done
}

all_ok() { for p in "$@"; do state_ok "$p" || return 1; done; }

promoted_and_ok() { # replica-port live-ports...
    cli "$1" INFO replication | grep -q '^role:master' || return 1
    shift; all_ok "$@"
}

trial() { # kind trial-number -> prints seconds
    local kind=$1 k=$2 ports=() pids=()
    for i in 0 1 2 3 4 5; do
        local port=$((BASE + k * 20 + i))
        ports+=("$port")
        pids+=("$(start_trial_node "$kind" "$port" "$WORK/$kind-$k/n$i")")
    done
    for p in "${ports[@]}"; do wait_for 10 sh -c "redis-cli -p $p PING 2>/dev/null | grep -q PONG"; done
    local addrs=(); for p in "${ports[@]}"; do addrs+=("127.0.0.1:$p"); done
    timeout 60 redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >/dev/null
    wait_for 30 all_ok "${ports[@]}"
    # The replica of ports[0], and every other node.
    local master_id; master_id=$(cli "${ports[0]}" CLUSTER MYID)
    local replica="" live=()
    for p in "${ports[@]:1}"; do
        live+=("$p")
        if cli "$p" CLUSTER NODES | grep myself | grep -q "slave $master_id"; then replica=$p; fi
    done
    [ -n "$replica" ] || { echo "no replica of ${ports[0]}" >&2; return 1; }
    wait_for 10 sh -c "redis-cli -p $replica INFO replication | grep -q 'master_link_status:up'" || true
    sleep 1
    if [ "$k" = 1 ]; then ps -o rss= -p "${pids[1]}" | tr -d ' ' >"$WORK/rss-$kind"; fi
    local t0; t0=$(now)
    kill -9 "${pids[0]}"
    wait_for 60 promoted_and_ok "$replica" "${live[@]}"
    calc "$(now) - $t0"
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A MED RSS
for kind in redis clusterbus; do
    times=()
    for k in $(seq 1 "$TRIALS"); do
        t=$(trial "$kind" "$k")
        printf '%-11s trial %d: failover %.2f s\n' "$kind" "$k" "$t"
        times+=("$t")
    done
    MED[$kind]=$(printf '%s\n' "${times[@]}" | median)
    RSS[$kind]=$(cat "$WORK/rss-$kind")
    BASE=$((BASE + 400))
done
printf 'NT=%s ms, %s trials each\n' "$NT" "$TRIALS"
printf 'redis-server 7.0  median failover %.2f s, idle node RSS %s KiB\n' "${MED[redis]}" "${RSS[redis]}"
printf 'clusterbus-node   median failover %.2f s, idle node RSS %s KiB\n' "${MED[clusterbus]}" "${RSS[clusterbus]}"
printf 'ratio clusterbus/redis: %.2f\n' "$(calc "${MED[clusterbus]} / ${MED[redis]}")"
