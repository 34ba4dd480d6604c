#!/usr/bin/env bash
# workloads/web/bench/syscalls.sh: the web VM's system calls per page under the quick rules' load,
# counted natively (README "System calls per page"). Under vcons-hv every system call is an exit and
# clock_gettime is not one (vDSO); strace does not see vDSO clock reads either, so the count is the
# same. The server runs as the harness starts it (--threads 2 --files 1000 --csu 1); once it prints
# "ready", `strace -f -c` attaches to all its threads (start-up is not counted), and vcons-web-load
# drives it as harness/plan.c does under runrules/quick.yaml (50 users, 100 pages/s open loop,
# plain HTTP/2 with prior knowledge: --http2). The server is stopped with SIGTERM; the calls it
# makes to stop (futex, madvise, ...) are counted too and show as a few calls in total.
# Usage: workloads/web/bench/syscalls.sh [BUILD [SECONDS [ADDR [MODE]]]]  (build, 25, 127.31.7.1, h2)
# MODE: h2 (the harness's load), http1 (the same users over HTTP/1.1, images two at a time on two
# connections), https (HTTP/2 by ALPN over TLS) or https1 (HTTP/1.1 over TLS): the last three are
# not what the quick rules run, for comparison and TLS's share.
# Prints one line per system call (calls, failed, per page) and the total per page; keeps the
# strace table, the generator's JSON lines and the server's output in a directory it names.
set -euo pipefail
B=${1:-build}
S=${2:-25}
A=${3:-127.31.7.1}
M=${4:-h2}
command -v strace >/dev/null || { echo "syscalls.sh: needs strace" >&2; exit 2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/vcons-web-syscalls.XXXXXX")
case $M in
h2) mode=(--http2) ;;
http1) mode=() ;;
https) mode=(--http2 --https --cacert "$T/data/cert.pem") ;;
https1) mode=(--https --cacert "$T/data/cert.pem") ;;
*) echo "syscalls.sh: MODE is h2, http1, https or https1, not '$M'" >&2; exit 2 ;;
esac
"$B/guest/vcons-web" --load --files 1000 --data "$T/data" --addr "$A" >/dev/null
"$B/guest/vcons-web" --addr "$A" --data "$T/data" --threads 2 --files 1000 --csu 1 \
	>"$T/server.out" 2>&1 &
srv=$!
for ((i = 0; i < 200; i++)); do
	grep -q '^ready$' "$T/server.out" && break
	kill -0 "$srv" 2>/dev/null || { echo "syscalls.sh: server ended: $T/server.out" >&2; exit 1; }
	sleep 0.1
done
strace -f -c -o "$T/strace.txt" -p "$srv" 2>"$T/strace.err" &
st=$!
sleep 1 # strace has attached to every thread
"$B/vcons-web-load" --target "$A" --users 50 --rate 100 --duration "$S" --interval 1 --json \
	--csu 1 --ramp 5 --files 1000 "${mode[@]}" >"$T/load.json"
kill -TERM "$srv"
wait "$srv" || true
wait "$st" || true
pages=$(sed -n 's/.*"type":"result".*"ops":\([0-9]*\),.*/\1/p' "$T/load.json")
[[ -n $pages && $pages -gt 0 ]] || { echo "syscalls.sh: no pages: $T/load.json" >&2; exit 1; }
errors=$(sed -n 's/.*"type":"result".*"errors":\([0-9]*\),.*/\1/p' "$T/load.json")
echo "mode: $M, pages: $pages, errors: $errors (vcons-web-load result line), files in $T"
awk -v pages="$pages" '
	$1 ~ /^[0-9.]+$/ && NF >= 5 {
		name = $NF; calls = $4; errs = (NF == 6) ? $5 : 0
		if (name == "total") { total = calls; next }
		printf "%-16s %8d calls %6d failed %7.3f per page\n", name, calls, errs, calls / pages
	}
	END { printf "%-16s %8d calls                %7.3f per page\n", "total", total, total / pages }
' "$T/strace.txt"
