#!/usr/bin/env bash
# System calls per unit of work of vcons-mail under the quick rules' load, natively (the calls are
# those vcons-hv turns into exits; strace, like hv, sees no vDSO clock reads). Provisions 100
# mailboxes, starts the server as the harness does (--threads 1 --users 100), warms it up with a
# 30 s run, attaches `strace -f`, runs the generator as the harness does (--users 50 --rate 50
# --mailboxes 100, the default profile) for SECONDS, detaches, stops the server, and prints the
# calls per unit of work: in all, per session of the mix, by call, and, as a Markdown table, by
# command type (each call counted to the command being served; the generator's command types
# are read from its report, so a new type shows up without a change here).
# Units: every op of the generator is one (an SMTP delivery, or one IMAP command); an IMAP
# connection's accept and greeting count to its LOGIN, its close to its LOGOUT; an IDLE's DONE
# and the updates pushed to it while it waits count to the IDLE.
# --set KEY=VALUE (repeatable) changes the generator's profile in both runs (e.g. imap_idle_pct=0).
#   usage: workloads/mail/bench/syscalls.sh [--build DIR] [--seconds S] [--addr A] [--keep DIR]
#          [--set KEY=VALUE]...
set -euo pipefail
B=build S=30 A=127.0.3.40 keep='' sets=()
while (($#)); do
	case $1 in
	--build) B=$2; shift 2 ;;
	--seconds) S=$2; shift 2 ;;
	--addr) A=$2; shift 2 ;;
	--keep) keep=$2; shift 2 ;;
	--set) sets+=(--set "$2"); shift 2 ;;
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
# a warm-up run first, so that the users' folders exist as they do in a long run (a user's first
# session CREATEs them: about 300 CREATEs would otherwise weigh on a 30 s measurement); the users
# start over the first 12 s and a first session lasts about as long again
"$B/vcons-mail-load" --target "$A" --users 50 --rate 50 --duration 30 --interval 0 --mailboxes 100 \
	${sets[@]+"${sets[@]}"} >/dev/null
strace -f -tt -s 64 -o "$T/strace.txt" -p "$server" 2>"$T/strace.err" &
tracer=$!
sleep 1 # attached
"$B/vcons-mail-load" --target "$A" --users 50 --rate 50 --duration "$S" --interval 1 --json --csu 1 \
	--mailboxes 100 ${sets[@]+"${sets[@]}"} >"$T/load.json"
kill -INT "$tracer"
wait "$tracer" || true
tracer=
kill -TERM "$server"
wait "$server" || true
server=
echo "measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPUs (load average $(cut -d' ' -f1-3 /proc/loadavg))"
python3 - "$T/load.json" "$T/strace.txt" <<'PY'
import collections, json, re, sys
ops, checks = {}, {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("type") == "summary":
        ops[o["op"]] = o["ops"]
        if o["errors"]:
            print("warning: %d %s errors" % (o["errors"], o["op"]))
    elif o.get("type") == "mail-checks":
        checks = o
units = ops.get("all", 0)
types = [k for k in ops if k != "all"]
VERBS = {"LOGIN": "login", "LIST": "list", "CREATE": "create", "SELECT": "select", "SEARCH": "search",
         "MOVE": "move", "STORE": "store", "EXPUNGE": "expunge", "NOOP": "noop", "IDLE": "idle",
         "APPEND": "append", "LOGOUT": "logout"}

def imap_type(text):  # a command line the generator sent -> its type; None: not a command line
    m = re.match(r"t\d+ (?:UID )?(\w+)(.*)", text)
    if not m:
        return None  # an APPEND's literal, read in pieces; an IDLE's DONE
    verb, rest = m.group(1).upper(), m.group(2)
    if verb == "FETCH":
        return "fetch_headers" if "ENVELOPE" in rest else "fetch_body" if "BODY[" in rest \
            else "fetch_flags"
    return VERBS.get(verb, "other")

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
        type_of[fd] = "smtp" if kind[fd] == "smtp" else "login"
    if call == "recvfrom" and kind.get(fd) == "imap" and fm.group(2).startswith('"'):
        type_of[fd] = imap_type(fm.group(2)[1:]) or type_of[fd]
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
print("ops %s; units %d (every op one: an SMTP delivery or an IMAP command)" % (
    " ".join("%s %d" % (k, ops[k]) for k in types), units))
print("total: %d calls, %.2f per unit" % (n, n / units))
cps = checks.get("commands_per_session", 0)
print("sessions: %d completed, %.1f commands each (their SMTP deliveries included): %.1f calls per "
      "session; %d IDLEs completed, %d EXISTS pushed to them" % (
          checks.get("sessions", 0), cps, n / units * cps, checks.get("idle_completed", 0),
          checks.get("idle_exists_pushed", 0)))
print("by call (per unit, 0.01 and more): " + ", ".join(
    "%s %.2f" % (k, v / units) for k, v in total.most_common() if v / units >= 0.01))
print()
print("| type (ops) | calls per op | the calls per op (0.05 and more) |")
print("|---|---|---|")
for t in types:
    c, k = count[t], ops.get(t)
    if k:
        print("| `%s` (%d) | %.1f | %s |" % (t, k, sum(c.values()) / k,
              ", ".join("`%s` %.2f" % (x, v / k) for x, v in c.most_common() if v / k >= 0.05)))
for t in sorted(t for t in count if not ops.get(t) and count[t]):  # calls outside any op
    c = count[t]
    print("| %s (no op) | %d calls in all | %s |" % (t, sum(c.values()),
          ", ".join("`%s` %d" % kv for kv in c.most_common())))
PY
