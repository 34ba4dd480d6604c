#!/usr/bin/env bash
# tools/run-fuzz.sh: runs fuzz targets under libFuzzer (`make fuzz` builds them with FUZZ=1 and calls
# this). Each target NAME:CORPUS runs for --seconds with a working corpus in BUILD/corpus/NAME seeded
# from the checked-in CORPUS; crashes, leaks and timeouts land in BUILD/crash/NAME-*. With --merge 1
# the inputs that reached new coverage are minimised into CORPUS, to be reviewed and committed.
# Ends with one line per target and exits 1 if any target failed.
set -uo pipefail
cd "$(dirname "$0")/.."
build=build/fuzz seconds=60 merge=0
while (($#)); do
	case $1 in
	--build) build=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--merge) merge=$2; shift 2 ;;
	--*) echo "run-fuzz: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "run-fuzz: --seconds wants a whole number > 0, not '$seconds'" >&2; exit 2; }
(($#)) || { echo "run-fuzz: no fuzz targets given (make fuzz-list shows them)" >&2; exit 2; }
mkdir -p "$build/logs" "$build/crash"
summary=() bad=0
for spec in "$@"; do
	name=${spec%%:*} corpus=${spec#*:}
	bin=$build/fuzz/$name
	[[ -x $bin ]] || { echo "run-fuzz: $bin not built (unknown target '$name'?)" >&2; exit 2; }
	[[ -d $corpus ]] || { echo "run-fuzz: $name: corpus folder $corpus missing" >&2; exit 2; }
	work=$build/corpus/$name log=$build/logs/$name.log
	mkdir -p "$work"
	echo "== $name: ${seconds}s, corpus $corpus (log $log)"
	# -timeout: an input that takes over 10 s is a hang; -rss_limit_mb: one over 2 GiB is a leak.
	ASAN_OPTIONS=detect_leaks=1 "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$build/crash/$name-" "$work" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
	if ((rc == 0)); then
		line="ok    $name: ${execs:-?} runs, ${cov:-cov: ?}"
		if ((merge)); then
			before=$(find "$corpus" -type f | wc -l)
			# edges only (not hit counts): keeps the checked-in corpus small
			"$bin" -merge=1 -use_counters=0 "$corpus" "$work" >>"$log" 2>&1 || line="$line, merge failed"
			line="$line, corpus $before -> $(find "$corpus" -type f | wc -l) inputs"
		fi
	else
		bad=1
		art=$(grep -oE "Test unit written to .*" "$log" | tail -1)
		line="FAIL  $name: $(grep -m1 -oE 'ERROR: [A-Za-z]+: .*|runtime error: .*|fuzz_assert.*|ALARM.*' "$log"); ${art:-see $log}"
		tail -n 30 "$log" | sed 's/^/  | /'
	fi
	summary+=("$line")
	echo "$line"
done
echo "== fuzz summary"
printf '  %s\n' "${summary[@]}"
((bad)) && echo "a crashing input reproduces with: build/san/fuzz/NAME FILE (make SAN=1 fuzzers); keep it in the corpus as a regression input once fixed"
exit "$bad"
