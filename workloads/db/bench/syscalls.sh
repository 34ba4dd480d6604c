#!/usr/bin/env bash
# workloads/db/bench/syscalls.sh: the db VM's system calls per transaction under the quick rules'
# load, counted natively (README "System calls per transaction"). Under vcons-hv every system call
# is an exit and clock reads are not (vDSO); strace does not see vDSO clock reads either, so the
# count is the same. Loads 2 warehouses into a fresh directory, runs the server under `strace -f -c`
# (start-up and the SIGTERM stop included: a few dozen calls), drives it with vcons-db-load as the
# quick rules do (--users 20 --rate 40, every request arriving alone) for SECONDS, stops it, and
# prints the transactions, the calls per transaction in all and the largest rows.
# Usage: workloads/db/bench/syscalls.sh [BUILD [SECONDS [ADDR]]]  (build, 60, 127.31.8.1)
set -euo pipefail
B=${1:-build}
S=${2:-60}
A=${3:-127.31.8.1}
command -v strace >/dev/null || { echo "syscalls.sh: needs strace" >&2; exit 2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/vcons-db-syscalls.XXXXXX")
mkdir "$T/data"
"$B/guest/vcons-db" --load --warehouses 2 --data "$T/data" >/dev/null
strace -f -c -o "$T/strace.txt" "$B/guest/vcons-db" --data "$T/data" --addr "$A" --threads 2 \
	>"$T/server.out" 2>&1 &
tracer=$!
# shellcheck disable=SC2016 # $0 and $1 are the inner shell's
timeout 20 bash -c 'until grep -q "^ready$" "$0"; do kill -0 "$1" || exit 1; sleep 0.1; done' \
	"$T/server.out" "$tracer" 2>/dev/null || { echo "syscalls.sh: no ready: $T/server.out" >&2; exit 1; }
"$B/vcons-db-load" --target "$A" --users 20 --rate 40 --duration "$S" --json >"$T/load.json"
kill -TERM "$(pgrep -P "$tracer")"
wait "$tracer" || true
python3 - "$T/load.json" "$T/strace.txt" <<'PY'
import json, re, sys
tx = [json.loads(l) for l in open(sys.argv[1]) if '"summary"' in l and '"op":"all"' in l][-1]
rows = []
for line in open(sys.argv[2]):
    m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$", line)
    if m and m.group(2) != "total":
        rows.append((int(m.group(1)), m.group(2)))
n, total = tx["ops"], sum(c for c, _ in rows)
print("transactions %d (%d errors), files in %s" % (n, tx["errors"], sys.argv[2].rsplit("/", 1)[0]))
for c, name in sorted(rows, reverse=True):
    print("%-16s %7d calls  %.3f per tx" % (name, c, c / n))
print("total %d calls, %.2f per tx" % (total, total / n))
PY
