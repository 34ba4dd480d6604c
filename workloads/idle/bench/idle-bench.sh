#!/usr/bin/env bash
# Benchmark: what an idle VM costs the host. vcons-idle runs at 100 Hz for 14 s (natively, or in a
# vcons-hv VM with VCONS_PLATFORM=hv); between seconds 1 and 11 the host CPU time of the process (the
# vcons-hv process on hv: all its threads) is read from /proc/PID/stat (utime+stime, clock ticks) and
# /proc/PID/task/*/schedstat (ns), divided by host wall time. Also the wake-up lateness p50/p99 of the
# whole run. Writes $VCONS_BENCH_OUT/idle[-hv].json.
set -euo pipefail
source "${VCONS_TOP:-.}/tools/bench-platform.sh"
B=${VCONS_BUILD:?}
OUT=${VCONS_BENCH_OUT:?}
DUR=${IDLE_BENCH_DURATION:-$(bench_pick 10 2)}
A=127.0.4.40
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vcons-idle-bench.XXXXXX")
pid=
cleanup() {
	[[ -z $pid ]] || bench_stop "$pid"
	rm -rf "$tmp"
}
trap cleanup EXIT
on_platform $A 1 "$B/guest/vcons-idle" --hz 100 --duration $((DUR + 4)) --interval 1000 </dev/null \
	>"$tmp/out" &
pid=$!
# on_platform is a function: its background job may be a subshell whose child is the program
target=$pid
sleep 0.3
if [[ $(cat /proc/$pid/comm) == bash ]]; then
	target=$(cat /proc/$pid/task/$pid/children | awk '{print $1}')
fi
echo "idle bench: measuring PID $target ($(cat /proc/"$target"/comm))"
# sample: "host_ns utime+stime_ticks cpu_ns" of the process (shell and awk only: quick to start)
sample() {
	local now=${EPOCHREALTIME/./}000 stat ticks ns
	stat=$(cat /proc/"$target"/stat)
	ticks=$(awk '{sub(/.*\) /, ""); print $12 + $13}' <<<"$stat")
	ns=$(cat /proc/"$target"/task/*/schedstat | awk '{s += $1} END {print s}')
	echo "$now $ticks $ns"
}
sleep 0.7
s0=$(sample)
sleep "$DUR"
s1=$(sample)
wait "$pid"
pid=
python3 - "$OUT/idle$BENCH_SUFFIX.json" "$tmp/out" "$BENCH_PLATFORM" "$(getconf CLK_TCK)" "$s0" "$s1" \
	"$target" "$DUR" <<'PY'
import json, os, sys
out, f, platform, hz, s0, s1, target, dur = sys.argv[1:9]
(w0, t0, n0), (w1, t1, n1) = [map(int, s.split()) for s in (s0, s1)]
wall = (w1 - w0) / 1e9
lines = [json.loads(l) for l in open(f)]
last = [l for l in lines if l["type"] == "interval"][-1]
res = {"bench": "idle", "metric": "host_cpu_ms_per_s", "platform": platform,
       "host_cpu_ms_per_s": round((n1 - n0) / 1e6 / wall, 3),
       "host_cpu_ms_per_s_stat": round((t1 - t0) * 1000 / int(hz) / wall, 3),
       "measured_s": round(wall, 3), "hz": 100,
       "wakeups": last["wakeups_total"], "missed": last["missed_total"],
       "lateness_p50_us": last["p50_us"], "lateness_p99_us": last["p99_us"],
       "lateness_max_us": last["max_us"], "lateness_mean_us": round(last["mean_us"], 1),
       "process": "vcons-hv" if platform == "hv" else "vcons-idle",
       "command": f"vcons-idle --hz 100 --duration {int(dur) + 4} --interval 1000 </dev/null"}
json.dump(res, open(out + ".tmp", "w"), indent=1)
os.replace(out + ".tmp", out)
print(f"idle bench ({platform}): {res['host_cpu_ms_per_s']} ms host CPU per s "
      f"(stat: {res['host_cpu_ms_per_s_stat']}), lateness p50 {res['lateness_p50_us']} us "
      f"p99 {res['lateness_p99_us']} us")
PY
