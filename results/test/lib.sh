# results/test/lib.sh: helpers for the results tests (sourced after tools/testlib.sh): a real
# result from a fast native run, a results server on a loopback address, row counts.
VCONS=$B/vcons

# make_result OUTDIR [RULES]: runs `vcons run` natively (the quick rules unless RULES); prints the
# result dir.
# VCONS_RUNNER: another vcons for the run (e.g. build/vcons while testing build/san/vcons).
make_result() {
	CI=true "${VCONS_RUNNER:-$VCONS}" run --platform native --net 127.14 --rules "${2:-runrules/quick.yaml}" --out "$1" \
		>"$1.run.out" 2>&1
	sed -n 's/^result: //p' "$1.run.out" | tail -1 | xargs -r dirname
}

# variant SRC DST SUFFIX: a copy of result dir SRC whose run_id ends in SUFFIX (a distinct
# submission with the same figures: the verdict still agrees with the data).
variant() {
	mkdir -p "$2" && cp -r "$1/logs" "$2/" 2>/dev/null
	python3 - "$1/result.json" "$2/result.json" "$3" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["run_id"] += sys.argv[3]
json.dump(r, open(sys.argv[2], "w"), indent=1)
PY
}

# serve_start DB ADDR:PORT TRUST [ARGS...]: starts `vcons serve` and waits for its `ready` line;
# its PID in SERVE_PID, its output in $T_TMP/serve.out.
serve_start() {
	local db=$1 listen=$2 trust=$3
	shift 3
	: >"$T_TMP/serve.out"
	"$VCONS" serve --db "$db" --listen "$listen" --trust "$trust" "$@" >>"$T_TMP/serve.out" 2>&1 &
	SERVE_PID=$!
	T_PIDS+=("$SERVE_PID")
	t_wait_ready "$T_TMP/serve.out" "$SERVE_PID" && return 0
	cat "$T_TMP/serve.out"
	return 1
}

rows() { sqlite3 "$1" 'SELECT count(*) FROM results'; }
