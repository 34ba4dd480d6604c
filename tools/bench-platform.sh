# Sourced by benchmark scripts: `on_platform ADDR VCPUS PROGRAM ARGS...` runs a guest program as the
# benchmark's platform runs it: natively, or (VCONS_PLATFORM=hv) in a vcons-hv VM with that address
# and CPU count. BENCH_SUFFIX is "" natively and "-hv" on hv, for the JSON file's name.
BENCH_PLATFORM=${VCONS_PLATFORM:-native}
BENCH_SUFFIX=${VCONS_BENCH_SUFFIX:-}
on_platform() {
	local addr=$1 vcpus=$2
	shift 2
	if [[ $BENCH_PLATFORM == hv ]]; then
		"${VCONS_BUILD:-build}/vcons-hv" --root / --net "$addr" --vcpus "$vcpus" --mem 2G \
			--name "$(basename "$1")" -- "$@"
	else
		"$@"
	fi
}
