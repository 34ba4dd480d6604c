#!/usr/bin/env bash
# E2E: kill -9 of vcons-mail during APPEND, COPY, MOVE and EXPUNGE under load (four IMAP clients on
# two users), four kill points per kind at random offsets after the command was sent: after each
# restart the Maildir files and the IMAP view hold every acknowledged message once, where the
# clients were told it is, nothing twice, no message in two folders after a MOVE cut short, no COPY
# half done; at the end vcons-mail-load --verify --folder INBOX checks the INBOX journal against the
# clients' models.
# crash.py runs the rounds and starts and kills the server itself, by its PID.
source "$VCONS_TOP/tools/testlib.sh"
require_platform "mail crash safety on $PLATFORM"
A=127.0.3.22
IP=1146
D=$T_TMP/data
ROUNDS=${VCONS_CRASH_ROUNDS:-4}

mapfile -d '' server < <(guest_cmd "$B/guest/vcons-mail" --addr $A --smtp-port 2528 --imap-port $IP \
	--data "$D" --users 2 --threads 2)
python3 "$TOP/workloads/mail/test/crash.py" $A $IP "$D" 2 "$ROUNDS" "$B/vcons-mail-load" "$T_TMP" -- \
	"${server[@]}"
rc=$?
if ((rc == 0)); then t_ok "crash.py ran every round, every check passed"; else
	t_fail "crash.py ran every round, every check passed" "status $rc; server stderr: $(tail -3 "$T_TMP/server.err")"; fi
t_done
