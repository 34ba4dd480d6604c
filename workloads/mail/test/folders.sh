#!/usr/bin/env bash
# E2E: IMAP folders with clients no one here wrote. Python's imaplib creates, lists, appends to,
# copies and moves between, renames and deletes folders, and every answer is checked against the
# Maildir++ directories on disk; a restart keeps folders, UIDs and subscriptions; mbsync (isync)
# mirrors a mailbox of several folders both ways, and a second run changes nothing.
source "$VCONS_TOP/tools/testlib.sh"
require_platform "mail folders on $PLATFORM"
A=127.0.3.11
SP=2526 IP=1144
D=$T_TMP/data
MAIL=$B/guest/vcons-mail

start() {
	spawn_guest "$MAIL" --addr $A --smtp-port $SP --imap-port $IP --data "$D" --users 3 --threads 2 \
		>"$T_TMP/server.out" 2>"$T_TMP/server.err"
	SERVER=$!
	t_wait_ready "$T_TMP/server.out" "$SERVER" 5
}
t_check "server prints ready" start

for f in Sent Drafts Trash Junk Archive; do
	[[ -d $D/user1/Maildir/.$f/cur && -s $D/user1/Maildir/.$f/vcons-uidvalidity ]] || missing+=" $f"
done
t_check "provisioning made the special-use folders${missing:+ (missing:$missing)}" test -z "${missing:-}"

t_check "imaplib: CREATE LIST APPEND COPY MOVE STATUS RENAME DELETE, answers and disk agree" \
	python3 "$TOP/workloads/mail/test/folders.py" $A $IP "$D" first
kill -TERM "$SERVER"
wait "$SERVER" || true
t_check "server restarts on the same data" start
t_check "after a restart: folders, UIDs, flags and subscriptions are still there" \
	python3 "$TOP/workloads/mail/test/folders.py" $A $IP "$D" again

# mbsync: a local Maildir++ tree of three folders mirrored to user2 and back.
if command -v mbsync >/dev/null; then
	L=$T_TMP/local
	mkdir -p "$L"/{cur,new,tmp} "$L"/.Lists/{cur,new,tmp} "$L"/.Lists.vcons/{cur,new,tmp}
	for i in 1 2 3; do
		for f in "" .Lists .Lists.vcons; do
			printf 'From: a@b.test\r\nSubject: %s %s\r\nMessage-ID: <%s%s@t>\r\n\r\nbody %s\r\n' \
				"${f:-inbox}" $i "$i" "$f" $i >"$L/$f/cur/100$i.$RANDOM.local:2,S"
		done
	done
	cat >"$T_TMP/mbsyncrc" <<CFG
IMAPAccount vcons
Host $A
Port $IP
User user2
Pass user2
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account vcons

MaildirStore local
Inbox $L
SubFolders Maildir++

Channel all
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
CFG
	if mbsync -c "$T_TMP/mbsyncrc" all >"$T_TMP/mbsync1.log" 2>&1; then
		t_ok "mbsync pushes a local mailbox of three folders"
	else
		t_fail "mbsync pushes a local mailbox of three folders" "$(tail -5 "$T_TMP/mbsync1.log")"
	fi
	n=$(find "$D/user2/Maildir/cur" "$D/user2/Maildir/.Lists/cur" "$D/user2/Maildir/.Lists.vcons/cur" \
		-type f 2>/dev/null | wc -l)
	t_check "the server has the nine messages in INBOX, Lists and Lists.vcons (found $n)" test "$n" = 9
	# a message delivered by SMTP and a remote folder's mail come down on the next run
	swaks --server $A:$SP --to user2@vcons.test --from x@example.org --header "Subject: by smtp" \
		--body "hi" >"$T_TMP/swaks.log" 2>&1 || t_fail "swaks delivers to user2" "$(tail -3 "$T_TMP/swaks.log")"
	if mbsync -c "$T_TMP/mbsyncrc" all >"$T_TMP/mbsync2.log" 2>&1 && grep -rqs "Subject: by smtp" "$L"/new "$L"/cur; then
		t_ok "mbsync brings a new INBOX message down"
	else
		t_fail "mbsync brings a new INBOX message down" "$(tail -5 "$T_TMP/mbsync2.log")"
	fi
	before=$(cd "$L" && find . -type f ! -name '.mbsync*' ! -name '.uidvalidity' | sort | md5sum)
	sbefore=$(cd "$D/user2/Maildir" && find . -type f | sort | md5sum)
	mbsync -V -c "$T_TMP/mbsyncrc" all >"$T_TMP/mbsync3.log" 2>&1
	after=$(cd "$L" && find . -type f ! -name '.mbsync*' ! -name '.uidvalidity' | sort | md5sum)
	safter=$(cd "$D/user2/Maildir" && find . -type f | sort | md5sum)
	if [[ $before == "$after" && $sbefore == "$safter" ]]; then
		t_ok "a third mbsync run changes nothing on either side"
	else
		t_fail "a third mbsync run changes nothing on either side" "$(tail -8 "$T_TMP/mbsync3.log")"
	fi
	# UIDs are never given twice: mbsync pulls only UIDs above the highest it has seen, so after
	# the newest message is deleted (mbsync expunges it on the server) and the server restarts, a
	# new message must get a new UID, or mbsync never brings it down.
	rm -f "$(grep -l "Subject: by smtp" "$L"/new/* "$L"/cur/*)"
	mbsync -c "$T_TMP/mbsyncrc" all >"$T_TMP/mbsync4.log" 2>&1
	left=$(grep -rl "Subject: by smtp" "$D/user2/Maildir/cur" "$D/user2/Maildir/new" | wc -l)
	t_check "mbsync expunges a locally deleted message on the server (left: $left)" test "$left" = 0
	kill -TERM "$SERVER"
	wait "$SERVER"
	t_check "server restarts on the same data" start
	swaks --server $A:$SP --to user2@vcons.test --from x@example.org --header "Subject: after restart" \
		--body "hi" >"$T_TMP/swaks2.log" 2>&1 || t_fail "swaks delivers to user2" "$(tail -3 "$T_TMP/swaks2.log")"
	mbsync -c "$T_TMP/mbsyncrc" all >"$T_TMP/mbsync5.log" 2>&1
	if grep -rqs "Subject: after restart" "$L"/new "$L"/cur; then
		t_ok "mbsync brings down a message delivered after the newest was expunged and the server restarted"
	else
		t_fail "mbsync brings down a message delivered after the newest was expunged and the server restarted" \
			"UIDs on the server: $(find "$D/user2/Maildir/new" "$D/user2/Maildir/cur" -type f -printf '%f\n' | grep -o 'U=[0-9]*' | tr '\n' ' ')"
	fi
else
	t_skip "mbsync mirrors folders" "mbsync (isync) is not installed"
fi
kill -TERM "$SERVER"
wait "$SERVER" || true
t_done
