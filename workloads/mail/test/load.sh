#!/usr/bin/env bash
# E2E: vcons-mail-load against vcons-mail: a short closed-loop run of IMAP sessions runs every command
# type (log in, list, create, select, flag resync, headers, bodies and parts, search, move, store,
# expunge, IDLE, SMTP and APPEND to Sent, log out) with zero errors, every body read matching its
# checksum; in open loop the idle sessions' IDLEs end with DONE and OK and see deliveries pushed
# while they wait, and imap_idle_pct=0 makes them poll with NOOP instead; --verify finds every acknowledged message intact, once, in the folder the journal says,
# also across a kill -9 of the server mid-run and a restart, and the Maildir++ tree on disk agrees
# (checked here independently of --verify); and --verify does fail when a message really is lost,
# damaged, duplicated into a second folder or put in the wrong one; with --folder INBOX it reads INBOX
# alone, and a message moved out of INBOX behind the journal's back is lost there.
source "$VCONS_TOP/tools/testlib.sh"
require_platform "mail load on $PLATFORM"
A=127.0.3.20
SP=2525 IP=1143
D=$T_TMP/data
J=$T_TMP/journal
MAIL=$B/guest/vcons-mail
LOAD=$B/vcons-mail-load
USERS=8

start() {
	: >"$T_TMP/server.out"
	spawn_guest "$MAIL" --addr $A --smtp-port $SP --imap-port $IP --data "$D" --users $USERS --threads 2 \
		>"$T_TMP/server.out" 2>>"$T_TMP/server.err"
	SERVER=$!
	t_wait_ready "$T_TMP/server.out" "$SERVER" 5
}
# field FILE TYPE OP KEY: KEY of the last JSON line of that type (and op) in FILE
field() {
	python3 - "$@" <<'PY'
import json, sys
f, typ, op, key = sys.argv[1:5]
v = None
for line in open(f):
    o = json.loads(line)
    if o.get("type") == typ and (op == "-" or o.get("op") == op):
        v = o.get(key)
print(v)
PY
}
verify() { "$LOAD" --target $A --imap-port $IP --verify --journal "$J" --json >"$T_TMP/verify.json"; }
# maildir_check: the journal's final word on every acknowledged message against the Maildir++ tree
# (Maildir/{cur,new} is INBOX, Maildir/.NAME/{cur,new} folder NAME): confirmed deleted -> in no
# folder; a delete in flight -> at most once, where it was; else exactly once, in its folder (or
# in the destination of a move in flight). Prints what it checked; fails on the first problem.
maildir_check() {
	python3 - "$D" "$J" <<'PY'
import os, re, sys
d, j = sys.argv[1:3]
st = {}
for line in open(j):
    f = line.split()
    if len(f) < 3 or (len(f) == 3 and f[0] not in "DX"):
        continue  # a line cut short by a crash
    k, key = f[0], (f[1], f[2])
    e = st.setdefault(key, {"acked": False, "folder": "INBOX", "pending": None, "moved": False, "del": None})
    if k == "A":
        e["acked"] = True
        if not e["moved"]:
            e["folder"] = f[4] if len(f) > 4 else "INBOX"
    elif k == "M":
        e["moved"], e["pending"] = True, f[3]
    elif k == "F":
        e["moved"], e["folder"], e["pending"] = True, f[3], None
    elif e["del"] != "X":
        e["del"] = k
where = {}
for user in (u for u in os.listdir(d) if u.startswith("user")):  # not key.pem, cert.pem
    md = os.path.join(d, user, "Maildir")
    for sub in ["."] + [x for x in os.listdir(md) if x.startswith(".") and not x.startswith("..")]:
        folder = "INBOX" if sub == "." else sub[1:]
        for part in ("cur", "new"):
            p = os.path.join(md, sub, part)
            for name in os.listdir(p) if os.path.isdir(p) else []:
                m = re.search(rb"X-Vcons-Id: (\S+)", open(os.path.join(p, name), "rb").read(8192))
                if m:
                    where.setdefault((m.group(1).decode(), user[4:]), []).append(folder)
n = moved = 0
for key, e in st.items():
    if not e["acked"]:
        continue
    n += 1
    moved += e["folder"] != "INBOX"
    got, ok_in = where.get(key, []), {e["folder"], e["pending"]}
    bad = (e["del"] == "X" and got) or (e["del"] == "D" and (len(got) > 1 or any(g not in ok_in for g in got))) \
        or (not e["del"] and (len(got) != 1 or got[0] not in ok_in))
    if bad:
        sys.exit(f"{key}: journal {e}, on disk in {got}")
print(f"maildirs agree with the journal: {n} acknowledged, {moved} of them outside INBOX")
assert moved > 0, "nothing was ever filed in a folder"
PY
}

