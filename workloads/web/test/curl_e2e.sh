#!/usr/bin/env bash
# workloads/web/test/curl_e2e.sh: independent clients against vcons-web: curl over HTTP and HTTPS
# (verified against the generated certificate), over HTTP/1.1 and HTTP/2 (h2c with prior knowledge
# on the plain port, h2 by ALPN on the TLS port), gets exactly the file set's bytes and checksummed
# dynamic pages; ab and wrk drive it without failed or non-2xx answers.
source "$VCONS_TOP/tools/testlib.sh"
require_platform "web curl_e2e on $PLATFORM"
source "$VCONS_TOP/workloads/web/test/weblib.sh"
ADDR=127.0.2.2
DATA=$T_TMP/data
web_load_data "$DATA" --files 200 --addr $ADDR || t_fail "web load data"
web_start $ADDR "$DATA" --files 200 --users 100 || { t_fail "web server ready"; t_done; }

# The manifest matches the files on disk (sizes and count) and the server's copy.
curl -s --max-time 5 -o "$T_TMP/manifest.tsv" http://$ADDR:8080/manifest.tsv
t_same "curl http manifest" "$DATA/manifest.tsv" "$T_TMP/manifest.tsv"
t_check "manifest lists 200 files + 32 images" test "$(wc -l <"$T_TMP/manifest.tsv")" -eq 232

fails=0
for f in /static/f00000.bin /static/f00001.bin /static/f00057.bin /static/f00199.bin \
	/images/i000.png /images/i031.png; do
	curl -s --max-time 10 -o "$T_TMP/h" "http://$ADDR:8080$f" || fails=$((fails + 1))
	curl -s --max-time 10 --cacert "$DATA/cert.pem" -o "$T_TMP/s" "https://$ADDR:8443$f" ||
		fails=$((fails + 1))
	cmp -s "$T_TMP/h" "$DATA$f" || { echo "http $f differs"; fails=$((fails + 1)); }
	cmp -s "$T_TMP/s" "$DATA$f" || { echo "https $f differs"; fails=$((fails + 1)); }
	size=$(grep -P "^$f\t" "$DATA/manifest.tsv" | cut -f2)
	[[ $size == $(stat -c %s "$T_TMP/h") ]] || { echo "$f size not $size"; fails=$((fails + 1)); }
done
t_check "curl http+https static files and images equal the file set (6 files)" test $fails -eq 0

# HTTP/2: h2c with prior knowledge on the plain port, h2 by ALPN on the TLS port; HTTP/1.1 on both
# still (curl asks for h2 by ALPN by default over TLS, --http1.1 offers only HTTP/1.1).
fails=0
for f in /static/f00000.bin /static/f00057.bin /images/i031.png; do
	v=$(curl -s --max-time 10 --http2-prior-knowledge -o "$T_TMP/h" -w '%{http_version}' \
		"http://$ADDR:8080$f")
	[[ $v == 2 ]] || { echo "h2c $f: HTTP version '$v'"; fails=$((fails + 1)); }
	cmp -s "$T_TMP/h" "$DATA$f" || { echo "h2c $f differs"; fails=$((fails + 1)); }
	v=$(curl -s --max-time 10 --cacert "$DATA/cert.pem" -o "$T_TMP/s" -w '%{http_version}' \
		"https://$ADDR:8443$f")
	[[ $v == 2 ]] || { echo "h2 $f: HTTP version '$v'"; fails=$((fails + 1)); }
	cmp -s "$T_TMP/s" "$DATA$f" || { echo "h2 $f differs"; fails=$((fails + 1)); }
done
t_check "curl HTTP/2 (h2c prior knowledge, h2 by ALPN): the file set's bytes (3 files)" \
	test $fails -eq 0
v=$(curl -s --max-time 5 --http1.1 --cacert "$DATA/cert.pem" -o /dev/null -w '%{http_version}' \
	"https://$ADDR:8443/images/i000.png")
t_check "HTTPS without h2 in ALPN is HTTP/1.1 ($v)" test "$v" = 1.1
v=$(curl -s --max-time 5 -o /dev/null -w '%{http_version}' "http://$ADDR:8080/images/i000.png")
t_check "plain HTTP/1.1 on the port that also speaks h2c ($v)" test "$v" = 1.1
# several streams on one connection at once (curl -Z multiplexes over h2)
curl -s --max-time 10 -Z --cacert "$DATA/cert.pem" -w '%{http_version} %{http_code}\n' \
	-o "$T_TMP/z1" -o "$T_TMP/z2" -o "$T_TMP/z3" "https://$ADDR:8443/images/i001.png" \
	"https://$ADDR:8443/images/i002.png" "https://$ADDR:8443/static/f00003.bin" >"$T_TMP/z.txt"
