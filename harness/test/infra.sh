#!/usr/bin/env bash
# harness/test/infra.sh (@hv, needs /dev/kvm: skips loudly without): the infrastructure workload
# end to end (issue 19, must-show 1 and 3). A one-CSU run under runrules/quick-infra.yaml moves
# one VM every 15 s of the 90 s measurement, round-robin over db, web, mail, java and idle, so each
# of the five moves at least once under load. One test case per method, each its own set of checks:
# `snapshot` (a cold migration through a snapshot file: snapshot with stop, then --restore) and
# `migrate` (live migration between two vcons-hv processes). Per method: the run is valid and every
# VM lived through it; every move is recorded ok with its figures and interval; each workload's own
# data checks pass after the run (vcons-db --check; vcons-mail-load --verify finds every
# acknowledged message; the web bank's journal adds up record by record and the generator, which
# checks every balance it is shown, stays within the rules' failures; jbb's --self-check held); the
# report shows the moves on its timeline; `vcons verify` agrees with the sealed result and
# disagrees once a move's downtime is changed. A third case, `warm`, saves every VM at the end of a
# quick run's warm-up and starts a second run from those snapshots (vcons run --save-snapshots,
# --from-snapshots). INFRA_METHODS="snapshot" (or "migrate", "warm") runs one case only.
set -uo pipefail
cd "$(dirname "$0")/../.."
source tools/testlib.sh
METHODS=${INFRA_METHODS:-snapshot migrate warm}
names=()
for m in $METHODS; do
	[[ $m == warm ]] && names+=("warm: save" "warm: run" "warm: recorded" "warm: db check"
		"warm: mail verify" "warm: web bank") && continue
	names+=("$m: run" "$m: every move ok" "$m: db check" "$m: mail verify" "$m: web bank"
		"$m: jbb self-check" "$m: report" "$m: verify" "$m: verify catches a changed downtime")
done
require_kvm "${names[@]}"
VCONS=build/vcons
tmp=$(mktemp -d /tmp/vcons-infra-test.XXXXXX)
trap 't_cleanup; rm -rf "$tmp"' EXIT
"$VCONS" keygen --out "$tmp/key" >/dev/null
mkdir -p "$tmp/trust" && cp "$tmp/key/vcons-key.pub.pem" "$tmp/trust/me.pem"

# mail: the run's Maildirs served natively again, and the generator's journal checked over IMAP
mail_verify() {
	local work=$1 pid ok=1
	build/guest/vcons-mail --addr 127.0.0.1 --smtp-port 12525 --imap-port 11143 \
		--data "$work/csu0-mail/data" --users 100 >"$tmp/mail.out" 2>"$tmp/mail.err" &
	pid=$!
	T_PIDS+=("$pid")
	for _ in $(seq 100); do grep -q ready "$tmp/mail.out" && break; sleep 0.1; done
	build/vcons-mail-load --target 127.0.0.1 --imap-port 11143 --verify \
		--journal "$work/csu0-mail-load.journal" --json >"$tmp/verify.json" || ok=0
	cat "$tmp/verify.json"
	kill "$pid"
	wait "$pid"
	((ok))
}

