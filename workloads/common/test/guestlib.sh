# workloads/common/test/guestlib.sh: helpers for the end-to-end tests of the self-driving guest
# programs (vcons-jbb, vcons-idle, and vcons-qemu's launcher test), sourced after tools/testlib.sh.

# feed_start PROGRAM ARGS...: starts a guest program (on the test's platform) with its stdin on a FIFO
# the test holds open on fd 7, stdout in $T_TMP/out, stderr in $T_TMP/err; its PID in $GPID.
feed_start() {
	rm -f "$T_TMP/in"
	mkfifo "$T_TMP/in"
	exec 7<>"$T_TMP/in" # open both ends here, so that neither open blocks
	local cmd
	mapfile -d '' cmd < <(guest_cmd "$@")
	# the redirections of a background command apply in the child only: it does not hold fd 7
	"${cmd[@]}" <"$T_TMP/in" >"$T_TMP/out" 2>"$T_TMP/err" 7>&- &
	GPID=$!
	T_PIDS+=("$GPID")
}

# wait_exit PID SECONDS: waits up to SECONDS for PID to end; 0 when it did (status in $WAIT_RC).
wait_exit() {
	local pid=$1 i
	for ((i = 0; i < $2 * 20; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			WAIT_RC=$?
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# wait_lines FILE TYPE N: waits (up to 20 s) until FILE holds N lines of that "type".
wait_lines() {
	local i
	for ((i = 0; i < 400; i++)); do
		(($(grep -c "\"type\":\"$2\"" "$1" 2>/dev/null) >= $3)) && return 0
		sleep 0.05
	done
	return 1
}

# listen_start ADDR OUTFILE: a one-connection TCP listener on ADDR (an ephemeral port, in $LPORT)
# that writes what it receives to OUTFILE; it ends by itself after 60 s.
listen_start() {
	rm -f "$T_TMP/lport"
	spawn python3 -c '
import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
s.listen(1)
s.settimeout(60)
open(sys.argv[3], "w").write(str(s.getsockname()[1]))
c, _ = s.accept()
c.settimeout(60)
with open(sys.argv[2], "wb") as f:
    while True:
        b = c.recv(65536)
        if not b:
            break
        f.write(b)
        f.flush()
' "$1" "$2" "$T_TMP/lport"
	LISTENER=$!
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -s $T_TMP/lport ]] && LPORT=$(cat "$T_TMP/lport") && return 0
		sleep 0.05
	done
	return 1
}

# The checks both programs share. Each is one or two t_ok/t_fail lines with the same text for both.

# check_eof_stop: closes the stdin FIFO of the program feed_start started; it must end within 2 s,
# exit 0.
check_eof_stop() {
	exec 7>&-
	if wait_exit "$GPID" 2 && [[ $WAIT_RC == 0 ]]; then
		t_ok "closing stdin stops it within 2 s, exit 0"
	else
		t_fail "closing stdin stops it within 2 s, exit 0" "rc=${WAIT_RC:-still running}"
	fi
}

# check_clean_stop NAME: the program feed_start started ends within 2 s, exit 0, its last line
# marked final.
check_clean_stop() {
	if wait_exit "$GPID" 2 && [[ $WAIT_RC == 0 ]] &&
		tail -1 "$T_TMP/out" | grep -q '"final":true'; then
		t_ok "$1"
	else
		t_fail "$1" "rc=${WAIT_RC:-still running}"
	fi
}

# check_stop_line: a "stop" line to the program feed_start started stops it cleanly; then closes
# the FIFO.
check_stop_line() {
	echo stop >&7
	check_clean_stop "a stop line stops it with a final line"
	exec 7>&-
}

# check_sigterm: SIGTERM to the program feed_start started: natively a clean stop with a final line;
# under hv the VMM ends the VM (128+15). Then closes the FIFO.
check_sigterm() {
	kill -TERM "$GPID"
	if [[ $PLATFORM == hv ]]; then
		wait_exit "$GPID" 2 && [[ $WAIT_RC == 143 ]] &&
			t_ok "SIGTERM to vcons-hv ends the VM (143)" ||
			t_fail "SIGTERM to vcons-hv ends the VM (143)" "rc=${WAIT_RC:-still running}"
	else
		check_clean_stop "SIGTERM stops it cleanly with a final line"
	fi
	exec 7>&-
}

# check_usage PROGRAM HELP_WORD BAD...: --help exits 0 and mentions HELP_WORD; each BAD (a string of
# arguments, split on blanks) exits 2 with one line on stderr. Natively, as a user would run it.
check_usage() {
	local prog=$1 word=$2 bad rc
	shift 2
	"$prog" --help >"$T_TMP/help" && grep -q -- "$word" "$T_TMP/help" && t_ok "--help exits 0" ||
		t_fail "--help exits 0"
	for bad in "$@"; do
		# shellcheck disable=SC2086
		"$prog" $bad </dev/null >/dev/null 2>"$T_TMP/bad.err"
		rc=$?
		[[ $rc == 2 && $(wc -l <"$T_TMP/bad.err") == 1 ]] && t_ok "'$bad' exits 2 with one line" ||
			t_fail "'$bad' exits 2 with one line" "rc=$rc $(cat "$T_TMP/bad.err")"
	done
}