t_check "server prints ready" start

# 1. A short native run: zero errors, real traffic of every kind, bodies checked.
"$LOAD" --target $A --smtp-port $SP --imap-port $IP --users $USERS --duration 3 --interval 1 --json \
	--journal "$J" >"$T_TMP/run1.json" 2>"$T_TMP/run1.err"
rc=$?
[[ $rc == 0 ]] && t_ok "load run exits 0" || t_fail "load run exits 0" "rc=$rc $(tail -3 "$T_TMP/run1.err")"
ops=$(field "$T_TMP/run1.json" summary all ops)
errs=$(field "$T_TMP/run1.json" summary all errors)
echo "run 1: $ops ops, $errs errors"
[[ $ops =~ ^[0-9]+$ && $ops -gt 200 && $errs == 0 ]] && t_ok "hundreds of mail ops with zero errors" ||
	t_fail "hundreds of mail ops with zero errors" "ops=$ops errors=$errs"
for op in login list create select fetch_flags fetch_headers fetch_body search move store expunge idle \
	smtp append logout; do
	n=$(field "$T_TMP/run1.json" summary $op ops)
	[[ $n =~ ^[0-9]+$ && $n -gt 0 ]] && t_ok "command type $op ran ($n)" || t_fail "command type $op ran" "ops=$n"
done
sessions=$(field "$T_TMP/run1.json" mail-checks - sessions)
per_hour=$(field "$T_TMP/run1.json" mail-checks - sessions_per_hour)
cmds=$(field "$T_TMP/run1.json" mail-checks - commands_per_session)
logouts=$(field "$T_TMP/run1.json" summary logout ops)
python3 -c 'import sys; s, h, c, l = map(float, sys.argv[1:]); assert s == l and s > 20 and abs(h - s * 3600 / 3) < 0.1 * h and c > 4, (s, h, c, l)' \
	"$sessions" "$per_hour" "$cmds" "$logouts" &&
	t_ok "sessions: $sessions done, $per_hour per hour, $cmds commands each" ||
	t_fail "sessions counted" "sessions=$sessions per_hour=$per_hour commands=$cmds logouts=$logouts"
for k in moved deleted appended parts_checked; do
	n=$(field "$T_TMP/run1.json" mail-checks - $k)
	[[ $n -gt 0 ]] && t_ok "messages $k: $n" || t_fail "messages $k" "$n"
done
fetched=$(field "$T_TMP/run1.json" mail-checks - fetched)
checked=$(field "$T_TMP/run1.json" mail-checks - checked_against_journal)
bad=$(field "$T_TMP/run1.json" mail-checks - checksum_errors)
[[ $checked -gt 0 && $bad == 0 ]] && t_ok "fetched bodies match what was sent ($checked of $fetched checked)" ||
	t_fail "fetched bodies match what was sent" "checked=$checked errors=$bad"
kinds=$(cut -c1 "$J" | sort -u | tr -d '\n')
[[ $kinds == ADFMX ]] && t_ok "the journal records acknowledgements, moves and deletes" ||
	t_fail "the journal records acknowledgements, moves and deletes" "kinds $kinds"
