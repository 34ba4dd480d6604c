#!/usr/bin/env bash
# E2E: vcons-mail over TLS with clients no one here wrote. swaks delivers with STARTTLS and with
# implicit TLS, authenticating (PLAIN, LOGIN); Python's imaplib and smtplib (tls.py) and curl read
# and send over STARTTLS and implicit TLS; every message is compared with the server's Maildir
# file; commands pipelined after STARTTLS are dropped; AUTH in the clear is refused; with
# --require-tls, LOGINDISABLED; vcons-mail-load runs with every session under TLS and --verify
# finds every acknowledged message.
source "$VCONS_TOP/tools/testlib.sh"
require_platform "mail TLS on $PLATFORM"
A=127.0.3.13
SP=2527 IP=1145 SSP=2467 ISP=1995
D=$T_TMP/data
MAIL=$B/guest/vcons-mail
LOAD=$B/vcons-mail-load

start() {
	spawn_guest "$MAIL" --addr $A --smtp-port $SP --imap-port $IP --smtps-port $SSP --imaps-port $ISP \
		--data "$D" --users 5 --threads 2 "$@" >"$T_TMP/server.out" 2>"$T_TMP/server.err"
	SERVER=$!
	t_wait_ready "$T_TMP/server.out" "$SERVER" 10
}
stop() {
	kill -TERM "$SERVER"
	wait "$SERVER" 2>/dev/null
}
# inbox_file USER TEXT: the files in user's INBOX holding TEXT
inbox_file() { find "$D/$1/Maildir/new" "$D/$1/Maildir/cur" -type f -exec grep -l -- "$2" {} +; }
# tls.py PHASE: its checks' TAP lines, each counted
py_checks() {
	python3 "$TOP/workloads/mail/test/tls.py" $A $SP $IP $SSP $ISP "$D" "$1" >"$T_TMP/tls-$1.log" 2>&1
	cat "$T_TMP/tls-$1.log"
	grep -q "^not ok" "$T_TMP/tls-$1.log" && T_FAILED=1
	grep -q "^ok - " "$T_TMP/tls-$1.log" || t_fail "tls.py $1 ran" "$(tail -3 "$T_TMP/tls-$1.log")"
}

t_check "server prints ready" start
# (that the certificate names $A is checked by every client below: they verify it)
if [[ -s $D/cert.pem && $(stat -c %a "$D/key.pem") == 600 ]]; then
	t_ok "start-up made DATA/key.pem (0600) and cert.pem"
else
	t_fail "start-up made DATA/key.pem (0600) and cert.pem" "$(ls -l "$D")"
fi

# swaks: STARTTLS + AUTH PLAIN, and implicit TLS (submission) + AUTH LOGIN, certificate checked.
n=0
for mode in "-tls --auth PLAIN -p $SP" "-tlsc --auth LOGIN -p $SSP"; do
	n=$((n + 1))
	tok="swaks-$n-$(date +%s%N)"
	# shellcheck disable=SC2086 # mode is several options
	if swaks --server $A $mode --auth-user user2 --auth-password user2 --tls-verify \
		--tls-ca-path "$D/cert.pem" --to user1@vcons.test --from tester@example.org \
		--header "X-Token: $tok" --body "swaks over TLS $n" >"$T_TMP/swaks$n.log" 2>&1 &&
		grep -q "TLS started" "$T_TMP/swaks$n.log" && grep -q "^<~  235 " "$T_TMP/swaks$n.log"; then
		t_ok "swaks $mode delivers, TLS and AUTH on the wire"
	else
		t_fail "swaks $mode delivers, TLS and AUTH on the wire" "$(tail -5 "$T_TMP/swaks$n.log")"
	fi
	f=$(inbox_file user1 "$tok")
	if [[ -n $f && $(wc -l <<<"$f") == 1 ]] && head -1 "$f" | grep -q "^Return-Path: <tester@example.org>" &&
		grep -q "swaks over TLS $n" "$f"; then
		t_ok "swaks $mode: the message is in user1's Maildir"
	else
		t_fail "swaks $mode: the message is in user1's Maildir" "files: ${f:-none}"
	fi
