#!/usr/bin/env bash
# results/test/submit.sh: the round trip of issue 7 (must-show 1 and 2) on 127.0.7.1: a fast native
# run, keygen, seal, verify; serve; submit; the same submission again is stored once; list with
# filters, fetch as JSON (checked against results/schema.json by python3-jsonschema) and HTML,
# compare. Then each rejection - a key the server does not trust, one byte changed, an oversized
# upload, malformed JSON, data contradicting the recorded verdict - by `vcons verify`, by the
# server (HTTP status and reason) and by `vcons submit` (exit code), with the database's row count
# (sqlite3 CLI) unchanged. Headless Chromium loads the list, a result and a comparison: their
# content is checked in the DOM and their screenshots are not blank and show the charts.
set -uo pipefail
cd "$(dirname "$0")/../.."
source tools/testlib.sh
source results/test/lib.sh
ADDR=127.0.7.1:8070
URL=http://$ADDR
T=$T_TMP
MAXB=2000000

# --- a result, keys, seal, verify -----------------------------------------------------------------
res=$(make_result "$T/results")
if [[ -f $res/result.json ]]; then t_ok "fast native run made a result"; else
	t_fail "fast native run made a result"
	cat "$T/results.run.out"
	t_done
fi
"$VCONS" keygen --out "$T/me" >/dev/null && "$VCONS" keygen --out "$T/stranger" >/dev/null
t_check "keygen: private key mode 0600" test "$(stat -c %a "$T/me/vcons-key.pem")" = 600
"$VCONS" keygen --out "$T/me" 2>"$T/kg.err"
t_check "keygen refuses to overwrite a key (exit 1)" test $? = 1
mkdir -p "$T/trust" && cp "$T/me/vcons-key.pub.pem" "$T/trust/me.pem"

t_check "seal" "$VCONS" seal "$res" --key "$T/me/vcons-key.pem" --out "$T/a.json"
"$VCONS" seal "$res" --key "$T/me/vcons-key.pem" --out "$T/a2.json" >/dev/null
t_same "sealing again gives the same bytes (same digest)" "$T/a.json" "$T/a2.json"
out=$("$VCONS" verify "$T/a.json" --trust "$T/trust")
rc=$?
echo "$out"
if ((rc == 0)) && [[ $out == verified* ]]; then t_ok "verify: ok"; else t_fail "verify: ok" "exit $rc"; fi
variant "$res" "$T/b" "-b"
"$VCONS" seal "$T/b" --key "$T/me/vcons-key.pem" --out "$T/b.json" >/dev/null

# --- serve, submit, list, fetch, compare ----------------------------------------------------------
DB=$T/results.sqlite
if serve_start "$DB" "$ADDR" "$T/trust" --max-bytes $MAXB; then t_ok "serve: ready"; else
	t_fail "serve: ready"
	t_done
fi
out=$("$VCONS" submit "$T/a.json" --to "$URL" --no-progress)
echo "$out"
t_check "submit: stored as id 1" grep -q "^stored as id 1:" <<<"$out"
out=$("$VCONS" submit "$T/a2.json" --to "$URL")
echo "$out"
t_check "the same submission again: answered with id 1, one row" \
	test "$(grep -c '^already stored as id 1:' <<<"$out")" = 1 -a "$(rows "$DB")" = 1
t_check "a second result: id 2" grep -q "^stored as id 2:" \
	<<<"$("$VCONS" submit "$T/b.json" --to "$URL")"