grep -q '^A .* Sent$' "$J" && t_ok "the journal records APPENDs to Sent" || t_fail "the journal records APPENDs to Sent"
if verify; then t_ok "verify: every acknowledged message is present and intact"; else
	t_fail "verify: every acknowledged message is present and intact" "$(cat "$T_TMP/verify.json")"; fi
present=$(field "$T_TMP/verify.json" verify - present)
folders=$(field "$T_TMP/verify.json" verify - folders)
[[ $present -gt 0 && $folders -gt $USERS ]] && t_ok "verify fetched real messages ($present in $folders folders)" ||
	t_fail "verify fetched real messages" "present=$present folders=$folders"
t_check "the Maildir++ tree agrees with the journal" maildir_check

# 2. kill -9 of the server in the middle of a run, restart on the same data, verify.
"$LOAD" --target $A --smtp-port $SP --imap-port $IP --users $USERS --duration 5 --interval 1 --json \
	--journal "$J" >"$T_TMP/run2.json" 2>"$T_TMP/run2.err" &
LOADPID=$!
T_PIDS+=("$LOADPID")
sleep 1.5
kill -9 "$SERVER"
wait "$SERVER" 2>/dev/null
before=$(grep -c '^A ' "$J")
sleep 0.5
t_check "server restarts after kill -9" start
wait "$LOADPID"
after=$(grep -c '^A ' "$J")
errs=$(field "$T_TMP/run2.json" summary all errors)
echo "run 2: acknowledged before the kill $before, at the end $after, errors while down $errs"
[[ $after -gt $before && $errs -gt 0 ]] && t_ok "the run spans the kill (errors while down, deliveries after)" ||
	t_fail "the run spans the kill" "before=$before after=$after errors=$errs"
if verify; then t_ok "verify after kill -9: no acknowledged message lost or damaged"; else
	t_fail "verify after kill -9: no acknowledged message lost or damaged" "$(cat "$T_TMP/verify.json")"; fi
n=$(find "$D" -path '*/Maildir/tmp/*' -type f | wc -l)
[[ $n == 0 ]] && t_ok "restart left no tmp/ files" || t_fail "restart left no tmp/ files" "$n files"
t_check "after kill -9: the Maildir++ tree agrees with the journal (nothing lost, nothing in two folders)" maildir_check

# 3. Idle sessions watch INBOX in IDLE (the default): open loop, so that they wait between their
# IDLE and its DONE while the working sessions deliver (reading nothing, so that they get to
# sending at once: the runs above left unread mail); then with imap_idle_pct=0: NOOPs.
"$LOAD" --target $A --smtp-port $SP --imap-port $IP --users $USERS --rate 80 --duration 3 --interval 0 \
	--json --journal "$J" --set idle_session_pct=50 --set send_mean=3 --set recipients_max=4 \
	--set read_pct=0 --set visit_pct=0 --set search_pct=0 >"$T_TMP/idle.json" 2>"$T_TMP/idle.err"
rc=$?
idles=$(field "$T_TMP/idle.json" summary idle ops)
idle_errs=$(field "$T_TMP/idle.json" summary idle errors)
noops=$(field "$T_TMP/idle.json" summary noop ops)
completed=$(field "$T_TMP/idle.json" mail-checks - idle_completed)
exists=$(field "$T_TMP/idle.json" mail-checks - idle_exists)
pushed=$(field "$T_TMP/idle.json" mail-checks - idle_exists_pushed)
echo "IDLE run: $idles IDLEs, $completed ended with DONE and OK, $exists EXISTS in them, $pushed pushed before DONE"
# (an IDLE under way when the run ends is ended by the run's close, not counted: one per user at most)
[[ $rc == 0 && $idles -gt 0 && $idle_errs == 0 && $noops == 0 && $completed -le $idles &&
	$completed -ge $((idles - USERS)) && $completed -gt 0 ]] &&
	t_ok "idle sessions IDLE by default, each IDLE ended with DONE and a tagged OK ($completed of $idles)" ||
	t_fail "idle sessions IDLE by default, each IDLE ended with DONE and a tagged OK" \
		"rc=$rc idle=$idles errors=$idle_errs noop=$noops completed=$completed $(tail -2 "$T_TMP/idle.err")"
