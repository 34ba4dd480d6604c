#!/usr/bin/env bash
# workloads/web/test/crash_e2e.sh: acknowledged transfers survive kill -9 of vcons-web, including
# a kill in the middle of a load run (the journal replays cleanly and the state stays consistent).
source "$VCONS_TOP/tools/testlib.sh"
require_platform "web crash_e2e on $PLATFORM"
source "$VCONS_TOP/workloads/web/test/weblib.sh"
ADDR=127.0.2.4
DATA=$T_TMP/data
web_load_data "$DATA" --files 50 --addr $ADDR || t_fail "web load data"
web_start $ADDR "$DATA" --files 50 --users 100 || { t_fail "web server ready"; t_done; }

total=0 ok=0
for i in $(seq 1 20); do
	amt=$((i * 3))
	if curl -s --max-time 5 -d "user=11&amount=$amt&payee=p$i" http://$ADDR:8080/bank/transfer |
		grep -q "seq=$i</p>"; then
		ok=$((ok + 1))
		total=$((total + amt))
	fi
done
t_check "20 transfers acknowledged ($ok)" test $ok -eq 20
kill -9 "$WEB_PID"
wait "$WEB_PID" 2>/dev/null
web_start $ADDR "$DATA" --files 50 --users 100 || { t_fail "restart after kill -9"; t_done; }
want=$((100000000 + 11 * 100 - total))
curl -s --max-time 5 "http://$ADDR:8080/bank/summary?user=11" >"$T_TMP/s.html"
t_check "after kill -9: balance $want, seq 20" grep -q "user=11 balance=$want seq=20<" "$T_TMP/s.html"

# Kill -9 in the middle of a transfer-heavy load run, restart, and validate again.
"$B/vcons-web-load" --target $ADDR --files 50 --bank-users 100 --users 6 --duration 4 --json \
	--timeout-ms 2000 >"$T_TMP/l1.json" &
LOADPID=$!
sleep 1.5
kill -9 "$WEB_PID"
wait "$WEB_PID" 2>/dev/null
wait $LOADPID
web_start $ADDR "$DATA" --files 50 --users 100 || { t_fail "restart after kill -9 under load"; t_done; }
t_ok "restart after kill -9 under load (journal replayed)"
records=$(wc -l <"$DATA/journal.log")
t_check "journal holds the curl and load transfers ($records records)" test "$records" -gt 20
"$B/vcons-web-load" --target $ADDR --files 50 --bank-users 100 --users 6 --duration 2 --json \
	>"$T_TMP/l2.json"
errs=$(json_field "$T_TMP/l2.json" result "" errors)
ops=$(json_field "$T_TMP/l2.json" result "" ops)
t_check "consistent state after the crash: load run ops $ops, errors $errs" \
	test "${ops:-0}" -gt 0 -a "$errs" = 0
curl -s --max-time 5 "http://$ADDR:8080/bank/summary?user=11" >"$T_TMP/s2.html"
t_check "user 11 untouched by the load run" grep -q "user=11 balance=$want seq=20<" "$T_TMP/s2.html"
web_stop
t_done
