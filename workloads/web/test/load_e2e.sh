#!/usr/bin/env bash
# workloads/web/test/load_e2e.sh: vcons-web natively against vcons-web-load (mixed banking pages,
# HTTP then HTTPS with TLS session resumption, HTTP/1.1 then HTTP/2 as the harness runs it):
# throughput > 0 and not one wrong answer.
source "$VCONS_TOP/tools/testlib.sh"
require_platform "web load_e2e on $PLATFORM"
source "$VCONS_TOP/workloads/web/test/weblib.sh"
ADDR=127.0.2.1
DATA=$T_TMP/data
web_load_data "$DATA" --files 300 --addr $ADDR || t_fail "web load data"
web_start $ADDR "$DATA" --files 300 --users 500 --threads 2 || { t_fail "web server ready"; t_done; }
t_ok "web server ready"

check_run() { # NAME FILE
	local ops errs
	ops=$(json_field "$2" result "" ops)
	errs=$(json_field "$2" result "" errors)
	if [[ -n $ops && $ops -gt 0 && $errs == 0 ]]; then
		t_ok "$1 (ops $ops, errors 0)"
	else
		t_fail "$1" "ops '$ops' errors '$errs' first error: $(json_field "$2" result "" first_error)"
	fi
	local p
	for p in static summary history transfer; do
		local n
		n=$(json_field "$2" qos "$p" pages)
		[[ -n $n && $n -gt 0 ]] || { t_fail "$1: page kind $p" "no $p pages"; return; }
	done
	t_ok "$1: every page kind ran"
}

"$B/vcons-web-load" --target $ADDR --files 300 --bank-users 500 --users 8 --duration 3 --json \
	>"$T_TMP/http.json"
check_run "load http closed loop" "$T_TMP/http.json"

"$B/vcons-web-load" --target $ADDR --files 300 --bank-users 500 --users 6 --duration 3 --json \
	--https --cacert "$DATA/cert.pem" --session-pages 3 --user-base 100 >"$T_TMP/https.json"
check_run "load https (CA-verified) closed loop" "$T_TMP/https.json"

"$B/vcons-web-load" --target $ADDR --files 300 --bank-users 500 --users 20 --think 0.05 \
	--duration 3 --json --user-base 200 >"$T_TMP/open.json"
check_run "load open loop with think times" "$T_TMP/open.json"
tol=$(json_field "$T_TMP/open.json" qos all tolerable_pct)
t_check "open loop QoS reported (tolerable $tol%)" python3 -c "import sys; sys.exit(not 0 < float('$tol') <= 100)"
n=$(grep -c '"type":"interval"' "$T_TMP/open.json")
t_check "interval report lines ($n)" test "$n" -ge 5

stat() { # FIELD of /stats
	curl -s --max-time 5 http://$ADDR:8080/stats |
		python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}
resumed() { stat tls_resumed; }

# HTTP/2 as the harness's load speaks it (h2c, open loop), then h2 by ALPN: one connection a user
# session, so about pages / session pages connections, every one of them HTTP/2.
c0=$(stat connections) h0=$(stat http2)
"$B/vcons-web-load" --target $ADDR --files 300 --bank-users 500 --users 20 --rate 100 --ramp 1 \
	--duration 4 --json --user-base 400 --http2 >"$T_TMP/h2.json"
check_run "load http2 (h2c prior knowledge) open loop" "$T_TMP/h2.json"
c1=$(stat connections) h1=$(stat http2)
ops=$(json_field "$T_TMP/h2.json" result "" ops)
# (two of the connections counted are this script's own /stats requests over HTTP/1.1)
t_check "http2: every load connection HTTP/2 ($((h1 - h0)) of $((c1 - c0)) - 2)" \
	test $((h1 - h0)) -eq $((c1 - c0 - 2))
t_check "http2: a connection per session, not per page ($((c1 - c0)) for $ops pages)" \
	test $((c1 - c0)) -gt 0 -a $((c1 - c0)) -le $((ops / 4 + 20))
"$B/vcons-web-load" --target $ADDR --files 300 --bank-users 500 --users 6 --duration 3 --json \
	--https --cacert "$DATA/cert.pem" --http2 --session-pages 3 --user-base 450 >"$T_TMP/h2s.json"
check_run "load http2 over TLS (h2 by ALPN) closed loop" "$T_TMP/h2s.json"
t_check "h2 over TLS: HTTP/2 connections counted" test "$(stat http2)" -gt "$h1"
r0=$(resumed)
t_check "TLS 1.3 sessions resumed across user sessions ($r0)" test "${r0:-0}" -gt 0
"$B/vcons-web-load" --target $ADDR --files 300 --bank-users 500 --users 4 --duration 2 --json \
	--tls12 --cacert "$DATA/cert.pem" --session-pages 2 --user-base 300 >"$T_TMP/tls12.json"
check_run "load https TLS 1.2" "$T_TMP/tls12.json"
r1=$(resumed)
t_check "TLS 1.2 sessions resumed ($((r1 - r0)))" test "$((r1 - r0))" -gt 0
web_stop
t_done