[[ $pushed -gt 0 && $exists -ge $pushed ]] &&
	t_ok "deliveries during IDLE reached the idlers as untagged EXISTS before their DONE ($pushed)" ||
	t_fail "deliveries during IDLE reached the idlers as untagged EXISTS before their DONE" "exists=$exists pushed=$pushed"
"$LOAD" --target $A --smtp-port $SP --imap-port $IP --users 4 --duration 1 --interval 0 --json \
	--journal "$J" --set idle_session_pct=100 --set imap_idle_pct=0 >"$T_TMP/noop.json"
rc=$?
noops=$(field "$T_TMP/noop.json" summary noop ops)
idles=$(field "$T_TMP/noop.json" summary idle ops)
completed=$(field "$T_TMP/noop.json" mail-checks - idle_completed)
[[ $rc == 0 && $noops -gt 0 && $idles == 0 && $completed == 0 ]] &&
	t_ok "imap_idle_pct=0: idle sessions poll with NOOP ($noops), no IDLE" ||
	t_fail "imap_idle_pct=0: idle sessions poll with NOOP" "rc=$rc noop=$noops idle=$idles completed=$completed"

# 4. A YAML profile is read, --set overrides it; a bad one is refused with exit 2.
printf 'recipients_max: 3\nidle_session_pct: 0\nread_pct: 0\nvisit_pct: 0\nsend_mean: 2\nsize_median_bytes: 500\nsize_max_bytes: 2000\n' >"$T_TMP/p.yaml"
"$LOAD" --target $A --users 2 --duration 1 --interval 0 --json --journal "$J" --profile "$T_TMP/p.yaml" \
	--set recipients_max=1 >"$T_TMP/run3.json"
rc=$?
sent=$(field "$T_TMP/run3.json" mail-checks - sent)
acked=$(field "$T_TMP/run3.json" mail-checks - acked_recipients)
bodies=$(field "$T_TMP/run3.json" summary fetch_body ops)
noops=$(field "$T_TMP/run3.json" summary noop ops)
[[ $rc == 0 && $sent -gt 0 && $sent == "$acked" && $bodies == 0 && $noops == 0 ]] &&
	t_ok "profile: --set recipients_max=1 gives one copy per message; read_pct 0 reads nothing; no idle sessions" ||
	t_fail "profile obeyed" "rc=$rc sent=$sent acked=$acked fetch_body=$bodies noop=$noops"
for bad in 'read_pct: lots' 'send_weight: 1' 'move_pct: 50\ntrash_pct: 50\ndelete_pct: 1' 'imap_idle_pct: noop'; do
	printf '%b\n' "$bad" >"$T_TMP/bad.yaml"
	"$LOAD" --target $A --users 2 --duration 1 --profile "$T_TMP/bad.yaml" >/dev/null 2>"$T_TMP/bad.err"
	rc=$?
	[[ $rc == 2 && $(wc -l <"$T_TMP/bad.err") == 1 ]] && t_ok "a bad profile ($bad) exits 2: $(cat "$T_TMP/bad.err")" ||
		t_fail "a bad profile ($bad) exits 2" "rc=$rc $(cat "$T_TMP/bad.err")"
