#!/usr/bin/env bash
# harness/test/run.sh: `vcons run` end to end on the test's platform (native, or hv for the @hv
# entry): a one-CSU run under the quick rules checked against results/schema.json with an
# independent validator; all five VMs ran and reported; a VM killed with SIGKILL makes the run
# invalid with that reason; SIGINT aborts with a partial result; no process outlives a run; bad
# CSU and rules files get one line naming file, line and field, and their own exit code. On hv, every
# busy VM's exits per unit of work are within issue 17's budgets (results/SCHEMA.md).
set -uo pipefail
cd "$(dirname "$0")/../.."
source tools/testlib.sh
require_platform "quick run" "schema" "five VMs reported" "exits per unit of work" "killed VM" "interrupted run" "no leftovers"
VCONS=build/vcons
tmp=$(mktemp -d /tmp/vcons-run-test.XXXXXX)
trap 't_cleanup; rm -rf "$tmp"' EXIT
FAST=harness/test/data/fast.yaml

# Every PID a run printed ("started NAME: pid N") must be gone once vcons has exited (a zombie
# waiting for init to reap it is gone; a process still alive after 5 s is a leftover).
alive() { [[ -r /proc/$1/stat ]] && [[ $(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) != Z ]]; }
no_leftovers() {
	local out=$1 left="" pids
	pids=$(sed -n 's/.*started [^:]*: pid \([0-9]*\)$/\1/p' "$out")
	for _ in $(seq 50); do
		left=""
		for pid in $pids; do alive "$pid" && left+=" $pid"; done
		[[ -z $left ]] && break
		sleep 0.1
	done
	[[ -z $left ]] || { echo "still running:$left"; return 1; }
	[[ $(grep -c 'started .*: pid' "$out") -ge 8 ]] || { echo "too few started lines"; return 1; }
}

result_of() { sed -n 's/^result: //p' "$1" | tail -1; }

# --- a quick run ---------------------------------------------------------------------------------
out=$tmp/quick.out
CI=true $VCONS run --platform "$PLATFORM" --net 127.11 --rules runrules/quick.yaml --out "$tmp/results" >"$out" 2>&1
rc=$?
cat "$out"
res=$(result_of "$out")
if ((rc == 0)) && [[ -f $res ]]; then t_ok "quick run"; else t_fail "quick run (exit $rc)"; fi
t_check "schema" python3 -c '
import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open("results/schema.json")))' "$res"
t_check "five VMs reported" python3 - "$res" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "valid", r["failures"]
assert r["verdict"]["valid"] and not r["verdict"]["compliant"]
assert "not compliant: quick rules" in r["verdict"]["reasons"], r["verdict"]["reasons"]
roles = sorted(v["role"] for v in r["vms"])
assert roles == ["db", "idle", "java", "mail", "web"], roles
assert len(r["vms"][0]["intervals"]) == r["rules"]["phases"]["intervals"]
for v in r["vms"]:
    assert v["alive"], v["name"]
    for iv in v["intervals"]:
        assert "missing" not in iv, (v["name"], iv)
        assert abs(iv["dilation"] - 1) < 0.05, (v["name"], iv["dilation"])
        if v["role"] == "idle":
            assert iv["wakeups"] > 0.5 * 100 * r["rules"]["phases"]["interval_s"], iv
        else:
            assert iv["rate"] > 0 and iv["ops"] > 0, (v["name"], iv)
        if v["role"] in ("db", "web", "mail"):
            assert iv["errors"] == 0, (v["name"], iv)
            assert iv["latency_us"]["count"] > 0
