#!/usr/bin/env bash
# harness/bench/run.sh: the harness's own figures on the bench's platform (native, or hv for the
# @hv entry): its CPU use during a run (goal < 2% of one core), the time from starting the VMs to
# load on all five (goal < 1 s on hv), the 1-CSU and 2-CSU scores under the quick rules, and on hv
# every VM's exits per unit of work (result.json's hv_per_op).
# Writes $VCONS_BENCH_OUT/harness.json (harness-hv.json on hv). Quick mode uses the 20-second test
# rules (harness/test/data/fast.yaml).
set -euo pipefail
source "${VCONS_TOP:-.}/tools/bench-platform.sh"
B=${VCONS_BUILD:-build}
OUT=${VCONS_BENCH_OUT:-$B/bench}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vcons-harness-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
rules=$(bench_pick runrules/quick.yaml harness/test/data/fast.yaml)
results=()
for csus in 1 2; do
	CI=true "$B/vcons" run --platform "$BENCH_PLATFORM" --net 127.13 --csus $csus --rules "${VCONS_TOP:-.}/$rules" \
		--out "$tmp/results" >"$tmp/run-$csus.out" 2>&1 || { cat "$tmp/run-$csus.out"; exit 1; }
	results+=("$(sed -n 's/^result: //p' "$tmp/run-$csus.out")")
done
python3 - "$OUT/harness$BENCH_SUFFIX.json" "$BENCH_PLATFORM" "$rules" "${results[@]}" <<'PY'
import json, os, sys
out, platform, rules, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
runs = []
for f in files:
    r = json.load(open(f))
    runs.append({
        "csus": r["csus"], "score": r["score"]["run"], "valid": r["verdict"]["valid"],
        "checks_passed": r["verdict"]["checks_passed"], "reasons": r["verdict"]["reasons"],
        "per_csu": [{"score": c["score"], "lowest": c["lowest"], "normalized": c["normalized"]}
                    for c in r["score"]["csus"]],
        "harness_cpu_pct_of_one_core": r["harness"]["cpu_pct_of_one_core"],
        "vm_start_to_first_load_all_s": r["timing"].get("vm_start_to_first_load_all_s"),
        "provision_s": r["timing"].get("provision_s"),
        "total_s": r["timing"]["total_s"],
        "hv_per_op": {v["name"]: {k: v["hv_per_op"][k] for k in ("unit", "exits", "syscalls", "top_syscalls")}
                      for v in r["vms"] if "hv_per_op" in v},
        "command": f"vcons run --platform {platform} --csus {r['csus']} --rules {rules}",
    })
json.dump({"bench": "harness", "platform": platform, "rules": rules,
           "goals": {"harness_cpu_pct_of_one_core": "< 2", "vm_start_to_first_load_all_s": "< 1 on hv"},
           "runs": runs}, open(out + ".tmp", "w"), indent=1)
os.replace(out + ".tmp", out)
for r in runs:
    print(f"harness {platform} {r['csus']} CSU: score {r['score']:.3f}, harness CPU {r['harness_cpu_pct_of_one_core']:.2f}% "
          f"of a core, VMs started -> load on all five {r['vm_start_to_first_load_all_s']:.2f} s")
    for name, p in r["hv_per_op"].items():
        calls = ", ".join(f"{c['call']} {c['per_op']:.3g}" for c in p["top_syscalls"])
        print(f"  {name}: {p['exits']:.4g} exits per {p['unit']} ({calls})")
PY
