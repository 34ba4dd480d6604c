#!/usr/bin/env bash
# The vcons test runner. Runs cmocka unit-test binaries (TAP output) and end-to-end scripts (which print
# TAP-style lines through tools/testlib.sh), each under a time limit, logs each to build/test-logs/, and
# ends with one line: "N passed, N failed[, N skipped]". Exits 1 if anything failed or nothing ran.
set -uo pipefail
cd "$(dirname "$0")/.."
build=build unit="" san="" e2e=""
while (($#)); do
	case $1 in
	--build) build=$2; shift 2 ;;
	--unit) unit=$2; shift 2 ;;
	--san-unit) san=$2; shift 2 ;;
	--e2e) e2e=$2; shift 2 ;;
	*) echo "run-tests: unknown option $1" >&2; exit 2 ;;
	esac
done
logs=$build/test-logs
mkdir -p "$logs"
passed=0 failed=0 skipped=0
failures=()
UNIT_TIMEOUT=${VCONS_UNIT_TIMEOUT:-300}
E2E_TIMEOUT=${VCONS_E2E_TIMEOUT:-900}

# count LABEL LOG RC: tallies the TAP lines of one test program's log.
count() {
	local label=$1 log=$2 rc=$3 line n_fail=0 n_any=0
	while IFS= read -r line; do
		case $line in
		"ok "*"# SKIP"* | "not ok "*"# SKIP"*)
			skipped=$((skipped + 1)) n_any=$((n_any + 1))
			printf '  SKIP  %s: %s\n' "$label" "${line#*# SKIP}" ;;
		"ok "*)
			passed=$((passed + 1)) n_any=$((n_any + 1))
			printf '  PASS  %s: %s\n' "$label" "$(sed -E 's/^ok [0-9]* ?-? ?//' <<<"$line")" ;;
		"not ok "*)
			failed=$((failed + 1)) n_fail=$((n_fail + 1)) n_any=$((n_any + 1))
			failures+=("$label: ${line#not ok }")
			printf '  FAIL  %s: %s\n' "$label" "$(sed -E 's/^not ok [0-9]* ?-? ?//' <<<"$line")" ;;
		esac
	done < <(grep -aE '^(not )?ok ' "$log")
	if ((rc != 0 && n_fail == 0)); then
		failed=$((failed + 1))
		local why="exit status $rc"
		((rc == 124)) && why="timed out"
		((n_any == 0)) && why="$why, no test results"
		failures+=("$label: $why")
		printf '  FAIL  %s: %s\n' "$label" "$why"
	fi
	if ((rc != 0 || n_fail > 0)); then
		echo "  ---- last lines of $log ----"
		tail -n 25 "$log" | sed 's/^/  | /'
	fi
}

run_unit() { # KIND BINARY...
	local kind=$1 bin name rc
	shift
	for bin in "$@"; do
		name=$(basename "$bin")
		[[ -x $bin ]] || { count "$kind $name" /dev/null 127; continue; }
		CMOCKA_MESSAGE_OUTPUT=TAP ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			timeout -k 10 "$UNIT_TIMEOUT" "$bin" >"$logs/$kind-$name.log" 2>&1 </dev/null
		rc=$?
		# cmocka exits with the number of failed tests; count() sees those as "not ok" lines.
		count "$kind $name" "$logs/$kind-$name.log" "$rc"
	done
}

# An entry "path/test.sh@hv" runs the script with VCONS_PLATFORM=hv: its guest programs run in
# vcons-hv VMs (tools/testlib.sh: spawn_guest, run_guest).
run_e2e() {
	local entry script platform name rc
	for entry in "$@"; do
		script=${entry%@*}
		platform=native
		[[ $entry == *@* ]] && platform=${entry##*@}
		name=${script%.sh}
		name=${name//\//-}
		[[ $platform != native ]] && name="$name@$platform"
		VCONS_BUILD=$(realpath "$build") VCONS_TOP=$PWD VCONS_PLATFORM=$platform \
			timeout -k 10 "$E2E_TIMEOUT" bash "$script" >"$logs/e2e-$name.log" 2>&1 </dev/null
		rc=$?
		count "$name" "$logs/e2e-$name.log" "$rc"
	done
}

# shellcheck disable=SC2086
[[ -n $unit ]] && { echo "== unit tests"; run_unit unit $unit; }
# shellcheck disable=SC2086
[[ -n $san ]] && { echo "== unit tests under ASan+UBSan"; run_unit asan $san; }
# shellcheck disable=SC2086
[[ -n $e2e ]] && { echo "== end-to-end tests"; run_e2e $e2e; }

if ((${#failures[@]})); then
	echo "== failures"
	printf '  %s\n' "${failures[@]}"
fi
echo "logs: $logs/"
summary="$passed passed, $failed failed"
((skipped)) && summary="$summary, $skipped skipped"
echo "$summary"
((failed == 0 && passed + skipped > 0))
