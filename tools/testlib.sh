# Shared helpers for vcons end-to-end test scripts (sourced, bash). Each check prints one TAP-style line
# that tools/run-tests.sh counts: "ok - NAME", "not ok - NAME", or "ok - NAME # SKIP REASON".
# Processes a script starts with `spawn` are the only ones it stops, by PID, when it exits.
set -uo pipefail
B=${VCONS_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build}
TOP=${VCONS_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
T_FAILED=0
T_PIDS=()
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vcons-test.XXXXXX")

t_ok() { echo "ok - $1"; }
t_fail() {
	echo "not ok - $1${2:+: $2}"
	T_FAILED=1
}
t_skip() { echo "ok - $1 # SKIP $2"; }

# t_check NAME CMD...: passes when CMD exits 0; its output goes to the log either way.
t_check() {
	local name=$1
	shift
	if "$@"; then t_ok "$name"; else t_fail "$name" "command failed: $*"; fi
}

# t_tool NAME CMD...: a check of the whole tree that prints one line per finding, then a summary line
# "TOOL: ..." (tools/lint.sh, check-readmes.py, layers.py): its output goes to the log; passes, named
# with the summary, when CMD exits 0, else fails with the exit status and the summary.
t_tool() {
	local name=$1 out rc summary
	shift
	out=$("$@" 2>&1)
	rc=$?
	echo "$out"
	summary=$(tail -1 <<<"$out")
	summary=${summary#*: }
	if ((rc == 0)); then
		t_ok "$name: $summary"
	else
		t_fail "$name" "exit $rc: $summary (one line per finding above)"
	fi
}

# t_same NAME FILE_A FILE_B: passes when both files are byte-identical; shows the diff otherwise.
t_same() {
	if cmp -s "$2" "$3"; then
		t_ok "$1"
	else
		t_fail "$1" "$2 and $3 differ"
		diff <(head -c 20000 "$2") <(head -c 20000 "$3") | head -40
	fi
}

# require_kvm NAME...: when /dev/kvm cannot be used, skips the named tests loudly and ends the script.
require_kvm() {
	local why=""
	if [[ ! -e /dev/kvm ]]; then
		why="/dev/kvm is missing (no KVM on this machine)"
	elif [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
		why="/dev/kvm is not readable and writable by $(id -un)"
	fi
	[[ -z $why ]] && return 0
	local n
	for n in "$@"; do t_skip "$n" "$why"; done
	echo "SKIPPED: $why" >&2
	exit 0
}

# spawn CMD...: starts CMD in the background and remembers its PID (in $!) for clean-up.
spawn() {
	"$@" &
	T_PIDS+=($!)
}

# The platform a test runs guest programs on: native (plain processes) or hv (one vcons-hv VM each).
# tools/run-tests.sh sets VCONS_PLATFORM=hv for the E2E_TESTS entries written "script.sh@hv".
PLATFORM=${VCONS_PLATFORM:-native}

# guest_cmd PROGRAM ARGS...: prints (NUL-separated) the command line that runs a guest program on the
# test's platform. On hv the VM's address is the program's --addr (default 127.0.0.1) and its root is
# "/" so that the test's host paths mean the same inside (the boundary itself is tested in hv/test).
guest_cmd() {
	if [[ $PLATFORM == hv ]]; then
		local addr=127.0.0.1 prev="" a
		for a in "$@"; do
			[[ $prev == --addr || $prev == --target ]] && addr=$a
			prev=$a
		done
		printf '%s\0' "$B/vcons-hv" --root / --net "$addr" --vcpus 8 --mem 2G \
			--name "$(basename "$1")" --
	fi
	printf '%s\0' "$@"
}

# spawn_guest PROGRAM ARGS...: like spawn, on the test's platform (its PID, of vcons-hv on hv, in $!).
spawn_guest() {
	local cmd
	mapfile -d '' cmd < <(guest_cmd "$@")
	spawn "${cmd[@]}"
}

# run_guest PROGRAM ARGS...: runs a guest program in the foreground on the test's platform.
run_guest() {
	local cmd
	mapfile -d '' cmd < <(guest_cmd "$@")
	"${cmd[@]}"
}

# require_platform NAME...: on hv, skips loudly where KVM cannot be used.
require_platform() {
	[[ $PLATFORM == hv ]] && require_kvm "$@"
	return 0
}

# t_wait_ready FILE PID [SECONDS]: waits (10 s unless told) for the server started as PID to print a
# line "ready" into FILE; returns 1 as soon as PID has ended, or when the time is up.
t_wait_ready() {
	local f=$1 pid=$2 i
	for ((i = 0; i < ${3:-10} * 20; i++)); do
		grep -q '^ready$' "$f" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# t_stop PID [SECONDS]: SIGTERM, then waits for PID (a child of this shell), SIGKILL after SECONDS (5
# unless told); returns its exit status, 1 when it had to be killed.
t_stop() {
	local pid=$1 i
	kill "$pid" 2>/dev/null
	for ((i = 0; i < ${2:-5} * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 1
	fi
	wait "$pid" 2>/dev/null
}

# t_check_stop PID: the check that a server started with spawn_guest stops on SIGTERM: natively
# cleanly (status 0); on hv, vcons-hv ends the VM on a host SIGTERM with 128 + 15 (hv/README.md,
# Signals: it does not deliver another process's signal to the guest).
t_check_stop() {
	if [[ $PLATFORM != hv ]]; then
		t_check "server stops cleanly on SIGTERM" t_stop "$1"
		return
	fi
	t_stop "$1"
	local rc=$?
	if ((rc == 143)); then t_ok "SIGTERM ends the VM (vcons-hv: status 128 + 15)"; else
		t_fail "SIGTERM ends the VM (vcons-hv: status 128 + 15)" "status $rc"; fi
}

t_cleanup() {
	local p
	for p in "${T_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${T_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT

# t_done: the script's exit status (0 when no check failed).
t_done() { exit "$T_FAILED"; }
