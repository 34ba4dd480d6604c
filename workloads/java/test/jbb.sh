#!/usr/bin/env bash
# E2E: vcons-jbb natively or under vcons-hv (VCONS_PLATFORM=hv): progress lines are valid JSON with
# increasing business-op counts and no rate of its own; closing stdin (the harness's in-band stop) and
# a "stop" line end it within 2 s with a final line; --duration with stdin on /dev/null runs the whole
# duration; --self-check passes; reports go to --report HOST:PORT; SIGTERM stops it cleanly natively
# (under hv a signal to the VMM ends the VM); bad options exit 2.
source "$VCONS_TOP/tools/testlib.sh"
source "$VCONS_TOP/workloads/common/test/guestlib.sh"
require_platform "jbb on $PLATFORM"
JBB=$B/guest/vcons-jbb
# Collections come every GC allocations; a small figure makes the runs below collect a few times even
# on a platform that runs them 1,000 times slower than native (hv nested in an emulator).
GC="--gc-every 2000"
A=127.0.4.10

# check_progress FILE: the lines are JSON; progress ops increase, add up by type, no rates; a final line.
check_progress() {
	python3 - "$1" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines[0]["type"] == "start" and lines[0]["role"] == "java", lines[0]
prog = [l for l in lines if l["type"] == "progress"]
assert len(prog) >= 3, f"{len(prog)} progress lines"
ops = [p["ops"] for p in prog]
assert all(b > a for a, b in zip(ops, ops[1:])), f"ops not increasing: {ops}"
for p in prog:
    assert sum(p["ops_by_type"].values()) == p["ops"], p
    assert set(p["ops_by_type"]) == {"new_order", "payment", "order_status", "delivery",
                                    "stock_level", "customer_report"}, p["ops_by_type"]
    assert isinstance(p["guest_ns"], int) and p["csu"] == 3 and p["threads"] == 2
    assert "pauses" in p["pause"] and "pause_total_us" in p["pause"] and "p99_us" in p["pause"]
    assert 0 < p["live_objects"] <= lines[0]["live_bound"], p["live_objects"]
    assert not any("per_s" in k or "rate" in k for k in p), f"a rate in {list(p)}"
assert prog[-1].get("final") is True and not any(p.get("final") for p in prog[:-1])
assert prog[-1]["pause"]["pauses"] > 0, "no collection ran"
print(f"{len(prog)} progress lines, final ops {ops[-1]}, pauses {prog[-1]['pause']['pauses']}")
PY
}

# 1. Until stopped: closing stdin ends it within 2 s with a final line.
feed_start "$JBB" --threads 2 --warehouses 2 --report-interval 0.5 --csu 3 $GC
if wait_lines "$T_TMP/out" progress 4; then t_ok "progress lines arrive"; else
	t_fail "progress lines arrive" "$(head -c 300 "$T_TMP/out") $(cat "$T_TMP/err")"
fi
check_eof_stop
if check_progress "$T_TMP/out"; then t_ok "progress lines: JSON, ops increasing, final line"; else
	t_fail "progress lines: JSON, ops increasing, final line"
fi
cp "$T_TMP/out" "$T_TMP/run1.out"

# 2. A "stop" line on stdin stops it too.
feed_start "$JBB" --threads 2 --report-interval 0.3 --csu 3
wait_lines "$T_TMP/out" progress 3
check_stop_line

# 3. --duration with stdin at EOF runs the whole duration, then the self-check passes.
t0=$(date +%s%N)
run_guest "$JBB" --threads 2 --duration 2 --report-interval 0.5 --csu 3 $GC --self-check </dev/null \
	>"$T_TMP/dur.out" 2>"$T_TMP/dur.err"
rc=$? t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
[[ $rc == 0 && $ms -ge 1900 ]] && t_ok "--duration 2 with stdin at EOF runs 2 s (${ms} ms), exit 0" ||
	t_fail "--duration 2 with stdin at EOF runs 2 s" "rc=$rc ${ms} ms $(cat "$T_TMP/dur.err")"
if grep -q '"type":"self_check".*"ok":true' "$T_TMP/dur.out" &&
	[[ $(tail -1 "$T_TMP/dur.out") == *self_check* ]]; then
	t_ok "--self-check passes ($(grep -o '"checks":[0-9]*' "$T_TMP/dur.out"))"
else
	t_fail "--self-check passes" "$(tail -1 "$T_TMP/dur.out")"
fi
check_progress "$T_TMP/dur.out" >/dev/null && t_ok "a --duration run reports like an open one" ||
	t_fail "a --duration run reports like an open one"

# 4. --report HOST:PORT: every line goes to the TCP peer, none to stdout.
if listen_start $A "$T_TMP/net.out"; then
	run_guest "$JBB" --threads 2 --duration 1.6 --report-interval 0.4 --csu 3 $GC --report $A:$LPORT \
		</dev/null >"$T_TMP/net.stdout" 2>"$T_TMP/net.err"
	rc=$?
	wait_exit $LISTENER 5
	if [[ $rc == 0 && ! -s $T_TMP/net.stdout ]] && check_progress "$T_TMP/net.out" >/dev/null; then
		t_ok "--report $A:PORT carries the report lines"
	else
		t_fail "--report $A:PORT carries the report lines" "rc=$rc $(cat "$T_TMP/net.err")"
	fi
else
	t_fail "--report $A:PORT carries the report lines" "the listener did not start"
fi
run_guest "$JBB" --duration 1 --report 127.0.4.11:1 </dev/null >/dev/null 2>"$T_TMP/refused.err"
rc=$?
[[ $rc == 1 ]] && grep -q "cannot connect" "$T_TMP/refused.err" && t_ok "an unreachable --report exits 1" ||
	t_fail "an unreachable --report exits 1" "rc=$rc $(cat "$T_TMP/refused.err")"

# 5. SIGTERM: natively a clean stop with a final line; under hv the VMM ends the VM (128+15).
feed_start "$JBB" --threads 2 --report-interval 0.3 --csu 3
wait_lines "$T_TMP/out" progress 2
check_sigterm

# 6. Usage.
check_usage "$JBB" --self-check \
	"--bogus" "--warehouses 0" "--threads x" "--duration -1" "--report-interval 0" "--gc-every 5" "extra"
t_done