assert r["score"]["run"] > 0 and r["score"]["csus"][0]["score"] > 0
print("score", r["score"]["run"], "timing", r["timing"], "harness", r["harness"])
PY
# Exits per unit of work (issue 17's budgets, the same on a nested guest as on bare metal): every
# busy VM's figure over the whole measurement within its budget on hv; none claimed natively. On a
# CPU without constant_tsc and nonstop_tsc (the nested test guest's emulated one) hv cannot use its
# time page and every clock read is an exit, which a usable page serves in the vDSO
# (hv/test/vdso.sh proves that path): there the budget counts exits less clock_syscalls.
tsc_ok=0
grep -qw constant_tsc /proc/cpuinfo && grep -qw nonstop_tsc /proc/cpuinfo && tsc_ok=1
t_check "exits per unit of work" python3 - "$res" "$PLATFORM" "$tsc_ok" <<'PY'
import json, sys
r, platform, tsc_ok = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3] == "1"
# web: the issue's 6 since its load speaks HTTP/2 as browsers do (5.2-5.3 a page natively, a page's
# requests in one round; workloads/web/README.md, "System calls per page")
budget = {"java": 0.01, "db": 25, "web": 6, "mail": 20}
over = []
for v in r["vms"]:
    po = v.get("hv_per_op")
    if platform != "hv":
        assert po is None, (v["name"], po)
        continue
    assert po is not None, v["name"]
    judged = po["exits"] if tsc_ok else po["exits"] - po["clock_syscalls"]
    calls = ", ".join("%s %.3g" % (c["call"], c["per_op"]) for c in po["top_syscalls"])
    print("%s: %.4g exits per %s, %.4g of them clock reads (%s); judged: %.4g" % (
        v["name"], po["exits"], po["unit"], po["clock_syscalls"], calls, judged))
    if v["role"] in budget and not judged <= budget[v["role"]]:
        over.append("%s %.4g > %g" % (v["name"], judged, budget[v["role"]]))
if platform == "hv" and not tsc_ok:
    print("no constant_tsc/nonstop_tsc here: clock reads left out of the budget")
assert not over, "over budget: " + "; ".join(over)
PY
t_check "no leftovers" no_leftovers "$out"
grep -q '^score [0-9.]* (' "$out" && t_ok "score printed" || t_fail "score printed"

# --- a VM killed in the middle of the run --------------------------------------------------------
out=$tmp/kill.out
CI=true $VCONS run --platform "$PLATFORM" --net 127.11 --rules $FAST --out "$tmp/results" >"$out" 2>&1 &
vpid=$!
for _ in $(seq 300); do grep -q 'interval 1/' "$out" && break; sleep 0.1; done
victim=$(sed -n 's/.*started csu0-mail: pid \([0-9]*\)$/\1/p' "$out")
[[ -n $victim ]] && kill -KILL "$victim"
wait $vpid
rc=$?
cat "$out"
res=$(result_of "$out")
t_check "killed VM" python3 - "$res" "$rc" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert sys.argv[2] == "4", "exit status " + sys.argv[2]
assert r["status"] == "invalid" and not r["verdict"]["valid"]
assert any("csu0-mail killed by signal 9" in f for f in r["failures"]), r["failures"]
assert [v["alive"] for v in r["vms"] if v["name"] == "csu0-mail"] == [False]
PY
t_check "no leftovers after a killed VM" no_leftovers "$out"

# --- a load generator killed: invalid too; then vcons itself killed with SIGKILL -----------------
out=$tmp/genkill.out
CI=true $VCONS run --platform "$PLATFORM" --net 127.11 --rules $FAST --out "$tmp/results" >"$out" 2>&1 &
vpid=$!
for _ in $(seq 300); do grep -q 'interval 1/' "$out" && break; sleep 0.1; done
victim=$(sed -n 's/.*started csu0-web-load: pid \([0-9]*\)$/\1/p' "$out")
[[ -n $victim ]] && kill -KILL "$victim"
wait $vpid
rc=$?
res=$(result_of "$out")
t_check "killed load generator" python3 - "$res" "$rc" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert sys.argv[2] == "4", "exit status " + sys.argv[2]
assert any("csu0-web-load killed by signal 9" in f for f in r["failures"]), r["failures"]
PY
t_check "no leftovers after a killed generator" no_leftovers "$out"
out=$tmp/kill9.out
CI=true $VCONS run --platform "$PLATFORM" --net 127.11 --rules $FAST --out "$tmp/results" >"$out" 2>&1 &
vpid=$!
for _ in $(seq 300); do grep -q 'load: ramp-up' "$out" && sleep 1 && break; sleep 0.1; done
kill -KILL $vpid
wait $vpid 2>/dev/null
t_check "no leftovers after vcons is killed with SIGKILL" no_leftovers "$out"

