#!/usr/bin/env bash
# System calls per unit of work of vcons-mail under the quick rules' load, natively (the calls are
# those vcons-hv turns into exits; strace, like hv, sees no vDSO clock reads). Provisions 100
# mailboxes, starts the server as the harness does (--threads 1 --users 100), attaches
# `strace -f` once it prints "ready", runs the generator as the harness does (--users 50 --rate 50
# --mailboxes 100) for SECONDS, detaches, stops the server, and prints the calls per unit of work:
# in all, by call, and by operation type (each call counted to the command being served).
# Units: send 1 (an SMTP delivery), check 2 (NOOP + UID FETCH), fetch 1, delete 2 (STORE +
# EXPUNGE); the once-per-session LOGIN/SELECT/LOGOUT and their connections are listed as
# "session" and counted in the total only.
#   usage: workloads/mail/bench/syscalls.sh [--build DIR] [--seconds S] [--addr A] [--keep DIR]
set -euo pipefail
B=build S=30 A=127.0.3.40 keep=
while (($#)); do
	case $1 in
	--build) B=$2; shift 2 ;;
	--seconds) S=$2; shift 2 ;;
	--addr) A=$2; shift 2 ;;
	--keep) keep=$2; shift 2 ;;
	*) echo "syscalls.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
command -v strace >/dev/null || { echo "syscalls.sh: needs strace" >&2; exit 2; }
T=${keep:-$(mktemp -d "${TMPDIR:-/tmp}/vcons-mail-syscalls.XXXXXX")}
mkdir -p "$T"
server='' tracer=''
cleanup() {
	[[ -z $tracer ]] || kill "$tracer" 2>/dev/null || true
	[[ -z $server ]] || kill "$server" 2>/dev/null || true
	[[ -n $keep ]] || rm -rf "$T"
}
trap cleanup EXIT
rm -rf "$T/data"
"$B/guest/vcons-mail" --provision --users 100 --data "$T/data"
"$B/guest/vcons-mail" --addr "$A" --data "$T/data" --threads 1 --users 100 >"$T/server.out" &
server=$!
for _ in $(seq 100); do grep -q ready "$T/server.out" && break; sleep 0.1; done
strace -f -tt -s 64 -o "$T/strace.txt" -p "$server" 2>"$T/strace.err" &
tracer=$!
sleep 1 # attached
"$B/vcons-mail-load" --target "$A" --users 50 --rate 50 --duration "$S" --interval 1 --json --csu 1 \
	--mailboxes 100 >"$T/load.json"
kill -INT "$tracer"
wait "$tracer" || true
tracer=
kill -TERM "$server"
wait "$server" || true
server=
python3 - "$T/load.json" "$T/strace.txt" <<'PY'
import collections, json, re, sys
ops = {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("type") == "summary":
        ops[o["op"]] = o["ops"]
        if o["errors"]:
            print("warning: %d %s errors" % (o["errors"], o["op"]))
weight = {"send": 1, "check": 2, "fetch": 1, "delete": 2}
units = sum(ops.get(k, 0) * w for k, w in weight.items())

def imap_type(cmd):  # the generator's command -> its operation type
    c = cmd.split(" ", 1)[1] if " " in cmd else cmd
    if c.startswith("NOOP") or (" FETCH " in " " + c and "BODY" not in c):
        return "check"
    if "FETCH" in c:
        return "fetch"
    if c.startswith("UID STORE") or c.startswith("EXPUNGE"):
        return "delete"
    return "session"

line_rx = re.compile(r"^\d+\s+[\d:.]+\s+(\w+)\((.*)$")
kind, type_of = {}, {}  # connection fd -> smtp/imap, -> the operation type it serves now
count = collections.defaultdict(collections.Counter)
waiting, cur = [], "other"  # epoll_wait, accepting go to the command they lead to
for line in open(sys.argv[2]):
    m = line_rx.match(line)
    if not m or "resumed>" in line:
        continue
    call, args = m.groups()
    fm = re.match(r'(\d+)[,)]\s*(.*)', args)
    fd = int(fm.group(1)) if fm else None
    if call in ("epoll_wait", "accept4", "setsockopt") or "EPOLL_CTL_ADD" in args:
        waiting.append(call)
        continue
    if call in ("sendto", "sendmsg") and fd not in kind:  # a greeting: a new connection
        kind[fd] = "smtp" if '"220 ' in args else "imap"
        type_of[fd] = "send" if kind[fd] == "smtp" else "session"
    if call == "recvfrom" and kind.get(fd) == "imap" and fm.group(2).startswith('"'):
        type_of[fd] = imap_type(fm.group(2)[1:])
    if fd in kind and call in ("recvfrom", "sendto", "sendmsg", "close", "epoll_ctl"):
        cur = type_of[fd]
    for w in waiting:
        count[cur][w] += 1
    waiting = []
    count[cur][call] += 1
    if call == "close" and fd in kind:
        del kind[fd]
total = collections.Counter()
for c in count.values():
    total.update(c)
n = sum(total.values())
print("ops %s; units %d (send 1, check 2, fetch 1, delete 2)" % (
    " ".join("%s %d" % (k, ops.get(k, 0)) for k in weight), units))
print("total: %d calls, %.2f per unit, %.2f per op" % (n, n / units, n / ops["all"]))
print("by call (per unit): " + ", ".join("%s %.2f" % (k, v / units) for k, v in total.most_common()))
for t in list(weight) + ["session", "other"]:
    c, k = count[t], ops.get(t)
    if k:
        print("%-7s %.2f per op, %.2f per unit: %s" % (t, sum(c.values()) / k,
              sum(c.values()) / k / weight[t], ", ".join("%s %.2f" % (x, v / k) for x, v in c.most_common())))
    elif c:
        print("%-7s %d calls in all: %s" % (t, sum(c.values()), ", ".join("%s %d" % kv for kv in c.most_common())))
PY
