#!/usr/bin/env bash
# E2E: vcons-mail speaks SMTP and IMAP to clients no one here wrote (swaks, Python imaplib, curl),
# answers malformed input with the protocol's error replies while it keeps serving others, and never
# delivers a partial message (a client vanishing in DATA, tmp/ leftovers cleaned at start-up).
source "$VCONS_TOP/tools/testlib.sh"
require_platform "mail protocol on $PLATFORM"
A=127.0.3.10
SP=2525 IP=1143
MAX=65536
IDLE=2
D=$T_TMP/data
MAIL=$B/guest/vcons-mail

start() {
	spawn_guest "$MAIL" --addr $A --smtp-port $SP --imap-port $IP --data "$D" --users 5 --threads 2 \
		--max-size $MAX --idle-timeout $IDLE >"$T_TMP/server.out" 2>"$T_TMP/server.err"
	SERVER=$!
	t_wait_ready "$T_TMP/server.out" "$SERVER" 5
}
count() { find "$D/$1/Maildir/$2" -type f | wc -l; }

t_check "server prints ready" start

# swaks delivers; the message lands in user1's new/ with its body intact.
body="swaks body line 1
.a line that starts with a dot
last line $(date +%s%N)"
if swaks --server $A:$SP --to user1@vcons.test --from tester@example.org --header "Subject: swaks test" \
	--body "$body" >"$T_TMP/swaks.log" 2>&1; then
	t_ok "swaks delivers a message over SMTP"
else
	t_fail "swaks delivers a message over SMTP" "$(tail -5 "$T_TMP/swaks.log")"
fi
f=$(find "$D/user1/Maildir/new" -type f)
if [[ $(count user1 new) == 1 ]] && grep -q "^Subject: swaks test" "$f" &&
	grep -qF ".a line that starts with a dot" "$f" && ! grep -qF "..a line" "$f"; then
	t_ok "the swaks message is in user1/Maildir/new, dot-unstuffed"
else
	t_fail "the swaks message is in user1/Maildir/new, dot-unstuffed" "files: $(count user1 new)"
fi
[[ $(count user1 tmp) == 0 ]] && t_ok "nothing is left in tmp/ after delivery" ||
	t_fail "nothing is left in tmp/ after delivery"

# Python's imaplib logs in and fetches it; the bytes equal the Maildir file.
python3 - "$A" "$IP" "$T_TMP/imaplib.eml" "$D" <<'PY' >"$T_TMP/imaplib.log" 2>&1
import imaplib, sys
m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
m.login("user1", "user1")
typ, data = m.select("INBOX")
assert typ == "OK" and data == [b"1"], data
typ, data = m.fetch("1", "(RFC822.SIZE BODY.PEEK[])")
assert typ == "OK", data
open(sys.argv[3], "wb").write(data[0][1])
typ, data = m.fetch("1", "(INTERNALDATE)")
import glob, os, time
name = os.path.basename(glob.glob(sys.argv[4] + "/user1/Maildir/cur/*")[0])
t = time.mktime(imaplib.Internaldate2tuple(data[0]))  # a local struct_time back to the epoch
assert abs(int(t) - int(name.split(".")[0])) <= 1, (data, name)
typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
assert typ == "OK" and b"\\Seen" not in data[0], data  # PEEK did not set \Seen
m.logout()
PY
t_check "imaplib logs in, selects INBOX, fetches the message and its INTERNALDATE" test -s "$T_TMP/imaplib.eml"
f=$(find "$D/user1/Maildir/cur" -type f) # SELECT moved it from new/ to cur/
if [[ -n $f && -f $f ]]; then t_same "imaplib's copy equals the Maildir file" "$f" "$T_TMP/imaplib.eml"; else
	t_fail "imaplib's copy equals the Maildir file" "no message in cur/"; fi

# curl's IMAP client fetches it too (this sets \Seen: the file moves to its :2,S name).
if curl -s --max-time 10 -u user1:user1 "imap://$A:$IP/INBOX;MAILINDEX=1" -o "$T_TMP/curl.eml"; then
	t_same "curl imap:// fetches the same bytes" "$T_TMP/imaplib.eml" "$T_TMP/curl.eml"