# web: every journal record's checksum, and per user seq + 1 and balance - amount
web_bank() {
	python3 - "$1/csu0-web/data/journal.log" "$2" <<'PY'
import json, sys
def fnv(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return "%016x" % h
last, n = {}, 0
for line in open(sys.argv[1], "rb"):
    head, _, sum_ = line.rstrip(b"\n").rpartition(b" ")
    assert fnv(head + b" ") == sum_.decode(), line
    _, user, seq, amount, bal, _ = head.split(b" ")
    user, seq, amount, bal = int(user), int(seq), int(amount), int(bal)
    if user in last:
        assert seq == last[user][0] + 1 and bal == last[user][1] - amount, line
    last[user] = (seq, bal)
    n += 1
r = json.load(open(sys.argv[2]))
web = [v for v in r["vms"] if v["role"] == "web"][0]
ops = sum(iv["ops"] for iv in web["intervals"]); err = sum(iv["errors"] for iv in web["intervals"])
cap = r["rules"]["qos"]["web"]["max_failure_pct"]
print("web: %d transfers journalled for %d users; %d errors in %d pages (cap %g%%)" % (n, len(last), err, ops, cap))
assert n > 0 and ops > 0
# The error cap holds the moves to the rules' downtime limit: where moves took longer (an emulated
# host, seconds a move), the connections that waited longer than the generator does are errors
# whatever hv does, and the cap says nothing; it is judged wherever every move kept the limit.
moves = r.get("migrations", [])
lim = r["rules"].get("infrastructure", {}).get("downtime_limit_ms", 0)
slow = [x for x in moves if x["downtime_ms"] > lim]
if slow:
    print("# web error cap not judged: %d of %d moves over the %g ms downtime limit" % (len(slow), len(moves), lim))
else:
    assert 100 * err / ops <= cap
PY
}

one_method() {
	local m=$1 rules=$tmp/quick-infra-$m.yaml out=$tmp/$m.out rc res work
	sed "s/method: migrate/method: $m/" runrules/quick-infra.yaml >"$rules"
	CI=true "$VCONS" run --platform hv --net 127.12 --rules "$rules" --out "$tmp/results-$m" \
		--keep-work >"$out" 2>&1
	rc=$?
	cat "$out"
	res=$(sed -n 's/^result: //p' "$out" | tail -1)
	work=$(sed -n 's/^VM disks kept in //p' "$out" | tail -1)
	if ((rc == 0)) && [[ -f $res && -d $work ]]; then t_ok "$m: run"; else
		t_fail "$m: run" "exit $rc"
		[[ -f $res ]] && python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("migrations"))' "$res"
		for f in "$(dirname "$res")"/logs/*.log; do echo "== $f"; tail -15 "$f"; done
		for n in "every move ok" "db check" "mail verify" "web bank" "jbb self-check" \
			"report" "verify" "verify catches a changed downtime"; do t_fail "$m: $n" "no run"; done
		return
	fi
	t_check "$m: every move ok" python3 - "$res" "$m" <<'PY'
import json, sys, jsonschema
r = json.load(open(sys.argv[1]))
jsonschema.validate(r, json.load(open("results/schema.json")))
assert r["status"] == "valid", r["failures"]
assert all(v["alive"] for v in r["vms"])
moves = r["migrations"]
for x in moves:
    print(x)
    assert x["ok"] and x["method"] == sys.argv[2], x
    assert x["total_ms"] > 0 and x["downtime_ms"] > 0 and x["pages"] > 0 and x["bytes"] > 0, x
    assert x["rounds"] >= 1 and 0 <= x["interval"] < 3, x
assert {x["role"] for x in moves} == {"db", "web", "mail", "java", "idle"}, moves
assert len(moves) == 6, len(moves)
inf = r["score"]["csus"][0]["infrastructure"]
print("score", r["score"]["csus"][0], "reasons", r["verdict"]["reasons"])
assert inf["moves"] == 6 and inf["ok"] == 6
PY
	t_check "$m: db check" build/guest/vcons-db --check --data "$work/csu0-db/data"
	t_check "$m: mail verify" mail_verify "$work"
	t_check "$m: web bank" web_bank "$work" "$res"
	t_check "$m: jbb self-check" python3 -c '
import json, sys
j = [v for v in json.load(open(sys.argv[1]))["vms"] if v["role"] == "java"][0]
print(j.get("last_report")); assert j["last_report"]["type"] == "self_check" and j["last_report"]["ok"]' "$res"
	"$VCONS" report "$res" --out "$tmp/$m.html" >"$tmp/$m.report" 2>&1
	cat "$tmp/$m.report"
	t_check "$m: report" python3 - "$tmp/$m.report" "$tmp/$m.html" <<'PY'
import re, sys
text, page = open(sys.argv[1]).read(), open(sys.argv[2]).read()
assert "VM moves" in text and len(re.findall(r"csu0-(db|web|mail|java|idle) at", text)) == 6, text
assert 'id="moves-timeline"' in page and page.count('class="move"') == 6
assert page.count("<tr>", page.index('id="moves-table"')) >= 7
PY
	local dir=$tmp/sealed-$m
	mkdir -p "$dir" && cp -r "$(dirname "$res")"/. "$dir/"
	"$VCONS" seal "$dir" --key "$tmp/key/vcons-key.pem" --out "$tmp/$m.sealed.json" >/dev/null
	t_check "$m: verify" "$VCONS" verify "$tmp/$m.sealed.json" --trust "$tmp/trust"
	# a move's downtime made 1 ms over the limit (or back within it): the infrastructure part
	# the data give differs from the recorded score
	python3 - "$dir/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
lim = r["rules"]["infrastructure"]["downtime_limit_ms"]
x = r["migrations"][0]
x["downtime_ms"] = lim + 1 if x["downtime_ms"] <= lim else lim / 2
json.dump(r, open(sys.argv[1], "w"))
PY
	"$VCONS" seal "$dir" --key "$tmp/key/vcons-key.pem" --out "$tmp/$m.tampered.json" >/dev/null
	"$VCONS" verify "$tmp/$m.tampered.json" --trust "$tmp/trust" >"$tmp/$m.tv" 2>&1
	rc=$?
	cat "$tmp/$m.tv"
	if ((rc != 0)) && grep -q "score" "$tmp/$m.tv"; then
		t_ok "$m: verify catches a changed downtime"
	else t_fail "$m: verify catches a changed downtime" "exit $rc"; fi
	rm -rf "$work"
}

# warm: a quick-rules run saves every VM at the end of its warm-up (--save-snapshots); a second run
# starts each VM from that state (--from-snapshots), with the disks as they were saved. Both runs
# are valid, the second records where it started from, and the workloads' own checks hold on the
# data both runs wrote: the web bank's journal goes on from the saved balances record by record.
warm_start() {
	local snaps=$tmp/snaps out rc res work n
	CI=true "$VCONS" run --platform hv --net 127.13 --rules runrules/quick.yaml \
		--save-snapshots "$snaps" --out "$tmp/results-save" >"$tmp/save.out" 2>&1
	rc=$?
	cat "$tmp/save.out"
	n=$(ls "$snaps"/*.snap 2>/dev/null | wc -l)
	res=$(sed -n 's/^result: //p' "$tmp/save.out" | tail -1)
	if ((rc == 0 && n == 5)) && python3 - "$res" "$snaps" <<'PY'; then
import json, sys, jsonschema
r = json.load(open(sys.argv[1]))
jsonschema.validate(r, json.load(open("results/schema.json")))
assert r["snapshots"] == {"saved_to": sys.argv[2]}, r["snapshots"]
PY
		t_ok "warm: save"
	else t_fail "warm: save" "exit $rc, $n snapshots"; fi
	out=$tmp/from.out
	CI=true "$VCONS" run --platform hv --net 127.13 --rules runrules/quick.yaml \
		--from-snapshots "$snaps" --out "$tmp/results-from" --keep-work >"$out" 2>&1
	rc=$?
	cat "$out"
	res=$(sed -n 's/^result: //p' "$out" | tail -1)
	work=$(sed -n 's/^VM disks kept in //p' "$out" | tail -1)
	if ((rc == 0)) && [[ -f $res && -d $work ]]; then t_ok "warm: run"; else
		t_fail "warm: run" "exit $rc"
		for f in "$(dirname "$res")"/logs/*.log; do echo "== $f"; tail -15 "$f"; done
		for n in "recorded" "db check" "mail verify" "web bank"; do t_fail "warm: $n" "no run"; done
		return
	fi
	t_check "warm: recorded" python3 - "$res" "$snaps" <<'PY'
import json, sys, jsonschema
r = json.load(open(sys.argv[1]))
jsonschema.validate(r, json.load(open("results/schema.json")))
assert r["status"] == "valid", r["failures"]
assert all(v["alive"] for v in r["vms"])
assert r["snapshots"] == {"from": sys.argv[2]}, r["snapshots"]
PY
	t_check "warm: db check" build/guest/vcons-db --check --data "$work/csu0-db/data"
	t_check "warm: mail verify" mail_verify "$work"
	t_check "warm: web bank" web_bank "$work" "$res"
	rm -rf "$work"
}

for m in $METHODS; do
	if [[ $m == warm ]]; then warm_start; else one_method "$m"; fi
done
t_done
