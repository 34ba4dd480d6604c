#!/usr/bin/env bash
# workloads/db/bench/db_bench.sh: vcons-db natively or under vcons-hv (VCONS_PLATFORM=hv). Maximum
# throughput with a closed loop (no think time), then an open-loop run at half that rate for latency
# under load (coordinated-omission corrected p99). Writes $VCONS_BENCH_OUT/db[-hv].json.
set -euo pipefail
source "${VCONS_TOP:-.}/tools/bench-platform.sh"
B=${VCONS_BUILD:-build}
OUT=${VCONS_BENCH_OUT:-$B/bench}
ADDR=127.0.1.12
PORT=5440
USERS=${DB_BENCH_USERS:-8}
SECS=${DB_BENCH_SECONDS:-$(bench_pick 10 2)}
THREADS=${DB_BENCH_THREADS:-$(nproc)}
WH=${DB_BENCH_WAREHOUSES:-2}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vcons-db-bench.XXXXXX")
srv=""
cleanup() {
	[[ -z $srv ]] || bench_stop "$srv"
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$OUT"
on_platform $ADDR "$THREADS" "$B/guest/vcons-db" --load --data "$tmp" --warehouses "$WH" >/dev/null
on_platform $ADDR "$THREADS" "$B/guest/vcons-db" --data "$tmp" --addr $ADDR --port $PORT --threads "$THREADS" >"$tmp/server.out" &
srv=$!
bench_wait_ready "$tmp/server.out" "$srv"
closed_cmd="vcons-db-load --target $ADDR --port $PORT --users $USERS --duration $SECS --json"
"$B/vcons-db-load" --target $ADDR --port $PORT --users "$USERS" --duration "$SECS" --json >"$tmp/closed.json"
max=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    o=json.loads(l)
    if o["type"]=="summary" and o["op"]=="all": print(int(o["ops_per_s"]))' "$tmp/closed.json")
rate=$((max / 2))
open_cmd="vcons-db-load --target $ADDR --port $PORT --rate $rate --users 64 --duration $SECS --json"
"$B/vcons-db-load" --target $ADDR --port $PORT --rate "$rate" --users 64 --duration "$SECS" --json >"$tmp/open.json"
python3 - "$tmp/closed.json" "$tmp/open.json" "$OUT/db$BENCH_SUFFIX.json" "$closed_cmd" "$open_cmd" "$THREADS" "$WH" "$BENCH_PLATFORM" <<'PY'
import json, os, sys
def load(path):
    s = {}
    for line in open(path):
        o = json.loads(line)
        if o["type"] == "summary":
            s[o["op"]] = o
    return s
closed, opened = load(sys.argv[1]), load(sys.argv[2])
keep = ["ops", "errors", "ops_per_s", "mean_us", "p50_us", "p90_us", "p99_us", "p99_9_us", "max_us"]
res = {
    "bench": "db",
    "what": "vcons-db (SQLite WAL, synchronous=NORMAL) on loopback, TPC-C mix",
    "platform": sys.argv[8],
    "server_threads": int(sys.argv[6]), "warehouses": int(sys.argv[7]), "scale": 10,
    "max_throughput": {
        "command": sys.argv[4],
        "tx_per_s": closed["all"]["ops_per_s"],
        "new_order_per_min": closed["new_order"]["ops_per_s"] * 60,
        "errors": closed["all"]["errors"],
        "p99_us": closed["all"]["p99_us"],
        "generator_cpu_us": closed["all"]["cpu_us"],
        "per_tx": {k: {f: v[f] for f in keep} for k, v in closed.items()},
    },
    "half_load_open_loop": {
        "command": sys.argv[5],
        "target_tx_per_s": opened["all"]["target_rate"],
        "tx_per_s": opened["all"]["ops_per_s"],
        "errors": opened["all"]["errors"], "unsent": opened["all"]["unsent"],
        "p50_us": opened["all"]["p50_us"], "p99_us": opened["all"]["p99_us"],
        "p99_9_us": opened["all"]["p99_9_us"], "max_us": opened["all"]["max_us"],
        "per_tx": {k: {f: v[f] for f in keep} for k, v in opened.items()},
    },
}
json.dump(res, open(sys.argv[3] + ".tmp", "w"), indent=1)
os.replace(sys.argv[3] + ".tmp", sys.argv[3])
print(f"db: max {res['max_throughput']['tx_per_s']:.0f} tx/s (p99 {res['max_throughput']['p99_us']} us); "
      f"open loop at {res['half_load_open_loop']['target_tx_per_s']:.0f}/s: p99 {res['half_load_open_loop']['p99_us']} us")
PY
