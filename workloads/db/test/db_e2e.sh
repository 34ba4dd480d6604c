#!/usr/bin/env bash
# workloads/db/test/db_e2e.sh: vcons-db (natively, or in vcons-hv VMs for the @hv run) against vcons-db-load: throughput with zero errors,
# malformed input while a generator runs, kill -9 mid-run (committed New-Orders survive, TPC-C
# consistency holds), clean in-band shutdown, and the sqlite3 CLI's integrity check.
source "$VCONS_TOP/tools/testlib.sh"
require_platform "db end-to-end on $PLATFORM"
DB=$B/guest/vcons-db
LOAD=$B/vcons-db-load
ADDR=127.0.1.11
PORT=5440
D=$T_TMP/data
mkdir -p "$D"

# summary FILE OP FIELD: a field of the "summary" line of OP in a vcons-db-load --json output
summary() {
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("type") == "summary" and o.get("op") == sys.argv[2]:
        print(o[sys.argv[3]]); break
else:
    print("missing")' "$@"
}

SRV=""
start_server() {
	local out=$T_TMP/server.$1.out
	spawn_guest "$DB" --data "$D" --addr $ADDR --port $PORT --threads 2 >"$out" 2>&1
	SRV=$!
	t_wait_ready "$out" "$SRV" 5 && return 0
	echo "server did not start:" && cat "$out"
	return 1
}

# --- conventions
run_guest "$DB" --help | grep -q -- '--warehouses' && t_ok "vcons-db --help" || t_fail "vcons-db --help"
run_guest "$DB" --bogus 2>/dev/null
[[ $? == 2 ]] && t_ok "vcons-db bad option exits 2" || t_fail "vcons-db bad option exits 2"
"$LOAD" --rate -5 2>/dev/null
[[ $? == 2 ]] && t_ok "vcons-db-load bad value exits 2" || t_fail "vcons-db-load bad value exits 2"
"$LOAD" --target $ADDR --port $PORT --duration 1 2>/dev/null
[[ $? == 1 ]] && t_ok "vcons-db-load without a server exits 1" || t_fail "vcons-db-load without a server exits 1"
run_guest "$DB" --data "$D" --addr $ADDR --port $PORT 2>"$T_TMP/noload.err"
[[ $? == 1 ]] && grep -q -- '--load' "$T_TMP/noload.err" && t_ok "server without a database says --load" ||
	t_fail "server without a database says --load"

# --- load
start=$(date +%s%N)
t_check "load 2 warehouses" run_guest "$DB" --load --data "$D" --warehouses 2
ms=$((($(date +%s%N) - start) / 1000000))
((ms < 10000)) && t_ok "load takes ${ms} ms (< 10 s)" || t_fail "load time" "${ms} ms"
t_check "fresh database passes --check" run_guest "$DB" --check --data "$D"

# --- closed loop: throughput and zero errors, every transaction type exercised
start_server 1 || t_fail "server starts"
"$LOAD" --target $ADDR --port $PORT --users 4 --duration 3 --json >"$T_TMP/closed.json"
ops=$(summary "$T_TMP/closed.json" all ops)
errs=$(summary "$T_TMP/closed.json" all errors)
tps=$(summary "$T_TMP/closed.json" all ops_per_s)
echo "closed loop: ops=$ops errors=$errs tps=$tps"
[[ $ops =~ ^[0-9]+$ ]] && ((ops > 100)) && t_ok "closed loop throughput > 0 ($tps tx/s)" || t_fail "closed loop throughput" "ops=$ops"
[[ $errs == 0 ]] && t_ok "closed loop: 0 errors" || t_fail "closed loop: 0 errors" "errors=$errs"
for tx in new_order payment order_status delivery stock_level; do
	n=$(summary "$T_TMP/closed.json" $tx ops)
	[[ $n =~ ^[0-9]+$ ]] && ((n > 0)) && t_ok "closed loop ran $tx ($n)" || t_fail "closed loop ran $tx" "$n"
done
intervals=$(grep -c '"type":"interval"' "$T_TMP/closed.json")
((intervals >= 12)) && t_ok "interval lines ($intervals)" || t_fail "interval lines" "$intervals"

# --- malformed input while a generator runs: errors for the bad ones, nobody else disturbed
spawn "$LOAD" --target $ADDR --port $PORT --rate 200 --users 20 --duration 4 --json >"$T_TMP/open.json"
GEN=$!
sleep 0.5
python3 "$TOP/workloads/db/test/malformed.py" $ADDR $PORT || T_FAILED=1
wait $GEN
errs=$(summary "$T_TMP/open.json" all errors)
ops=$(summary "$T_TMP/open.json" all ops)
# At least 300 of the 800 intended, or, where the closed loop above found the server slower (an
# emulated CPU in the nested test guest serves ~50 tx/s), 3/4 of what it can do in the 4 s.
want=$(python3 -c "print(int(min(300, 0.75 * 4 * float('${tps:-0}'))))")
[[ $errs == 0 && $ops =~ ^[0-9]+$ ]] && ((ops > want)) && t_ok "open loop beside malformed clients: $ops ops (> $want), 0 errors" ||
	t_fail "open loop beside malformed clients" "ops=$ops (want > $want) errors=$errs"

