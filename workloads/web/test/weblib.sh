# workloads/web/test/weblib.sh: helpers the web VM's end-to-end scripts source after testlib.sh.

# web_load_data DIR [ARGS...]: generates the file set, key and certificate into DIR.
web_load_data() {
	local dir=$1
	shift
	run_guest "$B/guest/vcons-web" --load --data "$dir" "$@" >/dev/null
}

# web_start ADDR DIR [ARGS...]: starts vcons-web on ADDR (ports 8080/8443) and waits for its
# "ready" line (at most 10 s). Sets WEB_PID. Returns 1 when it did not become ready.
web_start() {
	local addr=$1 dir=$2 i
	shift 2
	local out=$T_TMP/web-$addr-$RANDOM.out
	spawn_guest "$B/guest/vcons-web" --addr "$addr" --data "$dir" "$@" >"$out" 2>>"$T_TMP/web.err"
	WEB_PID=$!
	for ((i = 0; i < 100; i++)); do
		grep -q '^ready$' "$out" 2>/dev/null && return 0
		kill -0 "$WEB_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$T_TMP/web.err" >&2
	return 1
}

# web_stop: stops the server web_start started (SIGTERM) and waits for it, at most 5 s.
web_stop() {
	local i
	kill "$WEB_PID" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$WEB_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$WEB_PID" 2>/dev/null
}

# json_field FILE TYPE PAGE FIELD: FIELD of the last line of FILE with that "type" (and "page" or
# "op" when PAGE is not empty).
json_field() {
	python3 - "$@" <<'PY'
import json, sys
path, typ, page, field = sys.argv[1:5]
val = None
for line in open(path):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if o.get("type") != typ:
        continue
    if page and o.get("page", o.get("op")) != page:
        continue
    val = o.get(field)
print("" if val is None else val)
PY
}