t_check "curl -Z: three multiplexed h2 answers, each the file set's" bash -c \
	"[[ \$(grep -c '^2 200' '$T_TMP/z.txt') == 3 ]] && cmp -s '$T_TMP/z1' '$DATA/images/i001.png' &&
	 cmp -s '$T_TMP/z2' '$DATA/images/i002.png' && cmp -s '$T_TMP/z3' '$DATA/static/f00003.bin'"

# TLS 1.2 and 1.3 both work.
t_check "curl TLS 1.3" curl -s --max-time 5 --cacert "$DATA/cert.pem" --tlsv1.3 -o /dev/null \
	https://$ADDR:8443/
t_check "curl TLS 1.2" curl -s --max-time 5 --cacert "$DATA/cert.pem" --tlsv1.2 --tls-max 1.2 \
	-o /dev/null https://$ADDR:8443/

# Dynamic pages: the X-Vcons-Sum header is the FNV-1a of the body, the page is the user's.
fnv_ok() { # HEADERS BODY USER
	python3 - "$@" <<'PY'
import re, sys
hdr, body, user = open(sys.argv[1]).read(), open(sys.argv[2], "rb").read(), sys.argv[3]
h = 0xcbf29ce484222325
for b in body:
    h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
m = re.search(r"(?im)^x-vcons-sum: *([0-9a-f]{16})", hdr)
ok = m and int(m.group(1), 16) == h and ("user=%s balance=" % user).encode() in body
sys.exit(0 if ok else 1)
PY
}
curl -s --max-time 5 -D "$T_TMP/hd" -o "$T_TMP/b" "http://$ADDR:8080/bank/history?user=42"
t_check "curl history page checksum and user" fnv_ok "$T_TMP/hd" "$T_TMP/b" 42
curl -s --max-time 5 --http2-prior-knowledge -D "$T_TMP/hd" -o "$T_TMP/b" \
	"http://$ADDR:8080/bank/history?user=43"
t_check "curl h2c history page checksum and user" fnv_ok "$T_TMP/hd" "$T_TMP/b" 43
curl -s --max-time 5 --cacert "$DATA/cert.pem" -D "$T_TMP/hd" -o "$T_TMP/b" \
	"https://$ADDR:8443/bank/summary?user=7"
t_check "curl https summary page checksum and user" fnv_ok "$T_TMP/hd" "$T_TMP/b" 7
curl -s --max-time 5 -D "$T_TMP/hd" -o "$T_TMP/b" -d 'user=7&amount=125&payee=acme' \
	"http://$ADDR:8080/bank/transfer"
t_check "curl transfer answer" grep -q 'user=7 balance=100000575 seq=1' "$T_TMP/b"
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -d 'user=7&amount=999999999999&payee=x' \
	"http://$ADDR:8080/bank/transfer")
t_check "transfer over the balance is refused (409, got $code)" test "$code" = 409

# ab (HTTP/1.0 keep-alive) and wrk (HTTP/1.1): no failures, no non-2xx answers.
ab -k -q -n 20000 -c 16 "http://$ADDR:8080/static/f00150.bin" >"$T_TMP/ab.txt" 2>&1
complete=$(awk '/^Complete requests:/ {print $3}' "$T_TMP/ab.txt")
failed=$(awk '/^Failed requests:/ {print $3}' "$T_TMP/ab.txt")
if [[ $complete == 20000 && $failed == 0 ]] && ! grep -q 'Non-2xx' "$T_TMP/ab.txt"; then
	t_ok "ab 20000 keep-alive requests, 0 failed, 0 non-2xx"
else
	t_fail "ab" "complete '$complete' failed '$failed'"
	cat "$T_TMP/ab.txt"
fi
ab -q -n 2000 -c 8 "http://$ADDR:8080/bank/summary?user=3" >"$T_TMP/ab2.txt" 2>&1
failed=$(awk '/^Failed requests:/ {print $3}' "$T_TMP/ab2.txt")
t_check "ab dynamic page without keep-alive: 0 failed ($failed)" test "$failed" = 0

wrk -t2 -c32 -d2 "http://$ADDR:8080/static/f00100.bin" >"$T_TMP/wrk.txt" 2>&1
reqs=$(awk '/requests in/ {print $1}' "$T_TMP/wrk.txt")
if [[ ${reqs:-0} -gt 0 ]] && ! grep -qE 'Non-2xx|Socket errors' "$T_TMP/wrk.txt"; then
	t_ok "wrk $reqs requests, no socket errors, no non-2xx"
else
	t_fail "wrk" "$(cat "$T_TMP/wrk.txt")"
fi
web_stop
t_done