done

# Python's clients and the raw-socket refusals.
py_checks default

# curl: IMAP with STARTTLS required, and IMAPS; each fetch equals the Maildir file (looked up
# after it: the fetch sets \Seen, which renames the file).
for url in "imap://$A:$IP" "imaps://$A:$ISP"; do
	if curl -s --max-time 10 --ssl-reqd --cacert "$D/cert.pem" -u user1:user1 \
		"$url/INBOX;UID=1" -o "$T_TMP/curl.eml" && f=$(inbox_file user1 "swaks over TLS 1") &&
		[[ -n $f ]]; then
		t_same "curl $url (TLS required): UID 1 equals its Maildir file" "$f" "$T_TMP/curl.eml"
	else
		t_fail "curl $url (TLS required): UID 1 equals its Maildir file" "curl failed or no file"
	fi
done

# vcons-mail-load with every session under TLS (half STARTTLS, half implicit), certificate
# checked: no errors, completed IMAP sessions, every connection (SMTP and IMAP) TLS, resumptions,
# and --verify finds every message.
J=$T_TMP/journal
"$LOAD" --target $A --smtp-port $SP --imap-port $IP --smtps-port $SSP --imaps-port $ISP --users 4 \
	--mailboxes 5 --duration 3 --tls-pct 100 --tls-implicit-pct 50 --cacert "$D/cert.pem" --json \
	--journal "$J" >"$T_TMP/load.json" 2>"$T_TMP/load.err"
rc=$?
read -r ops errs sess conns tls resumed sent < <(python3 - "$T_TMP/load.json" <<'PY'
import json, sys
s = c = {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("type") == "summary" and o.get("op") == "all":
        s = o
    if o.get("type") == "mail-checks":
        c = o
print(s.get("ops"), s.get("errors"), c.get("sessions"), c.get("connections"), c.get("tls_sessions"),
      c.get("tls_resumed"), c.get("sent"))
PY
)
echo "load over TLS: rc=$rc ops=$ops errors=$errs sessions=$sess connections=$conns tls=$tls resumed=$resumed sent=$sent"
if [[ $rc == 0 && $ops -gt 20 && $errs == 0 && $sent -gt 0 && $sess -gt 0 && $conns -gt $sess &&
	$tls == "$conns" && $resumed -gt 0 ]]; then
	t_ok "vcons-mail-load --tls-pct 100: $ops ops, no errors, $sess sessions, all $tls connections TLS ($resumed resumed)"
else
	t_fail "vcons-mail-load --tls-pct 100" "rc=$rc ops=$ops errors=$errs sessions=$sess connections=$conns tls=$tls resumed=$resumed $(tail -2 "$T_TMP/load.err")"
fi
"$LOAD" --target $A --imap-port $IP --verify --journal "$J" >"$T_TMP/verify.log" 2>&1
t_check "vcons-mail-load --verify: every message acknowledged over TLS is there" test $? == 0

# --require-tls: LOGINDISABLED, MAIL only after STARTTLS; the same data and certificate.
stop
cp "$D/cert.pem" "$T_TMP/cert.before"
t_check "server restarts with --require-tls" start --require-tls
t_same "the certificate is kept across restarts" "$T_TMP/cert.before" "$D/cert.pem"
py_checks require
stop

# --cert/--key naming files that cannot be used: one line, exit 1, no server.
run_guest "$MAIL" --addr $A --data "$D" --users 5 --cert "$T_TMP/none.pem" >/dev/null 2>"$T_TMP/bad.err"
rc=$?
[[ $rc == 1 && $(wc -l <"$T_TMP/bad.err") == 1 ]] && grep -q "none.pem" "$T_TMP/bad.err" &&
	t_ok "an unusable --cert: one line naming it, exit 1" ||
	t_fail "an unusable --cert: one line naming it, exit 1" "rc=$rc $(cat "$T_TMP/bad.err")"
t_done
