#!/usr/bin/env bash
# Runs every benchmark script the modules declare (BENCHES in module.mk). Each writes one JSON file into
# build/bench/ (VCONS_BENCH_OUT); this script checks each is valid JSON and lists them.
# VCONS_BENCH_QUICK=1 (make bench QUICK=1) runs each for a second or two to prove the scripts work
# (tools/bench-platform.sh); those files go to build/bench-quick/ and carry "quick": true, so they are
# never taken for figures.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n ${VCONS_BENCH_QUICK:-} ]]; then
	out=${VCONS_BENCH_OUT:-$PWD/build/bench-quick}
else
	out=${VCONS_BENCH_OUT:-$PWD/build/bench}
fi
mkdir -p "$out"
if (($# == 0)); then
	echo "bench: no benchmarks are declared yet"
	exit 0
fi
status=0 skipped=0
# An entry "path/bench.sh@hv" runs the script with VCONS_PLATFORM=hv (its servers in vcons-hv VMs,
# through tools/bench-platform.sh) and VCONS_BENCH_SUFFIX=-hv (so it writes NAME-hv.json).
for entry in "$@"; do
	b=${entry%@*}
	platform=native
	[[ $entry == *@* ]] && platform=${entry##*@}
	suffix=""
	[[ $platform != native ]] && suffix=-$platform
	echo "== bench $b on $platform${VCONS_BENCH_QUICK:+ (quick: proves the script, figures mean nothing)}"
	rc=0
	VCONS_BUILD=${VCONS_BUILD:-$PWD/build} VCONS_TOP=$PWD VCONS_BENCH_OUT=$out VCONS_PLATFORM=$platform \
		VCONS_BENCH_SUFFIX=$suffix bash "$b" || rc=$?
	if ((rc == 77)); then
		echo "bench: $entry skipped" >&2
		skipped=$((skipped + 1))
	elif ((rc != 0)); then
		echo "bench: $entry failed (status $rc)" >&2
		status=1
	fi
done
for f in "$out"/*.json; do
	[[ -e $f ]] || continue
	if [[ -n ${VCONS_BENCH_QUICK:-} ]]; then
		python3 - "$f" <<'PY' || status=1
import json, os, sys
f = sys.argv[1]
r = json.load(open(f))
r["quick"] = True
json.dump(r, open(f + ".tmp", "w"), indent=1)
os.replace(f + ".tmp", f)
PY
	fi
	python3 -m json.tool "$f" >/dev/null || { echo "bench: $f is not valid JSON" >&2; status=1; }
	echo "bench: wrote $f"
done
((skipped == 0)) || echo "bench: $skipped skipped (see above why)"
exit $status
