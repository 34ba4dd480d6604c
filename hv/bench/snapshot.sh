#!/usr/bin/env bash
# hv snapshot benchmark (make bench): for a --mem 1G VM running bench/snapguest.c with 64 and 512 MiB
# touched, snapshots of the running VM ("stop": false: pause_ms, write_ms, downtime_ms, bytes on disk
# against the memory touched), restores of them to the first KVM_RUN (--stats'
# timing_ns.restore_to_first_run, goal under 5 ms), and live migrations of a guest that keeps
# rewriting 64 MiB at 128 MiB/s to a `vcons-hv --incoming` on 127.0.0.1 (total_ms, downtime_ms,
# rounds, bytes; goal: downtime p50 under 50 ms, max under 300 ms). Medians of 5 (1 in quick mode,
# with smaller sizes). Goals are reported (pass/fail in the JSON and on stdout), not enforced. A
# vcons-hv without migration answers "unknown command": the migration part is recorded as skipped
# with that answer and the bench still passes. Writes $VCONS_BENCH_OUT/hv-snapshot.json; without a
# usable /dev/kvm, exit 77. The snapshots go to a temporary folder under ${TMPDIR:-/tmp} (its file
# system type is in the JSON).
set -euo pipefail
source "${VCONS_TOP:-.}/tools/bench-platform.sh"
bench_need_kvm
B=${VCONS_BUILD:-build}
OUT=${VCONS_BENCH_OUT:-build/bench}
reps=$(bench_pick 5 1)
sizes=$(bench_pick 64,512 8,32)
mig_touch=$(bench_pick 512 32) mig_set=$(bench_pick 64 8) mig_rate=$(bench_pick 128 16)
mig_downtime_ms=50 # what migrate is asked for: the goal's p50
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$OUT"
python3 "${VCONS_TOP:-.}/hv/bench/snapshot_bench.py" "$B/vcons-hv" "$B/guest/hv-snapguest" "$tmp" \
	"$OUT/hv-snapshot.json" "$reps" 1G "$sizes" "$mig_touch" "$mig_set" "$mig_rate" "$mig_downtime_ms"
