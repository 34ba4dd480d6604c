# Sourced by benchmark scripts: `on_platform ADDR VCPUS PROGRAM ARGS...` runs a guest program as the
# benchmark's platform runs it: natively, or (VCONS_PLATFORM=hv) in a vcons-hv VM with that address
# and CPU count. BENCH_SUFFIX is "" natively and "-hv" on hv, for the JSON file's name.
# Started in the background (`on_platform ... &`), it execs the program, so $! is the program's (or
# vcons-hv's) PID and the script's clean-up stops the right process.
# On hv without a usable /dev/kvm the script ends at once with status 77, which tools/run-benches.sh
# reports as skipped (a native-only script that needs KVM calls bench_need_kvm itself).
# VCONS_BENCH_QUICK=1 (`make bench QUICK=1`, tools/test/benches.sh) runs every benchmark for a second
# or two at its smallest settings: it proves the script works end to end on its platform, and its
# figures mean nothing. `bench_pick FULL QUICK` prints the setting for the mode in force.
BENCH_PLATFORM=${VCONS_PLATFORM:-native}
BENCH_SUFFIX=${VCONS_BENCH_SUFFIX:-}
BENCH_QUICK=${VCONS_BENCH_QUICK:-}
bench_pick() { if [[ -n $BENCH_QUICK ]]; then echo "$2"; else echo "$1"; fi; }
# bench_need_kvm: ends the script with status 77 unless /dev/kvm opens for reading and writing.
bench_need_kvm() {
	if ! { [[ -c /dev/kvm ]] && : 2>/dev/null <>/dev/kvm; }; then
		echo "bench skipped: /dev/kvm is missing or cannot be opened read-write (hv needs KVM)" >&2
		exit 77
	fi
}
[[ $BENCH_PLATFORM != hv ]] || bench_need_kvm
on_platform() {
	local addr=$1 vcpus=$2
	shift 2
	local cmd=("$@")
	if [[ $BENCH_PLATFORM == hv ]]; then
		cmd=("${VCONS_BUILD:-build}/vcons-hv" --root / --net "$addr" --vcpus "$vcpus" --mem 2G
			--name "$(basename "$1")" -- "$@")
	fi
	if [[ $BASHPID != "$$" ]]; then
		exec "${cmd[@]}"
	fi
	"${cmd[@]}"
}
# bench_wait_ready OUTFILE PID [ERRFILE]: waits until the server started as PID prints "ready" into
# OUTFILE (60 s at most); ends the script with status 1, saying why, if it dies or stays silent.
bench_wait_ready() {
	local f=$1 pid=$2 i
	for ((i = 0; i < 60 * 20; i++)); do
		grep -q '^ready$' "$f" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "bench: the server (PID $pid) did not print \"ready\" into $f; its last words:" >&2
	tail -n 5 "${3:-$f}" >&2
	exit 1
}
# bench_stop PID: stops a server the script started (SIGTERM, by its PID) and reaps it. Never fails,
# also under `set -e` in an EXIT trap: a guest ended by SIGTERM makes vcons-hv exit 143, no bench error.
bench_stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
