#!/usr/bin/env bash
# Slot migration against redis-server 7.0, in one run: for each kind, two
# nodes on 127.0.0.1 (the first owning every slot), KEYS keys of 100 bytes
# in slots 0-999, then `redis-cli --cluster reshard` of those 1,000 slots to
# the second node, timed. Prints keys migrated per second, the median of
# ROUNDS runs (default 3) per kind, and the ratio (clusterbus / redis-server).
#
#   benches/cluster/migrate.sh [KEYS=10000]
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/../.."
KEYS=${1:-10000}
ROUNDS=${ROUNDS:-3}
BASE=${BASE:-23000}
# shellcheck source=benches/cluster/lib.sh
. benches/cluster/lib.sh

start() { # kind port
    rm -rf "${WORK:?}/$2"
    start_node "$1" "$2" "$WORK/$2"
    wait_pong "$2"
}

stop_all() {
    xargs kill -9 <"$WORK/pids" 2>/dev/null || true
    rm -f "$WORK/pids"
    sleep 0.3
}

# SET commands for KEYS keys whose slots are in 0-999, values of 100 bytes.
# binascii.crc_hqx is CRC-16/XMODEM, the CRC Redis hashes keys with.
key_commands() {
    python3 - "$KEYS" <<'PY'
import binascii, sys
want, n, i = int(sys.argv[1]), 0, 0
value = "v" * 100
out = []
while n < want:
    key = f"key:{i}"
    i += 1
    if binascii.crc_hqx(key.encode(), 0) % 16384 < 1000:
        out.append(f"SET {key} {value}")
        n += 1
print("\n".join(out))
PY
}
key_commands >"$WORK/keys.txt"

# Seconds `--cluster reshard` of slots 0-999 takes, source to target.
one_round() { # kind
    local src=$BASE dst=$((BASE + 1))
    start "$1" "$src"
    start "$1" "$dst"
    cli "$src" CLUSTER ADDSLOTSRANGE 0 16383 >/dev/null
    cli "$dst" CLUSTER MEET 127.0.0.1 "$src" $((src + 1000)) >/dev/null
    for _ in $(seq 200); do
        [ "$(cli "$dst" CLUSTER INFO | tr -d '\r' | grep -c '^cluster_state:ok')" = 1 ] \
            && [ "$(cli "$src" CLUSTER INFO | tr -d '\r' | grep -c '^cluster_known_nodes:2')" = 1 ] && break
        sleep 0.05
    done
    [ "$(cli "$dst" CLUSTER INFO | tr -d '\r' | grep -c '^cluster_state:ok')" = 1 ] \
        || { echo "$1: the two nodes did not form a cluster" >&2; return 1; }
    timeout 60 redis-cli -p "$src" <"$WORK/keys.txt" >/dev/null
    [ "$(cli "$src" DBSIZE)" = "$KEYS" ] || { echo "loading failed" >&2; return 1; }
    local from to t0 t1
    from=$(cli "$src" CLUSTER MYID)
    to=$(cli "$dst" CLUSTER MYID)
    t0=$(date +%s.%N)
    timeout 300 redis-cli --cluster reshard "127.0.0.1:$src" --cluster-from "$from" \
        --cluster-to "$to" --cluster-slots 1000 --cluster-yes >"$WORK/reshard.log" 2>&1 \
        || { echo "$1: reshard failed:" >&2; tail -5 "$WORK/reshard.log" >&2; return 1; }
    t1=$(date +%s.%N)
    [ "$(cli "$dst" DBSIZE)" = "$KEYS" ] || { echo "$1: $(cli "$dst" DBSIZE) keys arrived" >&2; return 1; }
    stop_all
    awk -v a="$t0" -v b="$t1" -v k="$KEYS" 'BEGIN { printf "%.0f\n", k / (b - a) }'
}

rs=() cs=()
for _ in $(seq "$ROUNDS"); do
    rs+=("$(one_round redis)")
    cs+=("$(one_round clusterbus)")
done
r=$(printf '%s\n' "${rs[@]}" | median)
c=$(printf '%s\n' "${cs[@]}" | median)
printf '%-32s %14s %14s %7s\n' "keys migrated/s ($KEYS keys)" redis-server clusterbus ratio
printf '%-32s %14s %14s %7s\n' "reshard of slots 0-999" "$r" "$c" "$(ratio "$c" "$r")"
