#!/usr/bin/env bash
# tools/test/benches.sh: every benchmark `make bench` declares runs end to end on this entry's platform
# in quick mode (VCONS_BENCH_QUICK=1: a second or two each) and writes a JSON file whose figures are
# there, positive and error-free, marked "quick" and with the right platform. The native entry runs the
# native benchmarks; the @hv entry the ones that need KVM (servers in vcons-hv VMs, and hv/bench), and
# skips them loudly without /dev/kvm. No figure is judged against a goal: quick runs on a shared
# machine measure nothing; this test only keeps the scripts from rotting between bench runs.
source "$(dirname "$0")/../testlib.sh"
PLATFORM=${VCONS_PLATFORM:-native}
cd "$TOP" || exit 1
mapfile -t declared < <(make -s --no-print-directory bench-list)
entries=() names=()
for e in "${declared[@]}"; do
	needs_kvm=0
	[[ $e == *@hv || $e == hv/* ]] && needs_kvm=1
	[[ $PLATFORM == hv ]] || ((needs_kvm == 0)) || continue
	[[ $PLATFORM != hv ]] || ((needs_kvm == 1)) || continue
	entries+=("$e")
	names+=("bench $e (quick)")
done
((${#entries[@]} > 0)) || { t_fail "benchmarks declared" "make bench-list listed none for $PLATFORM"; exit 1; }
[[ $PLATFORM != hv ]] || require_kvm "${names[@]}"

out=$T_TMP/bench
VCONS_BENCH_QUICK=1 VCONS_BENCH_OUT=$out tools/run-benches.sh "${entries[@]}" 2>&1
rc=$?
echo "run-benches.sh exit status $rc"

# One line per entry: the script's JSON (NAME[-hv].json, named by its "bench" field) must hold its
# figures. Each rule is a path into the JSON (a.b, list index as a number) and a test on the value.
python3 - "$out" "$PLATFORM" "${entries[@]}" <<'PY'
import glob, json, sys
out, platform, entries = sys.argv[1], sys.argv[2], sys.argv[3:]
POS, ZERO, TRUE, FALSE = ("> 0", lambda v: v > 0), ("== 0", lambda v: v == 0), \
    ("is true", lambda v: v is True), ("is false", lambda v: v is False)
# a migration part measured (every run's downtime and total time), or skipped with the reason
MIGRATED = ("measured, or skipped with a reason", lambda v: isinstance(v, dict) and (
    bool(v.get("skipped")) if "skipped" in v else
    bool(v.get("runs")) and all(r.get("total_ms", 0) > 0 and r.get("downtime_ms", 0) > 0
                                for r in v["runs"])))
RULES = {
    "db": [("max_throughput.tx_per_s", POS), ("max_throughput.errors", ZERO),
           ("max_throughput.p99_us", POS), ("half_load_open_loop.tx_per_s", POS),
           ("half_load_open_loop.errors", ZERO), ("half_load_open_loop.p99_us", POS)],
    "web": [("max_throughput_http_closed.pages_per_s", POS), ("max_throughput_http_closed.errors", ZERO),
            ("https_closed.pages_per_s", POS), ("https_closed.errors", ZERO)] +
           [(f"efficiency.runs.{i}.{who}", rule) for i in (0, 1) for who, rule in
            (("ours.requests_per_cpu_s", POS), ("ours.errors", ZERO),
             ("wrk.requests_per_cpu_s", POS), ("wrk.errors_reported", FALSE))],
    "mail": [("max_mail_ops_per_s", POS), ("valid", TRUE), ("runs.0.errors", ZERO),
             ("runs.0.checksum_errors", ZERO), ("runs.0.fetched", POS),
             ("imap_sessions_per_hour", POS), ("runs.0.sessions_per_hour", POS),
             ("p95_us_by_command.login", POS), ("p95_us_by_command.fetch_headers", POS),
             ("p95_us_by_command.smtp", POS), ("tls.max_mail_ops_per_s", POS),
             ("tls.imap_sessions_per_hour", POS), ("tls.runs.0.errors", ZERO),
             ("tls.runs.0.tls_sessions", POS), ("tls.p95_us_by_command.login", POS)],
    "jbb": [("jbb_business_ops_per_s", POS), ("final_ops", POS), ("self_check_ok", TRUE)],
    "idle": [("wakeups", POS), ("host_cpu_ms_per_s", POS), ("measured_s", POS)],
    "harness": [(f"runs.{i}.{k}", POS) for i in (0, 1) for k in
                ("csus", "score", "vm_start_to_first_load_all_s", "harness_cpu_pct_of_one_core")],
    "hv-snapshot": [(f"{part}.{i}.{k}", POS) for i in (0, 1) for part, k in
                    (("snapshot", "pause_ms"), ("snapshot", "write_ms"), ("snapshot", "downtime_ms"),
                     ("snapshot", "bytes"), ("restore", "restore_to_first_instruction_ms.median"))] +
                   [("migration", MIGRATED)],
    "hv": [("cpu_loop.native_ns_per_iter", POS), ("cpu_loop.hv_ns_per_iter", POS),
           ("null_syscall_us.hv", POS), ("thread_create_join_us.hv", POS),
           ("first_touch_per_4k_page_us.hv", POS),
           ("vm_create_to_first_guest_instruction_ms.value", POS),
           ("vmm_memory_beyond_touched_guest_mib.value", POS)],
}
def get(doc, path):
    for k in path.split("."):
        doc = doc[int(k)] if isinstance(doc, list) else doc[k]
    return doc
files = {}
for f in glob.glob(out + "/*.json"):
    try:
        d = json.load(open(f))
    except ValueError as e:
        print(f"{f}: not JSON: {e}")
        continue
    files[(d.get("bench"), d.get("platform"))] = (f, d)
failed = False
for e in entries:
    plat = platform  # the shell kept only this platform's entries
    # the bench is named by its folder: harness/bench/run.sh -> harness, workloads/java/... -> jbb;
    # a module's other scripts by folder and script: hv/bench/snapshot.sh -> hv-snapshot
    parts = e.split("@")[0].split("/")
    folder = parts[1] if parts[0] == "workloads" else parts[0]
    bench = {"java": "jbb"}.get(folder, folder)
    if parts[0] != "workloads" and parts[-1] != "run.sh":
        bench = f"{folder}-{parts[-1].removesuffix('.sh')}"
    name = f"bench {e} (quick)"
    if (bench, plat) not in files:
        print(f"not ok - {name}: no {bench} JSON for {plat} (found: {sorted(files)})")
        failed = True
        continue
    if bench not in RULES:
        print(f"not ok - {name}: no rules for the '{bench}' JSON: add them to RULES in tools/test/benches.sh")
        failed = True
        continue
    f, d = files[(bench, plat)]
    bad = []
    if d.get("quick") is not True:
        bad.append('"quick" is not true')
    for path, (what, test) in RULES[bench]:
        try:
            v = get(d, path)
        except (KeyError, IndexError, TypeError):
            bad.append(f"{path} is missing")
            continue
        if isinstance(v, bool) != (what in ("is true", "is false")) or not test(v):
            bad.append(f"{path} = {v!r}, wanted {what}")
    if bad:
        print(f"not ok - {name}: {f}: " + "; ".join(bad))
        failed = True
    else:
        print(f"ok - {name}: {len(RULES[bench])} figures present and sane in {f.rsplit('/', 1)[1]}")
sys.exit(1 if failed else 0)
PY
py=$?
((rc == 0)) && t_ok "run-benches.sh exits 0 in quick mode" || t_fail "run-benches.sh exits 0 in quick mode" "status $rc"
((py == 0 && rc == 0)) || T_FAILED=1
exit $T_FAILED
