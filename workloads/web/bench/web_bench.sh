#!/usr/bin/env bash
# workloads/web/bench/web_bench.sh: the web VM's figures, natively, written to
# $VCONS_BENCH_OUT/web.json:
#  - maximum throughput and p99 of vcons-web under vcons-web-load's banking mix, closed loop
#    (HTTP and HTTPS);
#  - generator efficiency: requests per client CPU-second of vcons-web-load and of wrk driving the
#    same server, same page, same number of keep-alive connections, one after the other in this
#    run (client CPU = user + system time of the client process, from bash's `time`).
# Server and clients share this machine's CPUs; the figures say so ("cpus").
set -uo pipefail
B=${VCONS_BUILD:-$(cd "$(dirname "$0")/../../.." && pwd)/build}
TOP=${VCONS_TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
source "$TOP/tools/bench-platform.sh"
OUT=${VCONS_BENCH_OUT:-$B/bench}
ADDR=${WEB_BENCH_ADDR:-127.0.2.9}
DUR=${WEB_BENCH_SECONDS:-5}
PAGE=/static/f00999.bin
mkdir -p "$OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vcons-web-bench.XXXXXX")
PID=""
cleanup() {
	[[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[[ -n ${WEB_BENCH_KEEP:-} ]] || rm -rf "$TMP"
}
trap cleanup EXIT

on_platform $ADDR "$(nproc)" "$B/guest/vcons-web" --load --data "$TMP/data" --addr $ADDR >/dev/null || exit 1
on_platform $ADDR "$(nproc)" "$B/guest/vcons-web" --addr $ADDR --data "$TMP/data" >"$TMP/web.out" 2>"$TMP/web.err" &
PID=$!
for ((i = 0; i < 100; i++)); do
	grep -q '^ready$' "$TMP/web.out" && break
	sleep 0.1
done
grep -q '^ready$' "$TMP/web.out" || { cat "$TMP/web.err" >&2; exit 1; }

cpu_of() { # OUTFILE CMD...: runs CMD with stdout to OUTFILE; prints its user+sys CPU seconds
	local f=$1 t
	shift
	t=$({ TIMEFORMAT='%U %S'; time "$@" >"$f" 2>&1; } 2>&1)
	awk '{print $1 + $2}' <<<"$t"
}

# Maximum throughput: closed loop, the banking mix, a few user counts (the best one is the figure).
for u in 4 8 16; do
	"$B/vcons-web-load" --target $ADDR --users $u --duration "$DUR" --interval 0 --json \
		--user-base $((u * 100)) >"$TMP/mix_http_$u.json" || exit 1
done
"$B/vcons-web-load" --target $ADDR --users 16 --duration "$DUR" --interval 0 --json --https \
	--cacert "$TMP/data/cert.pem" --user-base 5000 >"$TMP/mix_https_16.json" || exit 1
# Efficiency: the same page over the same number of keep-alive connections, ours then wrk's.
for c in 2 16; do
	cpu=$(cpu_of "$TMP/page_$c.json" "$B/vcons-web-load" --target $ADDR --users $c \
		--duration "$DUR" --interval 0 --json --page $PAGE --session-pages 1000000)
	echo "$cpu" >"$TMP/page_$c.cpu"
	cpu=$(cpu_of "$TMP/wrk_$c.txt" wrk -t1 -c$c -d"${DUR}s" "http://$ADDR:8080$PAGE")
	echo "$cpu" >"$TMP/wrk_$c.cpu"
done

python3 - "$TMP" "$DUR" "$PAGE" "$(nproc)" >"$OUT/web$BENCH_SUFFIX.json" <<'PY'
import json, re, sys
tmp, dur, page, cpus = sys.argv[1:5]
def lines(p):
    return [json.loads(l) for l in open(p) if l.startswith("{")]
def mix(p, users):
    ls = lines(p)
    s = [l for l in ls if l["type"] == "summary" and l["op"] == "all"][0]
    r = [l for l in ls if l["type"] == "result"][0]
    q = {l["page"]: {"good_pct": l["good_pct"], "tolerable_pct": l["tolerable_pct"]}
         for l in ls if l["type"] == "qos"}
    return {"users": users, "pages_per_s": s["ops_per_s"], "p50_us": s["p50_us"],
            "p99_us": s["p99_us"], "errors": r["errors"], "pages": r["ops"], "qos": q}
def eff(c):
    r = [l for l in lines("%s/page_%d.json" % (tmp, c)) if l["type"] == "result"][0]
    ours_cpu = float(open("%s/page_%d.cpu" % (tmp, c)).read())
    wrk = open("%s/wrk_%d.txt" % (tmp, c)).read()
    wrk_cpu = float(open("%s/wrk_%d.cpu" % (tmp, c)).read())
    wrk_reqs = int(re.search(r"(\d+) requests in", wrk).group(1))
    ours_eff, wrk_eff = r["ops"] / ours_cpu, wrk_reqs / wrk_cpu
    return {"connections": c,
            "ours": {"requests": r["ops"], "errors": r["errors"], "client_cpu_s": ours_cpu,
                     "requests_per_cpu_s": ours_eff, "requests_per_s": r["ops_per_s"]},
            "wrk": {"requests": wrk_reqs,
                    "errors_reported": re.search(r"Non-2xx|Socket errors", wrk) is not None,
                    "client_cpu_s": wrk_cpu, "requests_per_cpu_s": wrk_eff},
            "wrk_over_ours": wrk_eff / ours_eff}
runs = [mix("%s/mix_http_%d.json" % (tmp, u), u) for u in (4, 8, 16)]
best = max(runs, key=lambda r: r["pages_per_s"])
json.dump({
    "bench": "web", "cpus": int(cpus), "duration_s": float(dur),
    "server": "vcons-web native, threads = cpus, sharing the cpus with the client",
    "max_throughput_http_closed": best,
    "http_closed_runs": runs,
    "https_closed": mix(tmp + "/mix_https_16.json", 16),
    "efficiency": {"page": page, "goal": "wrk_over_ours <= 2",
                   "runs": [eff(2), eff(16)]},
}, sys.stdout, indent=1)
print()
PY
cat "$OUT/web$BENCH_SUFFIX.json"
