# Sourced by benchmark scripts: `on_platform ADDR VCPUS PROGRAM ARGS...` runs a guest program as the
# benchmark's platform runs it: natively, or (VCONS_PLATFORM=hv) in a vcons-hv VM with that address
# and CPU count. BENCH_SUFFIX is "" natively and "-hv" on hv, for the JSON file's name.
# Started in the background (`on_platform ... &`), it execs the program, so $! is the program's (or
# vcons-hv's) PID and the script's clean-up stops the right process.
# On hv without a usable /dev/kvm the script ends at once with status 77, which tools/run-benches.sh
# reports as skipped.
BENCH_PLATFORM=${VCONS_PLATFORM:-native}
BENCH_SUFFIX=${VCONS_BENCH_SUFFIX:-}
if [[ $BENCH_PLATFORM == hv ]] && ! { [[ -c /dev/kvm ]] && : 2>/dev/null </dev/kvm; }; then
	echo "bench skipped: /dev/kvm is missing or cannot be opened (hv needs KVM)" >&2
	exit 77
fi
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
