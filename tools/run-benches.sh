#!/usr/bin/env bash
# Runs every benchmark script the modules declare (BENCHES in module.mk). Each writes one JSON file into
# build/bench/ (VCONS_BENCH_OUT); this script checks each is valid JSON and lists them.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$PWD/build/bench
mkdir -p "$out"
if (($# == 0)); then
	echo "bench: no benchmarks are declared yet"
	exit 0
fi
status=0
# An entry "path/bench.sh@hv" runs the script with VCONS_PLATFORM=hv (its servers in vcons-hv VMs,
# through tools/bench-platform.sh) and VCONS_BENCH_SUFFIX=-hv (so it writes NAME-hv.json).
for entry in "$@"; do
	b=${entry%@*}
	platform=native
	[[ $entry == *@* ]] && platform=${entry##*@}
	suffix=""
	[[ $platform != native ]] && suffix=-$platform
	echo "== bench $b on $platform"
	rc=0
	VCONS_BUILD=$PWD/build VCONS_TOP=$PWD VCONS_BENCH_OUT=$out VCONS_PLATFORM=$platform \
		VCONS_BENCH_SUFFIX=$suffix bash "$b" || rc=$?
	if ((rc == 77)); then
		echo "bench: $entry skipped" >&2
	elif ((rc != 0)); then
		echo "bench: $entry failed (status $rc)" >&2
		status=1
	fi
done
for f in "$out"/*.json; do
	[[ -e $f ]] || continue
	python3 -m json.tool "$f" >/dev/null || { echo "bench: $f is not valid JSON" >&2; status=1; }
	echo "bench: wrote $f"
done
exit $status