# --- kill -9 mid-run: acknowledged New-Orders survive and the database stays consistent
spawn "$LOAD" --target $ADDR --port $PORT --users 4 --duration 4 --acked "$T_TMP/acked" --json >"$T_TMP/kill.json" 2>"$T_TMP/kill.err"
GEN=$!
sleep 2
kill -9 "$SRV"
wait "$SRV" 2>/dev/null
wait $GEN
t_check "generator survives the server's death" test "$(summary "$T_TMP/kill.json" all type)" != missing
kerrs=$(summary "$T_TMP/kill.json" all errors)
[[ $kerrs =~ ^[0-9]+$ ]] && ((kerrs > 0)) && t_ok "generator counted the outage as errors ($kerrs)" || t_fail "outage counted" "$kerrs"
acked=$(wc -l <"$T_TMP/acked")
((acked > 50)) && t_ok "acknowledged New-Orders before the kill: $acked" || t_fail "acknowledged New-Orders" "$acked"
t_check "--check passes after kill -9" run_guest "$DB" --check --data "$D"
# every acknowledged New-Order is in the database (looked up by the sqlite3 CLI, not our code)
values=$(sort -u "$T_TMP/acked" | awk '{printf "%s(%d,%d,%d)", (NR > 1 ? "," : ""), $1, $2, $3}')
want=$(sort -u "$T_TMP/acked" | wc -l)
found=$(sqlite3 "$D/vcons-db.sqlite" "SELECT count(*) FROM orders WHERE (o_w_id, o_d_id, o_id) IN (VALUES $values);")
[[ $found == "$want" ]] && t_ok "all $want acknowledged New-Orders survived kill -9" || t_fail "acknowledged New-Orders survived" "found $found of $want"
lines=$(sqlite3 "$D/vcons-db.sqlite" "SELECT count(*) FROM order_line WHERE (ol_w_id, ol_d_id, ol_o_id) IN (VALUES $values);")
[[ $lines =~ ^[0-9]+$ ]] && ((lines >= 5 * want)) && t_ok "their order lines survived ($lines)" || t_fail "order lines survived" "$lines"

# --- restart: serves again, then stops on the in-band shutdown request
start_server 2 || t_fail "server restarts"
"$LOAD" --target $ADDR --port $PORT --users 2 --duration 1 --json >"$T_TMP/after.json"
errs=$(summary "$T_TMP/after.json" all errors)
ops=$(summary "$T_TMP/after.json" all ops)
[[ $errs == 0 && $ops =~ ^[0-9]+$ ]] && ((ops > 0)) && t_ok "after restart: $ops ops, 0 errors" || t_fail "after restart" "ops=$ops errors=$errs"
python3 - $ADDR $PORT <<'PY'
import json, socket, struct, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
m = b'{"tx":"shutdown"}'
s.sendall(struct.pack(">I", len(m)) + m)
s.recv(100)
PY
for _ in $(seq 50); do kill -0 "$SRV" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SRV" 2>/dev/null; then t_fail "in-band shutdown stops the server"; else
	wait "$SRV"
	rc=$?
	[[ $rc == 0 ]] && grep -q '"type":"server_summary"' "$T_TMP/server.2.out" && t_ok "in-band shutdown: exit 0 with a summary" || t_fail "in-band shutdown" "rc=$rc"
fi
t_check "--check passes after the runs" run_guest "$DB" --check --data "$D"
ic=$(sqlite3 "$D/vcons-db.sqlite" "PRAGMA integrity_check;")
[[ $ic == ok ]] && t_ok "sqlite3 CLI: integrity_check ok" || t_fail "sqlite3 integrity_check" "$ic"
# --check is not a rubber stamp: break condition 1 with the CLI and watch it fail by name
sqlite3 "$D/vcons-db.sqlite" "UPDATE warehouse SET w_ytd = w_ytd + 1 WHERE w_id = 1;"
run_guest "$DB" --check --data "$D" 2>"$T_TMP/check.err"
[[ $? == 1 ]] && grep -q 'condition 1' "$T_TMP/check.err" && t_ok "--check names a broken condition 1" || t_fail "--check detects breakage" "$(cat "$T_TMP/check.err")"
t_done