curl -sf "$URL/api/results" >"$T/list.json"
t_check "list: 2 results" python3 -c '
import json, sys
l = json.load(open(sys.argv[1]))
assert l["count"] == 2 and [r["id"] for r in l["results"]] == [1, 2], l' "$T/list.json"
count() { curl -sf "$URL/api/results?$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])'; }
t_check "list filters: platform, cpu, csus, compliant" test \
	"$(count platform=native) $(count platform=hv) $(count csus=1) $(count csus=2) $(count compliant=1) $(count compliant=0) $(count 'cpu=zzz')" \
	= "2 0 2 0 0 2 0"
curl -sf "$URL/api/results/1" >"$T/one.json"
t_check "fetch JSON: the result, valid against results/schema.json" python3 -c '
import json, sys, jsonschema
one, orig = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert one["id"] == 1 and one["result"] == orig, "differs from the sealed result"
jsonschema.validate(one["result"], json.load(open("results/schema.json")))' "$T/one.json" "$res/result.json"
curl -sf "$URL/api/results/1/submission" >"$T/back.json"
t_same "fetch the stored submission: byte-identical" "$T/a.json" "$T/back.json"
curl -sf "$URL/results/1" >"$T/one.html"
run_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$res/result.json")
score=$(python3 -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["score"]["run"])' "$res/result.json")
t_check "result page: run id, score, chart" grep -q "$run_id.*class=\"score\">$score<.*<svg" \
	<(tr -d '\n' <"$T/one.html")
curl -sf "$URL/results/1/report" >"$T/report.html"
t_check "the result's full report (vcons report's page)" python3 -c '
import sys
page = open(sys.argv[1]).read()
assert "vcons report: " + sys.argv[2] in page and page.count("<svg") >= 5, page[:200]' \
	"$T/report.html" "$run_id"
curl -sf "$URL/results?sort=score&order=desc" >"$T/list.html"
t_check "results page: sortable by links" grep -q 'href="/results?sort=run&amp;order=asc"' "$T/list.html"
t_check "compare JSON: both, per workload" python3 -c '
import json, sys
c = json.loads(sys.stdin.read())["results"]
assert [r["id"] for r in c] == [1, 2] and set(c[0]["normalized"]) == {"db", "java", "web", "mail"}, c
' < <(curl -sf "$URL/api/compare?ids=1,2")
t_check "compare page: two charts" test "$(curl -sf "$URL/compare?ids=1,2" | grep -o '<svg' | wc -l)" = 2
t_check "unknown result: 404" test "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/results/99")" = 404

# --- rejections: verify's exit code, the server's answer, submit's exit code, no new row -----------
before=$(rows "$DB")
"$VCONS" seal "$res" --key "$T/stranger/vcons-key.pem" --out "$T/untrusted.json" >/dev/null
python3 - "$T/a.json" "$T/onebyte.json" <<'PY'
import sys
s = open(sys.argv[1]).read()
i = s.index('"result.json":"') + len('"result.json":"') + 200  # inside the base64 of result.json
open(sys.argv[2], "w").write(s[:i] + ("B" if s[i] == "A" else "A") + s[i + 1:])
PY
python3 -c 'import sys; open(sys.argv[1], "w").write("{\"format\":\"vcons-submission/1\",\"files\":{" + "\"x\":\"" + "A" * 3000000 + "\"}}")' "$T/big.json"
printf '{"format": "vcons-submission/1", "manifest": ' >"$T/malformed.json"
variant "$res" "$T/liar" "-liar"
python3 - "$T/liar/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))  # claims a compliant run its figures do not support
r["verdict"] = {"valid": True, "compliant": True, "checks_passed": True, "reasons": []}
r["score"]["run"] = 3.5
json.dump(r, open(sys.argv[1], "w"))
PY
"$VCONS" seal "$T/liar" --key "$T/me/vcons-key.pem" --out "$T/liar.json" >/dev/null

# reject NAME FILE VERIFY_RC HTTP KIND
reject() {
	local name=$1 file=$2 vrc=$3 http=$4 kind=$5 rc code body
	if [[ $vrc != - ]]; then
		"$VCONS" verify "$file" --trust "$T/trust" 2>"$T/v.err"
		rc=$?
		cat "$T/v.err"
		t_check "$name: verify exit $vrc, says $kind" test "$rc" = "$vrc" -a \
			"$(grep -c ": $kind: " "$T/v.err")" = 1
	fi
	code=$(curl -s -o "$T/answer.json" -w '%{http_code}' --data-binary @"$file" "$URL/api/results")
	body=$(cat "$T/answer.json")
	echo "HTTP $code $body"
	t_check "$name: server answers $http with error $kind and a reason" python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
assert sys.argv[2] == sys.argv[3] and a["error"] == sys.argv[4] and len(a["reason"]) > 10, a
' "$T/answer.json" "$code" "$http" "$kind"
	"$VCONS" submit "$file" --to "$URL" --retries 1 2>"$T/s.err"
	rc=$?
	cat "$T/s.err"
	t_check "$name: submit exit ${vrc/-/9}, names it" test "$rc" = "${vrc/-/9}" -a \
		"$(grep -c "rejected (HTTP $http, $kind)" "$T/s.err")" = 1
	t_check "$name: database unchanged" test "$(rows "$DB")" = "$before"
}
reject "untrusted key" "$T/untrusted.json" 6 403 untrusted
reject "one byte changed" "$T/onebyte.json" 4 400 digest
reject "oversized upload" "$T/big.json" - 413 too_large
reject "malformed JSON" "$T/malformed.json" 3 400 malformed
reject "data contradict the verdict" "$T/liar.json" 8 400 verdict
t_check "rejections leave the database intact" test "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok

# --- the pages in headless Chromium ---------------------------------------------------------------
chrome=$(command -v chromium || command -v chromium-browser || true)
pages=("results" "results/1" "compare?ids=1,2")
if [[ -z $chrome ]]; then
	for p in "${pages[@]}"; do t_skip "chromium: /$p" "chromium is not installed (apt-get install chromium)"; done
	echo "SKIPPED: chromium is not installed" >&2
else
	# chromium_page PATH NAME: the DOM after loading, and a screenshot
	chromium_page() {
		timeout 90 "$chrome" --headless --no-sandbox --disable-gpu --no-first-run \
			--user-data-dir="$T/chrome" --dump-dom "$URL/$1" >"$T/$2.dom" 2>"$T/$2.chrome.err"
		timeout 90 "$chrome" --headless --no-sandbox --disable-gpu --no-first-run \
			--user-data-dir="$T/chrome" --window-size=1100,1000 --screenshot="$T/$2.png" \
			"$URL/$1" >/dev/null 2>>"$T/$2.chrome.err"
	}
	chromium_page results list
	t_check "chromium: /results lists both with their scores" python3 -c '
import re, sys
d = open(sys.argv[1]).read()
rows = re.findall(r"<tr><td class=\"n\"><a href=\"/results/(\d+)\">", d)
assert sorted(rows) == ["1", "2"] and d.count("class=\"n score\">" + sys.argv[2]) == 2, rows
' "$T/list.dom" "$score"
	t_check "chromium: /results screenshot not blank" python3 results/test/pngcheck.py "$T/list.png"
	chromium_page results/1 one
	t_check "chromium: /results/1 shows run, score, verdict, a chart" python3 -c '
import re, sys
d = open(sys.argv[1]).read()
assert sys.argv[2] in d and "class=\"score\">" + sys.argv[3] in d and "Verdict" in d, "content"
assert len(re.findall(r"<rect [^>]*><title>", d)) >= 4, "chart bars"' "$T/one.dom" "$run_id" "$score"
	t_check "chromium: /results/1 screenshot shows the chart" python3 results/test/pngcheck.py "$T/one.png" 31,119,180
	chromium_page "compare?ids=1,2" compare
	t_check "chromium: /compare shows both results and two charts" python3 -c '
import re, sys
d = open(sys.argv[1]).read()
assert d.count("<svg") == 2 and len(re.findall(r"<rect [^>]*><title>", d)) == 2 + 8, "charts"
assert d.count("/results/1\"") >= 1 and d.count("/results/2\"") >= 1, "rows"' "$T/compare.dom"
	t_check "chromium: /compare screenshot shows the charts" python3 results/test/pngcheck.py "$T/compare.png" 255,127,14
	mkdir -p build/test-logs && cp "$T"/{list,one,compare}.png build/test-logs/ 2>/dev/null
fi

# --- stop ------------------------------------------------------------------------------------------
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
t_check "SIGTERM stops the server (exit 0)" test $? = 0
t_check "submit: unreachable server, retried then exit 1" bash -c \
	'"$1" submit "$2" --to "$3" --retries 2 --backoff 0.1 2>&1 | grep -q "after 2 tries"; test ${PIPESTATUS[0]} = 1' \
	_ "$VCONS" "$T/a.json" "$URL"
t_check "usage: --help exit 0, bad option exit 2" bash -c \
	'"$1" serve --help >/dev/null && { "$1" submit --bogus 2>/dev/null; test $? = 2; }' _ "$VCONS"
t_done
