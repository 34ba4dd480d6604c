#!/usr/bin/env bash
# E2E: mail clients from Debian that no one here wrote, against vcons-mail over plain IMAP and SMTP
# on the test's loopback address, each compared with what the server's Maildir files hold after it:
# offlineimap3 mirrors a mailbox of several folders both ways (a run after it, and one after a
# server restart, change nothing); imapfilter runs a Lua script of searches, moves, copies, flag
# changes and deletes; neomutt sends a message over SMTP in batch mode, and from its compose screen
# with a copy through `record` to the IMAP folder Sent. A client that is not installed is skipped,
# loudly. None of them needs TLS: STARTTLS is switched off in each configuration.
source "$VCONS_TOP/tools/testlib.sh"
require_platform "real mail clients on $PLATFORM"
A=127.0.3.12
SP=2527 IP=1145
D=$T_TMP/data
MAIL=$B/guest/vcons-mail
VIEW=$TOP/workloads/mail/test/maildir_view.py

start() {
	spawn_guest "$MAIL" --addr $A --smtp-port $SP --imap-port $IP --data "$D" --users 4 --threads 2 \
		>"$T_TMP/server.out" 2>>"$T_TMP/server.err"
	SERVER=$!
	t_wait_ready "$T_TMP/server.out" "$SERVER" 5
}
restart() {
	t_stop "$SERVER" 10
	start
}
# snap DIR: the names and sizes of every file below DIR (a flag change renames a Maildir file)
snap() { (cd "$1" && find . -type f -printf '%P %s\n' | sort | md5sum); }
# smtp_send TO SUBJECT BODY [FROM]: one message with a Message-ID over SMTP (Python's smtplib)
smtp_send() {
	python3 - "$A" "$SP" "$@" <<'PY'
import smtplib, sys, uuid
a, port, to, subj, body = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
frm = sys.argv[6] if len(sys.argv) > 6 else "sender@example.org"
msg = (f"From: {frm}\r\nTo: {to}\r\nSubject: {subj}\r\nMessage-ID: <{uuid.uuid4().hex}@example.org>\r\n"
       f"\r\n{body}\r\n")
s = smtplib.SMTP(a, port)
s.sendmail(frm, [to], msg)
s.quit()
PY
}

# with_client PROGRAM PACKAGE WHAT FUNCTION: runs FUNCTION when PROGRAM is installed, else skips WHAT
# loudly (the TAP line and stderr)
with_client() {
	if command -v "$1" >/dev/null; then
		"$4"
	else
		t_skip "$3" "$1 (Debian package $2) is not installed"
		echo "SKIPPED: $1 (Debian package $2) is not installed" >&2
	fi
}

t_check "server prints ready" start

