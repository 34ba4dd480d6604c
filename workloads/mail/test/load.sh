#!/usr/bin/env bash
# E2E: vcons-mail-load against vcons-mail, natively: a short closed-loop run sends, checks, fetches and
# deletes with zero errors and every fetched body matching its checksum; --verify finds every
# acknowledged message intact, also across a kill -9 of the server mid-run and a restart; and --verify
# does fail when a message really is lost or damaged.
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
for op in send check fetch delete; do
	n=$(field "$T_TMP/run1.json" summary $op ops)
	[[ $n =~ ^[0-9]+$ && $n -gt 0 ]] && t_ok "op $op ran ($n)" || t_fail "op $op ran" "ops=$n"
done
fetched=$(field "$T_TMP/run1.json" mail-checks - fetched)
checked=$(field "$T_TMP/run1.json" mail-checks - checked_against_journal)
bad=$(field "$T_TMP/run1.json" mail-checks - checksum_errors)
[[ $checked -gt 0 && $bad == 0 ]] && t_ok "fetched bodies match what was sent ($checked of $fetched checked)" ||
	t_fail "fetched bodies match what was sent" "checked=$checked errors=$bad"
grep -c '^A ' "$J" >/dev/null && t_ok "the journal records acknowledged messages" ||
	t_fail "the journal records acknowledged messages"
if verify; then t_ok "verify: every acknowledged message is present and intact"; else
	t_fail "verify: every acknowledged message is present and intact" "$(cat "$T_TMP/verify.json")"; fi
present=$(field "$T_TMP/verify.json" verify - present)
[[ $present -gt 0 ]] && t_ok "verify fetched real messages ($present)" || t_fail "verify fetched real messages"

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

# 3. A YAML profile is read; a bad one is refused with exit 2.
printf 'send_weight: 3\ncheck_weight: 1\ndelete_pct: 100\nrecipients_max: 1\nsize_median_bytes: 500\nsize_max_bytes: 2000\n' >"$T_TMP/p.yaml"
"$LOAD" --target $A --users 2 --duration 1 --interval 0 --json --journal "$J" --profile "$T_TMP/p.yaml" >"$T_TMP/run3.json"
rc=$?
sent=$(field "$T_TMP/run3.json" mail-checks - sent)
acked=$(field "$T_TMP/run3.json" mail-checks - acked_recipients)
[[ $rc == 0 && $sent -gt 0 && $sent == "$acked" ]] && t_ok "profile: recipients_max 1 gives one copy per message" ||
	t_fail "profile: recipients_max 1 gives one copy per message" "rc=$rc sent=$sent acked=$acked"
printf 'send_weight: lots\n' >"$T_TMP/bad.yaml"
"$LOAD" --target $A --users 2 --duration 1 --profile "$T_TMP/bad.yaml" >/dev/null 2>&1
[[ $? == 2 ]] && t_ok "a bad profile exits 2" || t_fail "a bad profile exits 2"
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

# 4. The check can fail: remove one acknowledged message and damage another behind the server's back.
# (two files whose messages the journal says were acknowledged and never deleted)
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
        if m and state.get((m.group(1).decode(), user[4:])) == "A" and len(out) < 2:
            out.append(os.path.join(cur, f))
print("\n".join(out))
PY
)
if ((${#files[@]} == 2)); then
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
else
	t_fail "verify reports a removed and a damaged message" "no messages left to damage"
fi

t_done
