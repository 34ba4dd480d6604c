#!/usr/bin/env bash
# results/test/load.sh: must-show 3 on 127.0.7.2: 50 concurrent clients (results/test/load.py)
# submit distinct submissions, resubmit acknowledged ones and list for 30 s; then every
# acknowledged submission is in the database exactly once under the id it was given, and no
# request failed. Then the server is killed with SIGKILL in the middle of a second burst and
# restarted on the same database: every acknowledged submission of both bursts is still there,
# and the database passes SQLite's integrity check. Figures (rates, latencies) go to the log.
set -uo pipefail
cd "$(dirname "$0")/../.."
source tools/testlib.sh
source results/test/lib.sh
ADDR=127.0.7.2:8071
URL=http://$ADDR
T=$T_TMP
CLIENTS=${VCONS_LOAD_CLIENTS:-50}
SECONDS_LOAD=${VCONS_LOAD_SECONDS:-30}

res=$(make_result "$T/results" harness/test/data/fast.yaml)
[[ -f $res/result.json ]] || {
	t_fail "fast native run made a result"
	cat "$T/results.run.out"
	t_done
}
"$VCONS" keygen --out "$T/key" >/dev/null
mkdir -p "$T/trust" && cp "$T/key/vcons-key.pub.pem" "$T/trust/"

# make_subs DIR PREFIX N: N distinct sealed submissions of the result (run ids PREFIX0..).
make_subs() {
	local dir=$1 prefix=$2 n=$3 i
	mkdir -p "$dir"
	python3 - "$res/result.json" "$T/v" "$prefix" "$n" <<'PY' || return 1
import json, os, sys
r = json.load(open(sys.argv[1]))
base = r["run_id"]
for i in range(int(sys.argv[4])):
    d = os.path.join(sys.argv[2], f"{sys.argv[3]}{i}")
    os.makedirs(d, exist_ok=True)
    r["run_id"] = f"{base}-{sys.argv[3]}{i}"
    json.dump(r, open(os.path.join(d, "result.json"), "w"))
PY
	for ((i = 0; i < n; i++)); do
		"$VCONS" seal "$T/v/$prefix$i" --key "$T/key/vcons-key.pem" --out "$dir/$prefix$i.json" \
			>/dev/null || return 1
	done
}
t0=$(date +%s.%N)
make_subs "$T/subs1" a 300 && make_subs "$T/subs2" b 100 && make_subs "$T/subs3" c 1
t_check "401 distinct submissions sealed" test "$(ls "$T/subs1" "$T/subs2" "$T/subs3" | grep -c json)" = 401
echo "sealing took $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}') s"

DB=$T/load.sqlite
serve_start "$DB" "$ADDR" "$T/trust" || t_fail "serve: ready"

# check_db ACKS... : every acknowledged {digest, id} is in the list exactly once under its id.
check_db() {
	curl -sf "$URL/api/results" >"$T/all.json" || return 1
	python3 - "$T/all.json" "$@" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["results"]
by_digest = {}
for r in rows:
    by_digest.setdefault(r["digest"], []).append(r["id"])
dupes = {d: ids for d, ids in by_digest.items() if len(ids) > 1}
acks = [json.loads(l) for f in sys.argv[2:] for l in open(f)]
lost = [a for a in acks if by_digest.get(a["digest"]) != [a["id"]]]
print(f"{len(rows)} rows, {len(acks)} acknowledged, {len(lost)} lost or moved, {len(dupes)} duplicated")
assert not dupes and not lost, (dupes, lost[:5])
assert len({a["digest"] for a in acks}) == len(acks), "one digest acknowledged as new twice"
PY
}

out=$(python3 results/test/load.py "$URL" "$T/subs1" "$CLIENTS" "$SECONDS_LOAD" "$T/acks1.jsonl")
echo "load: $out"
t_check "$CLIENTS clients for ${SECONDS_LOAD} s: every request answered, resubmits got their ids" \
	python3 -c '
import json, sys
s = json.loads(sys.argv[1])
assert s["http_failures"] == 0 and s["connection_failures"] == 0 and s["resubmit_mismatch"] == 0, s
assert s["acknowledged_new"] > 0 and s["gets"] > 0, s' "$out"
t_check "no lost or duplicated submission" check_db "$T/acks1.jsonl"
t_check "sqlite3 row count matches" test "$(rows "$DB")" = "$(wc -l <"$T/acks1.jsonl")"

# --- kill -9 during a burst, restart ------------------------------------------------------------
python3 results/test/load.py "$URL" "$T/subs2" 20 8 "$T/acks2.jsonl" >"$T/burst.out" &
burst=$!
T_PIDS+=("$burst")
for _ in $(seq 200); do # kill while the burst is going: after its 20th acknowledgement
	(($(wc -l 2>/dev/null <"$T/acks2.jsonl" || echo 0) >= 20)) && break
	sleep 0.1
done
kill -9 "$SERVE_PID"
wait "$burst"
echo "burst: $(cat "$T/burst.out")"
n2=$(wc -l <"$T/acks2.jsonl")
t_check "some submissions acknowledged before the kill ($n2)" test "$n2" -gt 0
serve_start "$DB" "$ADDR" "$T/trust" || t_fail "restart after kill -9"
t_check "after kill -9 and restart: every acknowledged submission is there" \
	check_db "$T/acks1.jsonl" "$T/acks2.jsonl"
t_check "after kill -9: integrity_check ok" test "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok
t_check "after restart: a new submission is stored" bash -c \
	'"$1" submit "$2" --to "$3" --retries 3 | grep -q "^stored as"' _ "$VCONS" \
	"$T/subs3/c0.json" "$URL"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
t_check "SIGTERM stops the restarted server (exit 0)" test $? = 0
t_done