# ---- offlineimap3 (user2): a local Maildir tree of three folders, mirrored both ways ----
offlineimap_part() {
	local L=$T_TMP/oi/local rc=$T_TMP/oi/rc f i
	mkdir -p "$T_TMP/oi/meta"
	for f in INBOX Lists Lists.vcons; do
		mkdir -p "$L/$f"/{cur,new,tmp}
		for i in 1 2 3; do
			printf 'From: a@b.test\r\nSubject: %s %s\r\nMessage-ID: <%s.%s@local>\r\n\r\nbody %s\r\n' \
				"$f" $i $i "$f" $i >"$L/$f/cur/100$i.$i$RANDOM.local:2,S"
		done
	done
	cat >"$rc" <<CFG
[general]
accounts = vcons
metadata = $T_TMP/oi/meta
ui = basic

[Account vcons]
localrepository = local
remoterepository = remote

[Repository local]
type = Maildir
localfolders = $L

[Repository remote]
type = IMAP
remotehost = $A
remoteport = $IP
remoteuser = user2
remotepass = user2
ssl = no
starttls = no
maxconnections = 2
CFG
	# oimap N: one offlineimap run, its log in oi/runN.log; fails on an error or a warning
	oimap() {
		timeout 120 offlineimap -c "$rc" -o -u basic >"$T_TMP/oi/run$1.log" 2>&1 &&
			! grep -qE 'ERROR|WARNING|Traceback' "$T_TMP/oi/run$1.log"
	}
	# still N WHAT: run N changes no file on either side
	still() {
		local l0 s0
		l0=$(snap "$L") s0=$(snap "$D/user2/Maildir")
		oimap "$1"
		if [[ $l0 == "$(snap "$L")" && $s0 == "$(snap "$D/user2/Maildir")" ]]; then
			t_ok "offlineimap3: $2"
		else
			t_fail "offlineimap3: $2" "$(tail -5 "$T_TMP/oi/run$1.log")"
		fi
	}
	# same: the server's Maildir and the local tree hold the same folders, messages, flags, bytes
	same() { python3 "$VIEW" compare "$D/user2/Maildir" "$L" plain; }
	t_check "offlineimap3: the first run pushes three local folders and pulls the server's" oimap 1
	t_check "offlineimap3: the server's Maildir equals the local tree (9 messages, special-use folders)" same
	n=$(find "$D/user2/Maildir/cur" "$D/user2/Maildir/.Lists/cur" "$D/user2/Maildir/.Lists.vcons/cur" -type f | wc -l)
	t_check "offlineimap3: the server has INBOX, Lists and Lists.vcons with 3 messages each (found $n)" test "$n" = 9
	still 2 "a second run changes nothing on either side"

	# changes on both sides: locally a message deleted, one flagged, a new folder with a message;
	# on the server an SMTP delivery, a MOVE to Archive and \Answered set (Python's imaplib)
	# (offlineimap3 renamed the local files after the upload: found by their Subject)
	rm -f "$(grep -l '^Subject: Lists 1' "$L"/Lists/cur/*)"
	f=$(grep -l '^Subject: INBOX 2' "$L"/INBOX/cur/*)
	mv "$f" "${f%:2,S}:2,FS"
	mkdir -p "$L/Projects"/{cur,new,tmp}
	printf 'From: p@b.test\r\nSubject: project\r\nMessage-ID: <project@local>\r\n\r\nplan\r\n' >"$L/Projects/new/1009.p.local"
	smtp_send user2@vcons.test "by smtp" "hello offlineimap"
	python3 - "$A" "$IP" <<'PY' || t_fail "offlineimap3: server-side changes with imaplib"
import imaplib, sys
m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
m.login("user2", "user2")
m.select("Lists.vcons")
typ, d = m.uid("SEARCH", "HEADER", "Message-ID", "3.Lists.vcons@local")
assert typ == "OK" and len(d[0].split()) == 1, d
assert m.uid("MOVE", d[0].decode(), "Archive")[0] == "OK"
m.select("INBOX")
typ, d = m.uid("SEARCH", "HEADER", "Message-ID", "3.INBOX@local")
assert m.uid("STORE", d[0].decode(), "+FLAGS", "(\\Answered)")[0] == "OK"
m.logout()
PY
	t_check "offlineimap3: a run carries the changes both ways" oimap 3
	t_check "offlineimap3: the server's Maildir equals the local tree after it" same
	python3 "$VIEW" subjects "$D/user2/Maildir" >"$T_TMP/oi/subjects"
	cat >"$T_TMP/oi/want" <<'EOF'
Archive: Lists.vcons 3 [S]
Drafts: -
INBOX: INBOX 1 [S]
INBOX: INBOX 2 [FS]
INBOX: INBOX 3 [RS]
INBOX: by smtp []
Junk: -
Lists.vcons: Lists.vcons 1 [S]
Lists.vcons: Lists.vcons 2 [S]
Lists: Lists 2 [S]
Lists: Lists 3 [S]
Projects: project []
Sent: -
Trash: -
EOF
	t_same "offlineimap3: the server's folders hold what both sides changed" "$T_TMP/oi/want" "$T_TMP/oi/subjects"
	still 4 "the run after it changes nothing"
	t_check "server restarts on the same data" restart
	still 5 "after a server restart a run changes nothing (UIDVALIDITY and UIDs kept)"
}
with_client offlineimap offlineimap3 "offlineimap3 mirrors folders both ways" offlineimap_part

# ---- imapfilter (user3): a Lua script of searches, moves, copies, flags and deletes ----
imapfilter_part() {
	local i
	for i in "bob@example.net|lunch?|Noon at the usual place?" "alice@example.org|Quarterly report|Numbers are up." \
		"spam@junk.test|BUY NOW|$(printf 'x%.0s' {1..900})" "bob@example.net|re: lunch?|ok" \
		"carol@example.com|minutes|notes of the meeting" "spam@junk.test|cheap|y"; do
		IFS='|' read -r from subj body <<<"$i"
		smtp_send user3@vcons.test "$subj" "$body" "$from" || t_fail "imapfilter: SMTP set-up ($subj)"
	done
	cat >"$T_TMP/filter.lua" <<LUA
options.timeout = 30
options.starttls = false
options.create = false
options.expunge = true
acct = IMAP { server = '$A', port = $IP, username = 'user3', password = 'user3' }
assert(acct:create_mailbox('Filtered.bob'))
assert(acct:subscribe_mailbox('Filtered.bob'))
local exist, recent, unseen, uidnext = acct.INBOX:check_status()
print('status', exist, unseen, uidnext)
local bob = acct.INBOX:contain_from('bob@example.net')
print('from bob', #bob)
assert(bob:move_messages(acct['Filtered.bob']))
local big = acct.INBOX:contain_from('spam@') * acct.INBOX:is_larger(500)
print('big spam', #big)
assert(big:delete_messages())
local small = acct.INBOX:contain_from('spam@') - acct.INBOX:contain_subject('BUY')
print('small spam', #small)
assert(small:move_messages(acct.Junk))
local rep = acct.INBOX:match_subject('^Quart.*report\$')
print('report', #rep)
assert(rep:mark_flagged())
assert(rep:copy_messages(acct.Archive))
local mins = acct.INBOX:contain_body('meeting') + acct.INBOX:contain_subject('minutes')
print('minutes', #mins)
assert(mins:mark_seen())
print('unseen left', #acct.INBOX:is_unseen())
for _, mesg in ipairs(acct.Archive:select_all()) do
  local mbox, uid = table.unpack(mesg)
  print('archive', mbox[uid]:fetch_field('subject'))
end
for _, f in ipairs({ '', 'Filtered' }) do
  local mailboxes = f == '' and acct:list_all() or acct:list_all(f)
  table.sort(mailboxes)
  print('folders', table.concat(mailboxes, ' '))
end
local subs = acct:list_subscribed()
table.sort(subs)
print('subscribed', table.concat(subs, ' '))
LUA
	if timeout 120 imapfilter -c "$T_TMP/filter.lua" -v >"$T_TMP/imapfilter.log" 2>&1; then
		t_ok "imapfilter runs the script to its end"
	else
		t_fail "imapfilter runs the script to its end" "$(grep -v '^[CS] (' "$T_TMP/imapfilter.log" | tail -5)"
	fi
	grep -vE '^([CS] \(|Created|Subscribed|Fetched|[0-9]+ messages)' "$T_TMP/imapfilter.log" >"$T_TMP/imapfilter.out"
	printf '%s\n' "status	6	6	7" "from bob	2" "big spam	1" "small spam	1" "report	1" "minutes	1" \
		"unseen left	1" "archive	Subject: Quarterly report" \
		"folders	Archive Drafts Filtered INBOX Junk Sent Trash" "folders	Filtered/bob" \
		"subscribed	Archive Drafts Filtered/bob INBOX Junk Sent Trash" >"$T_TMP/imapfilter.want"
	t_same "imapfilter: the searches found what the messages hold" "$T_TMP/imapfilter.want" "$T_TMP/imapfilter.out"
	python3 "$VIEW" subjects "$D/user3/Maildir" >"$T_TMP/imapfilter.disk"
	cat >"$T_TMP/imapfilter.diskwant" <<'EOF'
Archive: Quarterly report [F]
Drafts: -
Filtered.bob: lunch? []
Filtered.bob: re: lunch? []
Filtered: -
INBOX: Quarterly report [F]
INBOX: minutes [S]
Junk: cheap []
Sent: -
Trash: -
EOF
	t_same "imapfilter: the Maildir holds the moves, copy, flags and deletes, nothing else" \
		"$T_TMP/imapfilter.diskwant" "$T_TMP/imapfilter.disk"
	t_check "imapfilter: its SUBSCRIBE is in the subscriptions file" grep -qx Filtered.bob "$D/user3/Maildir/subscriptions"
}
with_client imapfilter imapfilter "imapfilter runs a script of searches, moves and deletes" imapfilter_part

# ---- neomutt (user1 sends to user4): batch mode over SMTP; the compose screen with Fcc to IMAP Sent ----
neomutt_part() {
	local N=$T_TMP/nm
	mkdir -p "$N"
	# (editor "true" keeps the body given with -i; fast_reply skips the To/Subject prompts;
	# abort_unmodified no: a body the editor did not change is still sent)
	cat >"$N/muttrc" <<CFG
set hostname = "client.vcons.test"
set from = "user1@vcons.test"
set realname = "User One"
set smtp_url = "smtp://$A:$SP/"
set folder = "imap://user1@$A:$IP/"
set imap_user = "user1"
set imap_pass = "user1"
set record = "+Sent"
set copy = yes
set ssl_starttls = no
set ssl_force_tls = no
set header_cache = ""
set message_cachedir = ""
set tmpdir = "$N"
set editor = "true"
set fast_reply = yes
set abort_unmodified = no
CFG
	# nm_files SUBJECT DIR...: the files below DIR... whose Subject is SUBJECT
	nm_files() {
		local s=$1
		shift
		grep -rlx "Subject: $s"$'\r' "$@" 2>/dev/null
	}
	printf 'hello from neomutt in batch mode\n' >"$N/body1"
	if HOME=$N timeout 60 neomutt -n -F "$N/muttrc" -s "neomutt batch" -- user4@vcons.test <"$N/body1" \
		>"$N/batch.log" 2>&1; then
		t_ok "neomutt: batch mode sends over SMTP"
	else
		t_fail "neomutt: batch mode sends over SMTP" "$(tail -3 "$N/batch.log")"
	fi
	mapfile -t got < <(nm_files "neomutt batch" "$D/user4/Maildir/new" "$D/user4/Maildir/cur")
	if ((${#got[@]} == 1)) && grep -q "^hello from neomutt in batch mode"$'\r'"$" "${got[0]}"; then
		t_ok "neomutt: the batch message is in user4's Maildir, body intact"
	else
		t_fail "neomutt: the batch message is in user4's Maildir, body intact" "${#got[@]} files"
	fi
	# neomutt 20220429 (Debian 12) does not write an Fcc to an IMAP folder in batch mode: it says
	# so ("Fcc to an IMAP mailbox is not supported in batch mode") and sends without it
	mapfile -t sent < <(nm_files "neomutt batch" "$D/user1/Maildir/.Sent")
	if ((${#sent[@]} == 1)) || grep -q "not supported in batch mode" "$N/batch.log"; then
		t_ok "neomutt: batch mode's Fcc to IMAP Sent: $( ((${#sent[@]} == 1)) && echo written || echo 'not supported by this neomutt, as it says')"
	else
		t_fail "neomutt: batch mode's Fcc to IMAP Sent is written or refused with neomutt's reason" "$(tail -3 "$N/batch.log")"
	fi

	# the compose screen: typing "y" sends (SMTP) and saves the copy (IMAP APPEND to Sent)
	printf 'hello from the compose screen\n' >"$N/body2"
	HOME=$N python3 "$TOP/workloads/mail/test/pty_keys.py" 60 "Security:" y "$N/screen.log" -- \
		neomutt -n -d 5 -l "$N/debug" -F "$N/muttrc" -s "neomutt compose" -i "$N/body2" -- user4@vcons.test
	rc=$?
	if ((rc == 0)); then t_ok "neomutt: the compose screen sends (y)"; else
		t_fail "neomutt: the compose screen sends (y)" "status $rc: $(tr -c '[:print:]\n' ' ' <"$N/screen.log" | tail -c 300)"; fi
	# neomutt tries AUTHENTICATE PLAIN though no AUTH= is advertised; the server's NO (RFC 3501
	# 6.2.2: an unsupported mechanism) makes it LOGIN. Every other IMAP command must succeed.
	auth=$(grep -ho '> [a-z0-9]* AUTHENTICATE' "$N"/debug* | awk '{print $2}' | sort -u | paste -sd'|')
	bad=$(grep -h "IMAP command failed" "$N"/debug* | grep -Ev "failed: (${auth:-none}) NO ")
	t_check "neomutt: its IMAP commands (LOGIN, CAPABILITY, ENABLE, LIST, STATUS, APPEND) succeed${bad:+: $bad}" \
		test -z "$bad" -a -n "$(grep -h 'APPEND "Sent"' "$N"/debug*)"
	mapfile -t got < <(nm_files "neomutt compose" "$D/user4/Maildir/new" "$D/user4/Maildir/cur")
	mapfile -t sent < <(nm_files "neomutt compose" "$D/user1/Maildir/.Sent/cur" "$D/user1/Maildir/.Sent/new")
	if ((${#got[@]} == 1 && ${#sent[@]} == 1)); then
		t_ok "neomutt: the message is in user4's INBOX and in user1's Sent"
		# the same message: Message-ID and body; Sent's copy \Seen, as neomutt APPENDs it
		python3 - "${got[0]}" "${sent[0]}" <<'PY'
import re, sys
a, b = (open(p, "rb").read() for p in sys.argv[1:3])
mid = lambda d: re.search(rb"(?im)^Message-ID: (\S+)\r$", d).group(1)
body = lambda d: d.split(b"\r\n\r\n", 1)[1]
ok = mid(a) == mid(b) and body(a) == body(b) == b"hello from the compose screen\r\n"
print(("ok" if ok else "not ok") + " - neomutt: same Message-ID and body in INBOX and Sent")
ok2 = sys.argv[2].endswith(":2,S") and a.startswith(b"Return-Path: <user1@vcons.test>\r\n")
print(("ok" if ok2 else "not ok") + " - neomutt: Sent's copy is \\Seen; the delivery has its Return-Path")
sys.exit(0 if ok and ok2 else 1)
PY
		(($? == 0)) || T_FAILED=1
	else
		t_fail "neomutt: the message is in user4's INBOX and in user1's Sent" "${#got[@]} in INBOX, ${#sent[@]} in Sent"
	fi
}
with_client neomutt neomutt "neomutt sends a message into a mailbox and into Sent" neomutt_part

t_check_stop "$SERVER"
t_done
