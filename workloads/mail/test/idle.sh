#!/usr/bin/env bash
# E2E: IMAP IDLE (RFC 2177) and untagged updates between sessions (test/idle.py). Four sessions
# IDLE on INBOX of a server with two worker threads while smtplib delivers and imaplib APPENDs,
# STOREs, EXPUNGEs, COPYs and MOVEs in and out: each idler sees each change within 5 s, DONE ends
# it; without IDLE the changes come with the next command, EXPUNGE not during FETCH. Then the
# highest UIDs of INBOX and Archive are expunged / moved away, the server is killed with -9 and
# restarted: UIDNEXT and UIDVALIDITY are what they were and no UID is given twice. Last, with
# short timeouts: a plain session is logged out after --idle-timeout, an idler only after
# --imap-idle-timeout of quiet.
source "$VCONS_TOP/tools/testlib.sh"
require_platform "mail IDLE on $PLATFORM"
A=127.0.3.12
SP=2527 IP=1145
D=$T_TMP/data
MAIL=$B/guest/vcons-mail

start() {
	spawn_guest "$MAIL" --addr $A --smtp-port $SP --imap-port $IP --data "$D" --users 3 --threads 2 \
		"$@" >"$T_TMP/server.out" 2>"$T_TMP/server.err"
	SERVER=$!
	t_wait_ready "$T_TMP/server.out" "$SERVER" 10
}
idle() { python3 "$TOP/workloads/mail/test/idle.py" $A $IP $SP "$T_TMP/state.json" "$1"; }

t_check "server prints ready" start
t_check "idle.py: IDLE sees every change, updates follow RFC 3501 7.4.1" idle idle
kill -9 "$SERVER"
wait "$SERVER" 2>/dev/null
t_check "the server restarts after kill -9" start
t_check "idle.py: no UID given twice across the kill -9" idle restart
t_stop "$SERVER"
t_check "the server restarts with --idle-timeout 2 --imap-idle-timeout 5" \
	start --idle-timeout 2 --imap-idle-timeout 5
t_check "idle.py: --idle-timeout for sessions, --imap-idle-timeout for IDLE" idle timeouts
t_stop "$SERVER"
t_done
