#!/usr/bin/env bash
# Benchmark: the most mail operations (IMAP commands and SMTP deliveries) per second vcons-mail
# sustains under vcons-mail-load's session model, closed loop (no think time) at a few user counts;
# the best run is the figure, with its IMAP sessions per hour (SPECmail's metric) and the p95 of
# each command type; then the same with every session under TLS (half on the implicit-TLS ports,
# half after STARTTLS, resumed as clients do: SPECmail's second metric), the figure under "tls".
# Each run starts a server on fresh data. Natively, or under vcons-hv (VCONS_PLATFORM=hv).
# MAIL_BENCH_SET="KEY=VALUE ..." changes the generator's profile in every run (one --set each, e.g.
# imap_idle_pct=0 to compare the IDLE mix with NOOP polling); the JSON records it as "profile_set".
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
read -ra profile_set <<<"${MAIL_BENCH_SET:-}"
sets=()
for kv in "${profile_set[@]}"; do
	sets+=(--set "$kv")
done
for mode in plain tls; do
	for users in "${user_counts[@]}"; do
		rm -rf "$tmp/data"
		on_platform $A "$threads" "$B/guest/vcons-mail" --addr $A --data "$tmp/data" --users "$users" \
			--threads "$threads" >"$tmp/server.out" &
		server=$!
		bench_wait_ready "$tmp/server.out" "$server"
		tls=()
		[[ $mode == tls ]] && tls=(--tls-pct 100 --cacert "$tmp/data/cert.pem")
		"$B/vcons-mail-load" --target $A --users "$users" --duration "$DUR" --interval 0 --json \
			"${sets[@]}" "${tls[@]}" >"$tmp/run-$mode-$users.json"
		bench_stop "$server"
		server=
		runs+=("$mode:$tmp/run-$mode-$users.json")
		echo "mail bench: $mode, $users users done"
	done
done
python3 - "$OUT/mail$BENCH_SUFFIX.json" "$BENCH_PLATFORM" "$threads" "$DUR" "${MAIL_BENCH_SET:-}" "${runs[@]}" <<'PY'
import json, sys, os
out, platform, threads, dur = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
profile_set, files = sys.argv[5].split(), sys.argv[6:]
sets = "".join(f" --set {kv}" for kv in profile_set)
def run_of(f, mode):
    lines = [json.loads(l) for l in open(f)]
    summ = {l["op"]: l for l in lines if l.get("type") == "summary"}
    checks = next(l for l in lines if l.get("type") == "mail-checks")
    a = summ["all"]
    tls = " --tls-pct 100 --cacert DATA/cert.pem" if mode == "tls" else ""
    return {
        "users": a["users"], "ops": a["ops"], "errors": a["errors"], "ops_per_s": a["ops_per_s"],
        "sessions_per_hour": checks["sessions_per_hour"], "sessions": checks["sessions"],
        "commands_per_session": checks["commands_per_session"],
        "tls_sessions": checks.get("tls_sessions", 0), "tls_resumed": checks.get("tls_resumed", 0),
        "generator_cpu_us": a["cpu_us"], "p95_us": a["p95_us"],
        "per_op": {k: {"ops": v["ops"], "ops_per_s": v["ops_per_s"], "errors": v["errors"],
                       "p50_us": v["p50_us"], "p95_us": v["p95_us"], "p99_us": v["p99_us"],
                       "max_us": v["max_us"]}
                   for k, v in summ.items() if k != "all" and v["ops"]},
        "checksum_errors": checks["checksum_errors"], "search_errors": checks["search_errors"],
        "fetched": checks["fetched"],
        "command": f"vcons-mail --threads {threads} --users {a['users']} & vcons-mail-load --users {a['users']} --duration {dur:g}{sets}{tls}",
    }
by_mode = {"plain": [], "tls": []}
for entry in files:
    mode, f = entry.split(":", 1)
    by_mode[mode].append(run_of(f, mode))
def summary(runs):
    best = max(runs, key=lambda r: r["ops_per_s"])
    return best, {"max_mail_ops_per_s": best["ops_per_s"], "best_users": best["users"],
                  "imap_sessions_per_hour": best["sessions_per_hour"],
                  "commands_per_session": best["commands_per_session"],
                  "p95_us_by_command": {k: v["p95_us"] for k, v in best["per_op"].items()},
                  "runs": runs}
runs = by_mode["plain"] + by_mode["tls"]
ok = all(r["errors"] == 0 and r["checksum_errors"] == 0 and r["search_errors"] == 0 for r in runs)
ok = ok and all(r["tls_sessions"] > 0 for r in by_mode["tls"])
best, plain = summary(by_mode["plain"])
tbest, tls = summary(by_mode["tls"])
doc = {"bench": "mail", "metric": "max_mail_ops_per_s", "platform": platform, "mode": "closed loop",
       "server_threads": threads, "duration_s": dur, "cpus": os.cpu_count(), "profile_set": profile_set,
       "valid": ok}
doc.update(plain)
doc["tls"] = tls
json.dump(doc, open(out + ".tmp", "w"), indent=1)
os.replace(out + ".tmp", out)
for name, b, rs in (("plain", best, by_mode["plain"]), ("TLS", tbest, by_mode["tls"])):
    print(f"mail bench ({platform}, {name}{sets}): max {b['ops_per_s']:.0f} mail ops/s, {b['sessions_per_hour']:.0f} "
          f"IMAP sessions per hour ({b['commands_per_session']:.1f} commands each) at {b['users']} users")
    for r in rs:
        print(f"  {r['users']:3d} users: {r['ops_per_s']:7.0f} ops/s {r['sessions_per_hour']:9.0f} sessions/h  p95 by command (ms): "
              + " ".join(f"{k} {v['p95_us'] / 1000:.1f}" for k, v in r["per_op"].items()))
print(f"mail bench: valid={ok}")
sys.exit(0 if ok else 1)
PY