# --- SIGINT: torn down, a partial result marked aborted -----------------------------------------
out=$tmp/int.out
CI=true $VCONS run --platform "$PLATFORM" --net 127.11 --rules $FAST --out "$tmp/results" >"$out" 2>&1 &
vpid=$!
for _ in $(seq 300); do grep -q 'load: ramp-up' "$out" && break; sleep 0.1; done
sleep 3
kill -INT $vpid
wait $vpid
rc=$?
cat "$out"
res=$(result_of "$out")
t_check "interrupted run" python3 - "$res" "$rc" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert sys.argv[2] == "130", "exit status " + sys.argv[2]
assert r["status"] == "aborted" and "interrupted by a signal" in r["failures"], r["failures"]
PY
t_check "no leftovers after SIGINT" no_leftovers "$out"

# --- bad configuration: one line naming file, line and field; exit 3; nothing started -------------
sed 's/interval_s: 5/interval_s: soon/' $FAST >"$tmp/bad-rules.yaml"
$VCONS run --platform native --rules "$tmp/bad-rules.yaml" --out "$tmp/r2" >"$tmp/bad.out" 2>&1
rc=$?
cat "$tmp/bad.out"
if ((rc == 3)) && [[ $(wc -l <"$tmp/bad.out") == 1 ]] &&
	grep -q "bad-rules.yaml:[0-9]*: phases.interval_s: " "$tmp/bad.out" && [[ ! -e $tmp/r2 ]]; then
	t_ok "bad rules file"
else
	t_fail "bad rules file (exit $rc)"
fi
sed 's/vcpus: 2, memory: 2G, *dataset: 2}/vcpus: 2, memory: lots, dataset: 2}/' csu/small.yaml >"$tmp/bad-csu.yaml"
$VCONS run --platform native --csu-profile "$tmp/bad-csu.yaml" --out "$tmp/r2" >"$tmp/bad.out" 2>&1
rc=$?
cat "$tmp/bad.out"
((rc == 3)) && grep -q "bad-csu.yaml:[0-9]*: vms.java.memory: " "$tmp/bad.out" &&
	t_ok "bad CSU file" || t_fail "bad CSU file (exit $rc)"
$VCONS run --csus 0 >"$tmp/bad.out" 2>&1
rc=$?
((rc == 2)) && [[ $(wc -l <"$tmp/bad.out") == 1 ]] && t_ok "bad option" || t_fail "bad option"
# --save-snapshots/--from-snapshots: hv only, one at a time, an existing directory; each refused
# with one line and exit 2 before anything starts
one_line_2() {
	local name=$1 rc
	shift
	"$VCONS" run --out "$tmp/r3" "$@" >"$tmp/bad.out" 2>&1
	rc=$?
	cat "$tmp/bad.out"
	((rc == 2)) && [[ $(wc -l <"$tmp/bad.out") == 1 && ! -e $tmp/r3 ]] && t_ok "$name" ||
		t_fail "$name" "exit $rc"
}
one_line_2 "snapshots on native refused" --platform native --save-snapshots "$tmp/s"
one_line_2 "save and from refused together" --platform hv --save-snapshots "$tmp/s" \
	--from-snapshots "$tmp"
one_line_2 "from a missing directory refused" --platform hv --from-snapshots "$tmp/none"
t_done
