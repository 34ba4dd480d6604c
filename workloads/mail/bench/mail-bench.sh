#!/usr/bin/env bash
# Benchmark: the most mail operations (IMAP commands and SMTP deliveries) per second vcons-mail
# sustains under vcons-mail-load's session model, closed loop (no think time) at a few user counts;
# the best run is the figure, with its IMAP sessions per hour (SPECmail's metric) and the p95 of
# each command type. Natively, or under vcons-hv (VCONS_PLATFORM=hv).
# Writes $VCONS_BENCH_OUT/mail[-hv].json.
set -euo pipefail
source "${VCONS_TOP:-.}/tools/bench-platform.sh"
B=${VCONS_BUILD:?}
OUT=${VCONS_BENCH_OUT:?}
DUR=${MAIL_BENCH_DURATION:-$(bench_pick 10 2)}
A=127.0.3.30
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vcons-mail-bench.XXXXXX")
server=
cleanup() {
	[[ -z $server ]] || bench_stop "$server"
	rm -rf "$tmp"
}
trap cleanup EXIT
threads=$(nproc)
runs=()
read -ra user_counts <<<"$(bench_pick '4 16 32' 4)"
for users in "${user_counts[@]}"; do
	rm -rf "$tmp/data"
	on_platform $A "$threads" "$B/guest/vcons-mail" --addr $A --data "$tmp/data" --users "$users" --threads "$threads" \
		>"$tmp/server.out" &
	server=$!
	bench_wait_ready "$tmp/server.out" "$server"
	cmd="vcons-mail-load --target $A --users $users --duration $DUR --interval 0 --json"
	# shellcheck disable=SC2086
	"$B/"$cmd >"$tmp/run-$users.json"
	bench_stop "$server"
	server=
	runs+=("$tmp/run-$users.json")
	echo "mail bench: $users users done"
done
python3 - "$OUT/mail$BENCH_SUFFIX.json" "$BENCH_PLATFORM" "$threads" "$DUR" "${runs[@]}" <<'PY'
import json, sys, os
out, platform, threads, dur, files = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5:]
runs = []
for f in files:
    lines = [json.loads(l) for l in open(f)]
    summ = {l["op"]: l for l in lines if l.get("type") == "summary"}
    checks = next(l for l in lines if l.get("type") == "mail-checks")
    a = summ["all"]
    runs.append({
        "users": a["users"], "ops": a["ops"], "errors": a["errors"], "ops_per_s": a["ops_per_s"],
        "sessions_per_hour": checks["sessions_per_hour"], "sessions": checks["sessions"],
        "commands_per_session": checks["commands_per_session"],
        "generator_cpu_us": a["cpu_us"], "p95_us": a["p95_us"],
        "per_op": {k: {"ops": v["ops"], "ops_per_s": v["ops_per_s"], "errors": v["errors"],
                       "p50_us": v["p50_us"], "p95_us": v["p95_us"], "p99_us": v["p99_us"],
                       "max_us": v["max_us"]}
                   for k, v in summ.items() if k != "all" and v["ops"]},
        "checksum_errors": checks["checksum_errors"], "search_errors": checks["search_errors"],
        "fetched": checks["fetched"],
        "command": f"vcons-mail --threads {threads} --users {a['users']} & vcons-mail-load --users {a['users']} --duration {dur:g}",
    })
best = max(runs, key=lambda r: r["ops_per_s"])
ok = all(r["errors"] == 0 and r["checksum_errors"] == 0 and r["search_errors"] == 0 for r in runs)
json.dump({"bench": "mail", "metric": "max_mail_ops_per_s", "platform": platform, "mode": "closed loop",
           "max_mail_ops_per_s": best["ops_per_s"], "best_users": best["users"],
           "imap_sessions_per_hour": best["sessions_per_hour"],
           "commands_per_session": best["commands_per_session"],
           "p95_us_by_command": {k: v["p95_us"] for k, v in best["per_op"].items()},
           "server_threads": threads, "duration_s": dur, "cpus": os.cpu_count(),
           "valid": ok, "runs": runs}, open(out + ".tmp", "w"), indent=1)
os.replace(out + ".tmp", out)
print(f"mail bench ({platform}): max {best['ops_per_s']:.0f} mail ops/s, {best['sessions_per_hour']:.0f} "
      f"IMAP sessions per hour ({best['commands_per_session']:.1f} commands each) at {best['users']} users "
      f"(valid={ok})")
for r in runs:
    print(f"  {r['users']:3d} users: {r['ops_per_s']:7.0f} ops/s {r['sessions_per_hour']:9.0f} sessions/h  p95 by command (ms): "
          + " ".join(f"{k} {v['p95_us'] / 1000:.1f}" for k, v in r["per_op"].items()))
sys.exit(0 if ok else 1)
PY
