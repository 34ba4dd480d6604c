#!/usr/bin/env bash
# harness/test/qemu.sh: the qemu platform end to end. A one-CSU quick run with --platform qemu (full
# Linux guests; TCG where KVM cannot boot one): all five VMs run and report, the result records the
# acceleration, and `vcons compare` shows it next to a native run (and an hv run where /dev/kvm
# works). A guest that cannot boot (too little memory) makes the run invalid with a clear reason and
# leaves no QEMU behind.
set -uo pipefail
cd "$(dirname "$0")/../.."
source tools/testlib.sh
NAMES=("qemu quick run" "qemu: five VMs reported" "compare native, qemu" "guest that cannot boot"
	"no QEMU left")
if ! command -v qemu-system-x86_64 >/dev/null || [[ ! -x build/vcons-qemu ]]; then
	for n in "${NAMES[@]}"; do t_skip "$n" "qemu-system-x86_64 or build/vcons-qemu missing"; done
	t_done
fi
tmp=$(mktemp -d /tmp/vcons-qemu-test.XXXXXX)
trap 't_cleanup; rm -rf "$tmp"' EXIT
result_of() { sed -n 's/^result: //p' "$1" | tail -1; }

CI=true build/vcons run --platform qemu --net 127.18 --rules runrules/quick.yaml --out "$tmp/r" \
	>"$tmp/qemu.out" 2>&1
rc=$?
cat "$tmp/qemu.out"
q=$(result_of "$tmp/qemu.out")
((rc == 0)) && [[ -f $q ]] && t_ok "qemu quick run" || t_fail "qemu quick run (exit $rc)"
t_check "qemu: five VMs reported" python3 - "$q" <<'PY'
import json, sys, jsonschema
r = json.load(open(sys.argv[1]))
jsonschema.validate(r, json.load(open("results/schema.json")))
assert r["platform"] == "qemu" and r["status"] == "valid", r["failures"]
assert r["accel"] in ("kvm", "tcg")
print("accel", r["accel"], "score", r["score"]["run"])
for v in r["vms"]:
    assert v["alive"] and v["accel"] == r["accel"] and v["boot_ms"] > 0, v["name"]
    for iv in v["intervals"]:
        got = iv["wakeups"] if v["role"] == "idle" else iv["rate"]
        assert got > 0, (v["name"], iv)
        assert iv["dilation"] > 0, (v["name"], iv)
    print(v["name"], [round(i.get("rate", i.get("wakeups", 0)), 1) for i in v["intervals"]])
PY

# the baselines: native always, hv where KVM works
results=()
CI=true build/vcons run --platform native --net 127.17 --rules runrules/quick.yaml --out "$tmp/r" \
	>"$tmp/native.out" 2>&1
results+=("$(result_of "$tmp/native.out")")
if [[ -c /dev/kvm ]] && : 2>/dev/null </dev/kvm; then
	CI=true build/vcons run --platform hv --net 127.19 --rules runrules/quick.yaml --out "$tmp/r" \
		>"$tmp/hv.out" 2>&1
	results+=("$(result_of "$tmp/hv.out")")
else
	echo "# no usable /dev/kvm: the comparison is native and qemu only"
fi
build/vcons compare "${results[@]}" "$q" >"$tmp/compare.out" 2>&1
rc=$?
cat "$tmp/compare.out"
((rc == 0)) && grep -q '^platform  *native .*qemu' "$tmp/compare.out" &&
	grep -q '^run score .* x[0-9.]*$' "$tmp/compare.out" && t_ok "compare native, qemu" ||
	t_fail "compare native, qemu"

# idle with 64 MiB: enough for hv, too little for a Linux guest
sed 's/idle: {vcpus: 1, memory: 256M}/idle: {vcpus: 1, memory: 64M}/' csu/small.yaml >"$tmp/tiny.yaml"
CI=true build/vcons run --platform qemu --net 127.20 --csu-profile "$tmp/tiny.yaml" \
	--rules harness/test/data/fast.yaml --out "$tmp/r" >"$tmp/tiny.out" 2>&1
rc=$?
cat "$tmp/tiny.out"
t_check "guest that cannot boot" python3 - "$(result_of "$tmp/tiny.out")" "$rc" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert sys.argv[2] == "4", "exit " + sys.argv[2]
assert any("csu0-idle exited with status 78" in f for f in r["failures"]), r["failures"]
PY
grep -q 'vcons-qemu: --mem' "$tmp"/r/*/logs/csu0-idle.log && t_ok "the VM's log says why" ||
	t_fail "the VM's log says why"
run_id=$(sed -n 's/.*results in .*\/\([^/]*\)$/\1/p' "$tmp/tiny.out")
left=$(pgrep -f "vcons-work-$run_id" || true)
[[ -z $left ]] && t_ok "no QEMU left" || t_fail "no QEMU left" "$left"
t_done