else
	t_fail "curl imap:// fetches the same bytes" "curl failed"
fi
if ls "$D/user1/Maildir/cur/" | grep -q ':2,S$'; then t_ok "BODY[] set \\Seen in the Maildir name"; else
	t_fail "BODY[] set \\Seen in the Maildir name" "$(ls "$D/user1/Maildir/cur/")"; fi

# Malformed input: every error reply checked by code, then nothing partial was delivered.
t_check "malformed SMTP/IMAP input gets the protocol's errors, others are served" \
	python3 "$TOP/workloads/mail/test/malformed.py" $A $SP $IP $MAX $IDLE
sleep 0.3
[[ $(count user4 new) == 0 && $(count user4 cur) == 0 ]] &&
	t_ok "no rejected, oversized or abandoned message was delivered" ||
	t_fail "no rejected, oversized or abandoned message was delivered" "user4 has $(count user4 new) messages"
[[ $(count user4 tmp) == 0 ]] && t_ok "an abandoned DATA leaves nothing in tmp/" ||
	t_fail "an abandoned DATA leaves nothing in tmp/"
f5=$(find "$D/user5/Maildir" -type f -path '*/cur/*' -o -type f -path '*/new/*' | head -1)
if [[ -n $f5 ]] && grep -q "^\.stuffed line" "$f5"; then t_ok "dot-stuffed line stored unstuffed"; else
	t_fail "dot-stuffed line stored unstuffed"; fi

# A FETCH of a whole mailbox far bigger than the server's output buffer streams out intact.
if python3 - "$A" "$SP" "$IP" <<'PY' >"$T_TMP/bigfetch.log" 2>&1; then
import hashlib, imaplib, os, smtplib, sys
a, sp, ip = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sent = {}
s = smtplib.SMTP(a, sp)
for i in range(40):
    body = "\r\n".join(os.urandom(30).hex() for _ in range(700)) + "\r\n"
    msg = f"Subject: big {i}\r\n\r\n" + body
    s.sendmail("t@example.org", ["user3@vcons.test"], msg)
    sent[f"big {i}"] = hashlib.sha256(body.encode()).hexdigest()
s.quit()
m = imaplib.IMAP4(a, ip)
m.login("user3", "user3")
m.select("INBOX")
typ, data = m.fetch("1:*", "(BODY.PEEK[])")
assert typ == "OK", typ
got = {}
for item in data:
    if isinstance(item, tuple):
        raw = item[1]
        head, body = raw.split(b"\r\n\r\n", 1)
        subj = [l for l in head.split(b"\r\n") if l.startswith(b"Subject: ")][0][9:].decode()
        got[subj] = hashlib.sha256(body).hexdigest()
assert got == sent, (len(got), len(sent))
print(f"fetched {len(got)} messages, {sum(len(x[1]) for x in data if isinstance(x, tuple))} bytes")
m.logout()
PY
	t_ok "FETCH 1:* of a 1.7 MB mailbox streams every message intact"
else
	t_fail "FETCH 1:* of a 1.7 MB mailbox streams every message intact" "$(tail -3 "$T_TMP/bigfetch.log")"
fi

# A leftover in tmp/ (as a crash mid-delivery leaves) is removed at start-up and never shows up.
kill -9 "$SERVER"
wait "$SERVER" 2>/dev/null
printf 'Subject: partial\r\n\r\nhalf a mess' >"$D/user2/Maildir/tmp/123.leftover.vcons"
t_check "server restarts on the same data" start
[[ $(count user2 tmp) == 0 && $(count user2 new) == 0 ]] &&
	t_ok "tmp/ leftovers are cleaned at start-up and not delivered" ||
	t_fail "tmp/ leftovers are cleaned at start-up and not delivered" "tmp=$(count user2 tmp) new=$(count user2 new)"

# Usage conventions.
run_guest "$MAIL" --help | grep -q -- '--smtp-port' && t_ok "--help prints usage" || t_fail "--help prints usage"
run_guest "$MAIL" --bogus >/dev/null 2>&1
[[ $? == 2 ]] && t_ok "a bad option exits 2" || t_fail "a bad option exits 2"
t_done