done
"$LOAD" --target $A --users 2 --duration 1 --set read_pct=200 >/dev/null 2>&1
[[ $? == 2 ]] && t_ok "a bad --set exits 2" || t_fail "a bad --set exits 2"
for bad in yes 101 -1; do
	"$LOAD" --target $A --users 2 --duration 1 --set imap_idle_pct=$bad >/dev/null 2>"$T_TMP/bad.err"
	rc=$?
	want="vcons-mail-load: --set imap_idle_pct=$bad: imap_idle_pct must be a number from 0 to 100, not '$bad'"
	[[ $rc == 2 && $(cat "$T_TMP/bad.err") == "$want" ]] &&
		t_ok "--set imap_idle_pct=$bad exits 2 with one line: $(cat "$T_TMP/bad.err")" ||
		t_fail "--set imap_idle_pct=$bad exits 2 with one line" "rc=$rc $(cat "$T_TMP/bad.err")"
done
# Open loop: --rate paces the users (Poisson arrivals from the engine) instead of running flat out.
"$LOAD" --target $A --users 4 --rate 300 --duration 2 --interval 0 --json --journal "$J" >"$T_TMP/run4.json"
ops=$(field "$T_TMP/run4.json" summary all ops)
errs=$(field "$T_TMP/run4.json" summary all errors)
mode=$(field "$T_TMP/run4.json" summary all mode)
[[ $mode == open && $ops -ge 420 && $ops -le 780 && $errs == 0 ]] &&
	t_ok "open loop at 300 ops/s for 2 s runs about 600 ops ($ops), no errors" ||
	t_fail "open loop at 300 ops/s for 2 s runs about 600 ops" "mode=$mode ops=$ops errors=$errs"

# Passwords from a file (vcons-mail --passwords), quoted IMAP strings included.
printf 'user1:pa ss"w\\rd\nuser2:s3cret\n' >"$T_TMP/pw"
spawn_guest "$MAIL" --addr 127.0.3.21 --data "$T_TMP/pwdata" --users 2 --passwords "$T_TMP/pw" >"$T_TMP/pw.out"
for _ in $(seq 100); do grep -q '^ready$' "$T_TMP/pw.out" && break; sleep 0.05; done
"$LOAD" --target 127.0.3.21 --users 2 --duration 1 --interval 0 --json --passwords "$T_TMP/pw" \
	--journal "$T_TMP/pw.journal" >"$T_TMP/run5.json"
errs=$(field "$T_TMP/run5.json" summary all errors)
fetched=$(field "$T_TMP/run5.json" mail-checks - fetched)
"$LOAD" --target 127.0.3.21 --verify --journal "$T_TMP/pw.journal" --passwords "$T_TMP/pw" >/dev/null
rc=$?
"$LOAD" --target 127.0.3.21 --verify --journal "$T_TMP/pw.journal" >/dev/null 2>&1
rc_wrong=$?
[[ $errs == 0 && $fetched -gt 0 && $rc == 0 && $rc_wrong == 1 ]] &&
	t_ok "--passwords: load and verify log in with the file's passwords, not without" ||
	t_fail "--passwords: load and verify log in with the file's passwords" "errors=$errs fetched=$fetched rc=$rc rc_wrong=$rc_wrong"

# Usage conventions.
"$LOAD" --help | grep -q -- '--verify' && t_ok "vcons-mail-load --help prints usage" ||
	t_fail "vcons-mail-load --help prints usage"
"$LOAD" --bogus >/dev/null 2>&1
[[ $? == 2 ]] && t_ok "vcons-mail-load: a bad option exits 2" || t_fail "vcons-mail-load: a bad option exits 2"
"$LOAD" --users 5 --mailboxes 2 >/dev/null 2>&1
[[ $? == 2 ]] && t_ok "vcons-mail-load: more users than mailboxes exits 2" ||
	t_fail "vcons-mail-load: more users than mailboxes exits 2"

