#!/usr/bin/env bash
# tools/run-tsan.sh --build build/tsan --unit "BINARY..." [--only "db web ..."] [--tap]: `make tsan`'s
# runner, and (--tap: one TAP line per scenario, no summary) a test script of `make test` (tools/test/tsan.sh).
# Runs vcons's threaded code built with ThreadSanitizer (make TSAN=1), natively, for a few seconds
# each: the unit tests that start threads (those whose binary calls pthread_create), each threaded
# server driven by its own load generator (db, web over HTTP, TLS 1.3 and TLS 1.2, mail with half
# its connections under TLS), vcons-jbb and vcons-idle self-driven, and one short `vcons run
# --platform native` under the fast test rules.
# Every process writes its TSan reports to its own file below BUILD/tsan-logs/<scenario>/
# (TSAN_OPTIONS log_path); a scenario fails when a report appears or a program fails. Known false
# positives of system libraries are suppressed in tools/tsan.supp (vcons's own code never is). Ends
# with "N passed, N failed"; exit 1 on a failure. Network: 127.0.9.0/24 for the servers; the harness
# run's VMs are 127.9.0.<vm> (its --net 127.B gives whole /16s only).
set -uo pipefail
cd "$(dirname "$0")/.."
build=build/tsan unit="" only="" tap=0
while (($#)); do
	case $1 in
	--build) build=$2; shift 2 ;;
	--unit) unit=$2; shift 2 ;;
	--only) only=$2; shift 2 ;; # some of: units db web mail selfdriven harness
	--tap) tap=1; shift ;;
	*) echo "run-tsan: unknown option $1" >&2; exit 2 ;;
	esac
done
B=$(realpath "$build")
VCONS_BUILD=$B VCONS_TOP=$PWD source tools/testlib.sh
set +e
LOGS=$B/tsan-logs
rm -rf "$LOGS"
mkdir -p "$LOGS"
SUPP=$PWD/tools/tsan.supp
A=127.0.9
passed=0 failed=0
failures=()

# use_logs NAME: the scenario NAME's reports go to $LOGS/NAME/tsan.<pid>. exitcode=0: a report does
# not change a program's exit status (the log files are the verdict), so a harness run is not made
# invalid by a VM that exits 66.
use_logs() {
	mkdir -p "$LOGS/$1"
	export TSAN_OPTIONS="halt_on_error=0 exitcode=0 second_deadlock_stack=1 history_size=4 \
suppressions=$SUPP print_suppressions=1 log_path=$LOGS/$1/tsan"
	CUR=$1
	T0=$(date +%s%N)
}

# say PASS|FAIL NAME TEXT: the scenario's line, for a person or (--tap) for tools/run-tests.sh.
say() {
	if ((tap)); then
		[[ $1 == PASS ]] && echo "ok - $2 ($3)" || echo "not ok - $2: $3"
	else
		printf '  %s  %s%s\n' "$1" "$2" "$([[ $1 == PASS ]] && echo " ($3)" || echo ": $3")"
	fi
}

# verdict NAME RC [WHY]: one line for the scenario; fails on a non-zero RC or any TSan report.
verdict() {
	local name=$1 rc=$2 why=${3:-} n sums t
	t=$(printf '%d.%d s' $((($(date +%s%N) - T0) / 1000000000)) $((($(date +%s%N) - T0) / 100000000 % 10)))
	n=$(cat "$LOGS/$name"/tsan.* 2>/dev/null | grep -c '^WARNING: ThreadSanitizer')
	if ((n > 0)); then
		sums=$(cat "$LOGS/$name"/tsan.* | sed -n 's/^SUMMARY: ThreadSanitizer: //p' | sort | uniq -c |
			sort -rn | head -3 | sed 's/^ *//' | paste -sd ';' -)
		failed=$((failed + 1))
		failures+=("$name: $n TSan report(s): $sums (logs: $LOGS/$name/)")
		say FAIL "$name" "$n TSan report(s): $sums"
	elif ((rc != 0)); then
		failed=$((failed + 1))
		failures+=("$name: ${why:-exit status $rc}")
		say FAIL "$name" "${why:-exit status $rc}"
	else
		passed=$((passed + 1))
		n=$(cat "$LOGS/$name"/tsan.* 2>/dev/null | awk '/^ThreadSanitizer: Matched/ { n += $3 } END { print n + 0 }')
		((n)) && t="$t; $n report(s) suppressed by tools/tsan.supp"
		say PASS "$name" "$t"
	fi
}

# wait_ready FILE PID: t_wait_ready with 20 s, as TSan slows start-up.
wait_ready() { t_wait_ready "$1" "$2" 20; }

# stop PID: t_stop with 10 s; the program's exit status, 1 when it had to be killed.
stop() { t_stop "$1" 10; }

run_units() {
	local bin name rc
	for bin in $unit; do
		name=$(basename "$bin")
		# (grep -c reads all of nm's output: with -q, nm's SIGPIPE would fail the pipe)
		(($(nm -D "$bin" 2>/dev/null | grep -cw 'U pthread_create'))) || continue
		use_logs "unit-$name"
		CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 10 120 "$bin" >"$LOGS/$CUR/out" 2>&1 </dev/null
		rc=$?
		verdict "$CUR" "$rc"
	done
}

