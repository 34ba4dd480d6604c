#!/usr/bin/env bash
# workloads/web/test/validation_e2e.sh: vcons-web-load counts a wrong answer as an error, never a
# success. A small impostor server (python) answers like vcons-web but can lie: a flipped byte in
# a file, a page for another user, a stale balance. Plus the programs' option conventions.
source "$VCONS_TOP/tools/testlib.sh"
require_platform "web validation_e2e on $PLATFORM"
source "$VCONS_TOP/workloads/web/test/weblib.sh"
ADDR=127.0.2.5
DATA=$T_TMP/data
web_load_data "$DATA" --files 20 --addr $ADDR || t_fail "web load data"

"$B/guest/vcons-web" --help >"$T_TMP/help" && grep -q -- --tls-port "$T_TMP/help"
t_check "vcons-web --help exits 0 with usage" test $? -eq 0
"$B/guest/vcons-web" --bogus 2>/dev/null
t_check "vcons-web bad option exits 2" test $? -eq 2
"$B/vcons-web-load" --users x 2>/dev/null
t_check "vcons-web-load bad value exits 2" test $? -eq 2
"$B/guest/vcons-web" --data "$T_TMP/nothing" --addr $ADDR --port 18080 --tls-port 0 2>/dev/null
t_check "vcons-web without a file set exits 1" test $? -eq 1

# The impostor: MODE ok | flip | user | balance. It serves the file set and a minimal banking mix.
cat >"$T_TMP/impostor.py" <<'PY'
import http.server, sys, threading
addr, port, data, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
sums = {}
for line in open(data + "/manifest.tsv"):
    path, size, fnv, ctype = line.rstrip("\n").split("\t")
    sums[path] = fnv
state, lock = {}, threading.Lock()
def fnv1a(b):
    h = 0xcbf29ce484222325
    for x in b:
        h = ((h ^ x) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def answer(self, body, s):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Vcons-Sum", s)
        self.end_headers()
        self.wfile.write(bytes(body))
    def page(self, user, debit):
        with lock:
            bal, seq = state.get(user, (100000000 + (user % 1000) * 100, 0))
            if debit:
                bal, seq = bal - debit, seq + 1
            state[user] = (bal, seq)
        shown_user = user + 1 if mode == "user" else user
        if mode == "balance" and debit:
            bal += 1  # a transfer answer that does not follow from the user's own history
        body = ('<p class="acct">user=%d balance=%d seq=%d</p>\n<img src="/images/i001.png">\n'
                % (shown_user, bal, seq)).encode()
        self.answer(body, fnv1a(body))
    def do_GET(self):
        path, _, q = self.path.partition("?")
        if path in sums:
            body = bytearray(open(data + path, "rb").read())
            if mode == "flip":
                body[len(body) // 2] ^= 1  # keeps the manifest's checksum header: a lie
            self.answer(body, sums[path])
        else:
            self.page(int(q.split("=")[1]), 0)
    def do_POST(self):
        form = dict(kv.split("=") for kv in
                    self.rfile.read(int(self.headers["Content-Length"])).decode().split("&"))
        self.page(int(form["user"]), int(form["amount"]))
http.server.ThreadingHTTPServer((addr, port), H).serve_forever()
PY

run_against() { # MODE [ARGS...] -> prints "ops errors" of a 1.5 s run
	local mode=$1
	shift
	spawn python3 "$T_TMP/impostor.py" $ADDR 8080 "$DATA" "$mode"
	local pid=$! i
	for ((i = 0; i < 50; i++)); do
		curl -s -o /dev/null --max-time 1 http://$ADDR:8080/static/f00001.bin && break
		sleep 0.1
	done
	"$B/vcons-web-load" --target $ADDR --files 20 --bank-users 100 --users 2 --duration 1.5 \
		--json --interval 0 "$@" >"$T_TMP/$mode.json"
	kill $pid
	wait $pid 2>/dev/null
	echo "$(json_field "$T_TMP/$mode.json" result "" ops) $(json_field "$T_TMP/$mode.json" result "" errors)"
}
page_errors() { json_field "$T_TMP/$1.json" qos "$2" errors; }

read -r ops errs < <(run_against ok)
t_check "honest impostor, full mix: $ops ops, $errs errors" test "${ops:-0}" -gt 0 -a "$errs" = 0
read -r ops errs < <(run_against flip --page /static/f00003.bin)
t_check "one flipped byte in a file: every op an error ($errs of $ops)" \
	test "${ops:-0}" -gt 0 -a "$errs" = "$ops"
read -r ops errs < <(run_against user)
t_check "pages for another user: every dynamic page an error ($(page_errors user summary) summary)" \
	test "$(page_errors user summary)" = "$(json_field "$T_TMP/user.json" qos summary pages)" \
	-a "$(page_errors user summary)" -gt 0 -a "$(page_errors user static)" = 0
read -r ops errs < <(run_against balance)
t_check "a transfer answer with a wrong balance is an error ($(page_errors balance transfer))" \
	test "$(page_errors balance transfer)" -gt 0 -a "$(page_errors balance static)" = 0
# --http2 against a server that speaks only HTTP/1.1 (the impostor): no page is a success.
read -r ops errs < <(run_against ok --http2)
t_check "--http2 against an HTTP/1.1-only server: every op an error ($errs of $ops)" \
	test "${ops:-0}" -gt 0 -a "$errs" = "$ops"
t_done