# 5. The check can fail: remove one acknowledged message and damage another behind the server's back;
# then copy a third into a second folder and move a fourth into the wrong one (server stopped meanwhile,
# so that it indexes what is on disk when it starts again).
# (files in INBOX whose messages the journal says were acknowledged and never moved or deleted)
mapfile -t files < <(python3 - "$D" "$J" <<'PY'
import os, re, sys
d, j = sys.argv[1:3]
state = {}
for line in open(j):
    k, mid, user = line.split()[:3]
    if k == "A":
        state.setdefault((mid, user), "A")
    else:
        state[(mid, user)] = k
out = []
for user in sorted(u for u in os.listdir(d) if u.startswith("user")):  # not key.pem, cert.pem
    cur = os.path.join(d, user, "Maildir", "cur")
    for f in sorted(os.listdir(cur)):
        m = re.search(rb"X-Vcons-Id: (\S+)", open(os.path.join(cur, f), "rb").read())
        if m and state.get((m.group(1).decode(), user[4:])) == "A" and len(out) < 4:
            out.append(os.path.join(cur, f))
print("\n".join(out))
PY
)
if ((${#files[@]} == 4)); then
	rm -f "${files[0]}"
	python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(-3, 2); b = f.read(1); f.seek(-3, 2); f.write(bytes([b[0] ^ 0x20]))' "${files[1]}" # flip one body byte
	# the recipients' copies of one delivery are hard links of one file: each one is damaged
	links=$(stat -c %h "${files[1]}")
	verify
	rc=$?
	lost=$(field "$T_TMP/verify.json" verify - lost)
	corrupt=$(field "$T_TMP/verify.json" verify - corrupt)
	[[ $rc == 1 && $lost == 1 && $corrupt == "$links" ]] && t_ok "verify reports a removed and a damaged message" ||
		t_fail "verify reports a removed and a damaged message" "rc=$rc lost=$lost corrupt=$corrupt links=$links"
	kill "$SERVER"
	wait "$SERVER" 2>/dev/null
	inbox=$(dirname "$(dirname "${files[2]}")")
	# a name of the server's own form under a UID no Trash message has
	cp "${files[2]}" "$inbox/.Trash/cur/$(basename "${files[2]}" | sed 's/,U=[0-9]*/,U=900001/')"
	mv "${files[3]}" "$inbox/.Drafts/cur/"
	t_check "server restarts on the changed Maildirs" start
	verify
	rc=$?
	dup=$(field "$T_TMP/verify.json" verify - duplicated)
	mis=$(field "$T_TMP/verify.json" verify - misplaced)
	lost2=$(field "$T_TMP/verify.json" verify - lost)
	[[ $rc == 1 && $dup == 1 && $mis == 2 && $lost2 == "$lost" ]] &&
		t_ok "verify reports a message in two folders and one in the wrong folder" ||
		t_fail "verify reports a message in two folders and one in the wrong folder" "rc=$rc duplicated=$dup misplaced=$mis lost=$lost2"
	# --folder INBOX reads INBOX alone (one folder per user of the journal): the copy in Trash is not
	# seen, the message moved into Drafts is missing from INBOX, where the journal has it: lost
	"$LOAD" --target $A --imap-port $IP --verify --folder INBOX --journal "$J" --json >"$T_TMP/verify.json"
	rc=$?
	dup=$(field "$T_TMP/verify.json" verify - duplicated)
	mis=$(field "$T_TMP/verify.json" verify - misplaced)
	lost3=$(field "$T_TMP/verify.json" verify - lost)
	nf=$(field "$T_TMP/verify.json" verify - folders)
	users=$(awk '{ if ($3 > m) m = $3 } END { print m }' "$J")
	[[ $rc == 1 && $dup == 0 && $mis == 0 && $lost3 == $((lost + 1)) && $nf == "$users" ]] &&
		t_ok "verify --folder INBOX reads INBOX alone and reports the message moved out of it lost" ||
		t_fail "verify --folder INBOX reads INBOX alone and reports the message moved out of it lost" \
			"rc=$rc duplicated=$dup misplaced=$mis lost=$lost3 (want $((lost + 1))) folders=$nf users=$users"
else
	t_fail "verify reports a removed and a damaged message" "no messages left to damage"
fi

t_done