db() {
	local d=$T_TMP/db rc=0 pid
	use_logs db
	mkdir -p "$d"
	"$B/guest/vcons-db" --load --data "$d" --warehouses 1 >"$LOGS/db/load.out" 2>&1 || rc=1
	spawn "$B/guest/vcons-db" --data "$d" --addr $A.1 --threads 2 >"$LOGS/db/server.out" 2>&1
	pid=$!
	wait_ready "$LOGS/db/server.out" $pid || { verdict db 1 "vcons-db did not start"; return; }
	timeout 60 "$B/vcons-db-load" --target $A.1 --users 4 --duration 3 >"$LOGS/db/closed.out" 2>&1 || rc=1
	timeout 60 "$B/vcons-db-load" --target $A.1 --rate 100 --users 8 --duration 2 \
		>"$LOGS/db/open.out" 2>&1 || rc=1
	stop $pid || rc=1
	verdict db $rc
}

web() {
	local d=$T_TMP/web rc=0 pid l
	l=(--target $A.2 --files 100 --bank-users 100 --duration 2)
	use_logs web
	"$B/guest/vcons-web" --load --data "$d" --files 100 --addr $A.2 >"$LOGS/web/load.out" 2>&1 || rc=1
	spawn "$B/guest/vcons-web" --addr $A.2 --data "$d" --files 100 --users 100 --threads 2 \
		>"$LOGS/web/server.out" 2>&1
	pid=$!
	wait_ready "$LOGS/web/server.out" $pid || { verdict web 1 "vcons-web did not start"; return; }
	timeout 60 "$B/vcons-web-load" "${l[@]}" --users 4 >"$LOGS/web/http.out" 2>&1 || rc=1
	timeout 60 "$B/vcons-web-load" "${l[@]}" --users 4 --https --cacert "$d/cert.pem" \
		--session-pages 3 >"$LOGS/web/tls13.out" 2>&1 || rc=1
	timeout 60 "$B/vcons-web-load" "${l[@]}" --users 2 --tls12 --cacert "$d/cert.pem" \
		--session-pages 2 --user-base 50 >"$LOGS/web/tls12.out" 2>&1 || rc=1
	stop $pid || rc=1
	verdict web $rc
}

mail() {
	local rc=0 pid idle why=""
	use_logs mail
	spawn "$B/guest/vcons-mail" --addr $A.3 --data "$T_TMP/mail" --users 8 --threads 2 \
		--idle-timeout 1 >"$LOGS/mail/server.out" 2>&1
	pid=$!
	wait_ready "$LOGS/mail/server.out" $pid || { verdict mail 1 "vcons-mail did not start"; return; }
	# an idle IMAP connection, so the idle sweep (main thread) times one out while workers serve
	exec {idle}<>/dev/tcp/$A.3/1143
	timeout 60 "$B/vcons-mail-load" --target $A.3 --users 8 --duration 3 --journal "$T_TMP/mail.j" --tls-pct 50 \
		>"$LOGS/mail/load.out" 2>&1 || rc=1
	timeout 5 cat <&$idle >"$LOGS/mail/idle.out" # its greeting, then BYE once timed out
	exec {idle}<&-
	grep -q '^\* BYE' "$LOGS/mail/idle.out" || { rc=1 why="the idle connection was not timed out"; }
	stop $pid || rc=1
	verdict mail $rc "$why"
}

selfdriven() {
	local rc
	use_logs jbb
	timeout 60 "$B/guest/vcons-jbb" --threads 2 --warehouses 2 --duration 3 --report-interval 0.5 \
		--gc-every 2000 --self-check </dev/null >"$LOGS/jbb/out" 2>&1
	rc=$?
	verdict jbb $rc
	use_logs idle
	timeout 60 "$B/guest/vcons-idle" --duration 2 --interval 0.5 </dev/null >"$LOGS/idle/out" 2>&1
	rc=$?
	verdict idle $rc
}

# One CSU under the fast test rules (about 20 s of phases). The run may come out invalid (TSan makes
# every VM several times slower); only failing to run (exit 1, 2, 3, 5) counts, besides reports.
harness() {
	local rc
	use_logs harness
	CI=true timeout 300 "$B/vcons" run --platform native --net 127.9 --rules harness/test/data/fast.yaml \
		--csu-profile csu/small.yaml --out "$T_TMP/results" >"$LOGS/harness/out" 2>&1
	rc=$?
	((rc == 4)) && echo "  note  harness: the run was invalid under TSan ($(grep -m1 -i invalid "$LOGS/harness/out"))"
	verdict harness $((rc == 4 ? 0 : rc))
}

echo "== ThreadSanitizer ($build)"
for s in ${only:-run_units db web mail selfdriven harness}; do
	[[ $s == units ]] && s=run_units
	$s
done
if ((tap)); then
	echo "logs: $LOGS/"
	((failed == 0 && passed > 0))
	exit
fi
if ((${#failures[@]})); then
	echo "== failures"
	printf '  %s\n' "${failures[@]}"
fi
echo "logs: $LOGS/"
echo "$passed passed, $failed failed"
((failed == 0 && passed > 0))
