#!/usr/bin/env bash
# hv benchmarks (make bench): the same guest program natively and under vcons-hv, in one run, so the
# ratios compare like with like on a shared machine. Each figure is the median of 5 runs (1 in quick
# mode, with smaller counts). Writes $VCONS_BENCH_OUT/hv.json; without a usable /dev/kvm, exit 77.
set -euo pipefail
source "${VCONS_TOP:-.}/tools/bench-platform.sh"
bench_need_kvm
B=${VCONS_BUILD:-build}
OUT=${VCONS_BENCH_OUT:-build/bench}
P=$B/guest/hv-bench
HV=$B/vcons-hv
reps=$(bench_pick 5 1)
k=$(bench_pick 1 100) # quick mode divides every count by k
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
measure() { # WHERE MODE N: median of $reps runs of the printed value
	for ((i = 0; i < reps; i++)); do
		if [[ $1 == native ]]; then "$P" "$2" "$3"; else "$HV" -- "$P" "$2" "$3"; fi
	done | awk '{print $2}' | median
}
loop_n=$((1000 * 1000 * 1000 / k))
loop_native=$(measure native loop $loop_n)
loop_hv=$(measure hv loop $loop_n)
sys_native=$(measure native syscall $((1000000 / k)))
sys_hv=$(measure hv syscall $((20000 / k)))
thr_native=$(measure native threads $((2000 / k)))
thr_hv=$(measure hv threads $((300 / k)))
touch_native=$(measure native touch 64)
touch_hv=$(measure hv touch 64)
for ((i = 1; i <= reps; i++)); do
	"$HV" --stats "$tmp/s$i.json" -- "$P" first
done
python3 - "$tmp" "$OUT/hv.json" <<PY
import json, os, statistics, sys, glob, platform
tmp, out = sys.argv[1], sys.argv[2]
stats = [json.load(open(f)) for f in sorted(glob.glob(tmp + "/s*.json"))]
first = statistics.median(s["timing_ns"]["create_to_first_run"] for s in stats)
first_exit = statistics.median(s["timing_ns"]["create_to_first_exit"] for s in stats)
overhead = statistics.median(s["memory"]["vmm_overhead_bytes"] for s in stats)
loop_native, loop_hv = $loop_native, $loop_hv
r = {
  "bench": "hv", "platform": "hv", "compares": "the same guest program natively and under vcons-hv",
  "command": "make bench (hv/bench/run.sh)", "repetitions": $reps,
  "host": {"cpu": next((l.split(":",1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
           "kernel": platform.release()},
  "cpu_loop": {"native_ns_per_iter": loop_native, "hv_ns_per_iter": loop_hv,
               "hv_over_native_speed": round(loop_native / loop_hv, 4), "goal_min": 0.98},
  "null_syscall_us": {"native": round($sys_native / 1000, 3), "hv": round($sys_hv / 1000, 3)},
  "vm_create_to_first_guest_instruction_ms": {"value": round(first / 1e6, 3), "goal_max": 5.0,
      "to_first_exit_ms": round(first_exit / 1e6, 3)},
  "vmm_memory_beyond_touched_guest_mib": {"value": round(overhead / 2**20, 2), "goal_max": 4.0},
  "thread_create_join_us": {"native": $thr_native, "hv": $thr_hv},
  "first_touch_per_4k_page_us": {"native": round($touch_native / 1000, 3), "hv": round($touch_hv / 1000, 3)},
}
json.dump(r, open(out + ".tmp", "w"), indent=1)
os.replace(out + ".tmp", out)
print(json.dumps(r, indent=1))
PY
