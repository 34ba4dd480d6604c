# Helpers for the self-driving guest programs' end-to-end tests (vcons-jbb, vcons-idle), sourced after
# tools/testlib.sh.

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
