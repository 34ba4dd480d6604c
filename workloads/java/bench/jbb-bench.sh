#!/usr/bin/env bash
# Benchmark: vcons-jbb business operations per second, measured with the HOST clock (jbb reports raw
# counts only): a --duration run's progress lines are stamped on arrival with the host clock;
# the figure is (final ops - first progress ops) / (host time between the two lines). Also the whole
# run's final ops / host wall time of the process (start-up included). Natively, or under vcons-hv
# (VCONS_PLATFORM=hv). Writes $VCONS_BENCH_OUT/jbb[-hv].json.
set -euo pipefail
source "${VCONS_TOP:-.}/tools/bench-platform.sh"
B=${VCONS_BUILD:?}
OUT=${VCONS_BENCH_OUT:?}
DUR=${JBB_BENCH_DURATION:-$(bench_pick 10 2)}
A=127.0.4.30
threads=$(nproc)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vcons-jbb-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# stamps each line with the host's wall clock on arrival (bash, no start-up delay to skew the stamps)
stamp() {
	local line
	while IFS= read -r line; do printf '%s %s\n' "${EPOCHREALTIME/./}" "$line"; done
}
t0=$(date +%s%N)
on_platform $A "$threads" "$B/guest/vcons-jbb" --threads "$threads" --warehouses "$threads" \
	--duration "$DUR" --report-interval 1 --self-check </dev/null | stamp >"$tmp/run.json"
t1=$(date +%s%N)
python3 - "$OUT/jbb$BENCH_SUFFIX.json" "$threads" "$DUR" "$t0" "$t1" "$tmp/run.json" \
	"${BENCH_PLATFORM}" <<'PY'
import json, sys, os
out, threads, dur, t0, t1, f, platform = sys.argv[1:8]
threads, dur, t0, t1 = int(threads), float(dur), int(t0), int(t1)
lines = []
for row in open(f):
    us, text = row.split(" ", 1)
    lines.append((int(us) * 1000, json.loads(text)))
prog = [(h, l) for h, l in lines if l["type"] == "progress"]
check = next((l for h, l in lines if l["type"] == "self_check"), {})
(h0, first), (h1, last) = prog[0], prog[-1]
ops_per_s = (last["ops"] - first["ops"]) / ((h1 - h0) / 1e9)
guest_s = (last["guest_ns"] - first["guest_ns"]) / 1e9
res = {"bench": "jbb", "metric": "jbb_business_ops_per_s", "platform": platform,
       "jbb_business_ops_per_s": round(ops_per_s),
       "ops_per_s_whole_run": round(last["ops"] / ((t1 - t0) / 1e9)),
       "final_ops": last["ops"], "ops_by_type": last["ops_by_type"],
       "host_s_measured": round((h1 - h0) / 1e9, 3), "guest_s_same_span": round(guest_s, 3),
       "host_wall_s": round((t1 - t0) / 1e9, 3),
       "threads": threads, "warehouses": threads, "duration_s": dur, "cpus": os.cpu_count(),
       "gc_pauses": last["pause"]["pauses"], "gc_pause_total_us": last["pause"]["pause_total_us"],
       "gc_pause_total_share": round(last["pause"]["pause_total_us"] / ((t1 - t0) / 1e3), 4),
       "self_check_ok": check.get("ok") is True,
       "command": f"vcons-jbb --threads {threads} --warehouses {threads} --duration {dur:g} --self-check"}
json.dump(res, open(out + ".tmp", "w"), indent=1)
os.replace(out + ".tmp", out)
print(f"jbb bench ({platform}): {res['jbb_business_ops_per_s']} business ops/s (host clock), "
      f"{res['gc_pauses']} collections, self-check ok={res['self_check_ok']}")
sys.exit(0 if res["self_check_ok"] else 1)
PY
