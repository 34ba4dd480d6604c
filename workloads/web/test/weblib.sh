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
	local addr=$1 dir=$2
	shift 2
	local out=$T_TMP/web-$addr-$RANDOM.out
	spawn_guest "$B/guest/vcons-web" --addr "$addr" --data "$dir" "$@" >"$out" 2>>"$T_TMP/web.err"
	WEB_PID=$!
	t_wait_ready "$out" "$WEB_PID" && return 0
	cat "$T_TMP/web.err" >&2
	return 1
}

# web_stop: stops the server web_start started (SIGTERM) and waits for it; SIGKILL after 30 s.
web_stop() { t_stop "$WEB_PID" 30; }

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
