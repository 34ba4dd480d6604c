#!/usr/bin/env bash
# E2E: `vcons report` and `vcons compare` on recorded results (harness/test/data: a real native
# 1-CSU run, and an hv 2-CSU variant with hv exits and hv-clock dilation made from it by
# make-hv-fixture.py): usage and error exits; the page is well-formed HTML, self-contained, shows
# the scores, verdict reasons and the expected number of SVG charts, escapes result strings, and is
# written atomically next to the result by default; compare prints ratios against the baseline for
# results of different platforms and CSU counts. Then Debian's headless Chromium renders the page:
# the charts are in its DOM and a screenshot is not blank (blue bars, red target lines, many colours).
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/tools/testlib.sh"
V=$B/vcons
N=$TOP/harness/test/data/sample-result.json
H=$TOP/harness/test/data/sample-result-hv.json

# htmlcheck FILE: checks the page is well-formed (every element closed in order) and loads nothing
# from outside; prints "svgs=N" and the page's text for greps.
htmlcheck() {
	python3 - "$1" <<'PY'
import sys, re
from html.parser import HTMLParser
VOID = {"meta", "br", "img", "input", "hr", "link", "col", "wbr", "area", "base", "source"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.svgs, self.text, self.doctype = [], [], 0, [], False
    def handle_decl(self, d): self.doctype |= d.lower() == "doctype html"
    def handle_starttag(self, tag, attrs):
        if tag == "svg": self.svgs += 1
        for k, v in attrs:
            if k in ("src", "href") or k.startswith("on"): self.errors.append(f"{tag} {k}={v}")
        if tag == "script" or tag == "link": self.errors.append(f"<{tag}>")
        if tag not in VOID: self.stack.append(tag)
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'} at line {self.getpos()[0]}")
        else: self.stack.pop()
    def handle_data(self, d): self.text.append(d)
src = open(sys.argv[1], encoding="utf-8").read()
p = P(); p.feed(src); p.close()
if not p.doctype: p.errors.append("no <!DOCTYPE html>")
if p.stack: p.errors.append(f"unclosed: {p.stack}")
if re.search(r"(?:url\(|@import|https?://(?!www\.w3\.org/2000/svg))", src): p.errors.append("external reference")
for e in p.errors[:5]: print("ERROR", e)
print(f"svgs={p.svgs}")
print("".join(p.text))
sys.exit(1 if p.errors else 0)
PY
}

# 1. Usage and errors.
"$V" report >/dev/null 2>"$T_TMP/e"; rc=$?
[[ $rc == 2 && $(wc -l <"$T_TMP/e") == 1 ]] && t_ok "report without a result: usage, exit 2" ||
	t_fail "report without a result: usage, exit 2" "rc=$rc $(cat "$T_TMP/e")"
"$V" report "$N" --bogus >/dev/null 2>"$T_TMP/e"; rc=$?
[[ $rc == 2 ]] && grep -q -- "--bogus" "$T_TMP/e" && t_ok "report bad option names it, exit 2" ||
	t_fail "report bad option names it, exit 2" "rc=$rc $(cat "$T_TMP/e")"
"$V" report --help >"$T_TMP/o"; rc=$?
[[ $rc == 0 ]] && grep -q "^usage: vcons report" "$T_TMP/o" && t_ok "report --help" || t_fail "report --help" "rc=$rc"
# lib/opt's forms: options before or after the result, "--" ending them, a missing value named.
"$V" report --out "$T_TMP/first.html" -- "$N" >/dev/null 2>"$T_TMP/e"; rc=$?
[[ $rc == 0 && -s $T_TMP/first.html ]] && t_ok "report: options before the result, -- ends them" ||
	t_fail "report: options before the result, -- ends them" "rc=$rc $(cat "$T_TMP/e")"
"$V" report "$N" --out >/dev/null 2>"$T_TMP/e"; rc=$?
[[ $rc == 2 && $(cat "$T_TMP/e") == "vcons report: --out: needs a value (see --help)" ]] &&
	t_ok "report: a missing value is one line naming the option, exit 2" ||
	t_fail "report: a missing value is one line naming the option, exit 2" "rc=$rc $(cat "$T_TMP/e")"
"$V" help report >"$T_TMP/help"; rc=$?
[[ $rc == 0 ]] && cmp -s "$T_TMP/help" "$T_TMP/o" && t_ok "vcons help report is report --help" ||
	t_fail "vcons help report is report --help" "rc=$rc"
echo '{"schema": "vcons-result/1", ' >"$T_TMP/broken.json"
echo '{"schema": "other/2"}' >"$T_TMP/other.json"
for bad in "$T_TMP/missing.json" "$T_TMP/broken.json" "$T_TMP/other.json"; do
	"$V" report "$bad" --out "$T_TMP/bad.html" >/dev/null 2>"$T_TMP/e"; rc=$?
	name="report $(basename "$bad"): one line 'vcons: ...', exit 1"
	[[ $rc == 1 && $(wc -l <"$T_TMP/e") == 1 ]] && grep -q "^vcons: .*$(basename "$bad")" "$T_TMP/e" &&
		[[ ! -e $T_TMP/bad.html ]] && t_ok "$name" || t_fail "$name" "rc=$rc $(cat "$T_TMP/e")"
done
"$V" report "$N" --out "$T_TMP/no/such/dir/r.html" >/dev/null 2>"$T_TMP/e"; rc=$?
[[ $rc == 1 && $(wc -l <"$T_TMP/e") == 1 ]] && t_ok "report to an unwritable place: exit 1" ||
	t_fail "report to an unwritable place: exit 1" "rc=$rc $(cat "$T_TMP/e")"

# 2. The native result: scores, reasons, 8 charts (4 throughput, 3 latency, 1 dilation), no exits.
"$V" report "$N" --out "$T_TMP/native.html" >"$T_TMP/native.txt" 2>"$T_TMP/e"; rc=$?
cat "$T_TMP/native.txt"
[[ $rc == 0 ]] && t_ok "report native result exits 0" || t_fail "report native result exits 0" "rc=$rc $(cat "$T_TMP/e")"
grep -q "^score 0.956$" "$T_TMP/native.txt" && grep -q "csu0: 0.956, lowest db 0.860" "$T_TMP/native.txt" &&
	grep -q "^report: $T_TMP/native.html$" "$T_TMP/native.txt" && t_ok "text summary: score, CSU, lowest, page" ||
	t_fail "text summary: score, CSU, lowest, page"
htmlcheck "$T_TMP/native.html" >"$T_TMP/native.check"; rc=$?
head -3 "$T_TMP/native.check"
[[ $rc == 0 ]] && t_ok "native page is well-formed and self-contained" || t_fail "native page is well-formed and self-contained"
grep -q "^svgs=8$" "$T_TMP/native.check" && t_ok "native page has 8 SVG charts" ||
	t_fail "native page has 8 SVG charts" "$(grep svgs= "$T_TMP/native.check")"
miss=""
for want in "run score 0.9558" "20261130T101541-native-1csu" "native: no VM exits" "not compliant" \
	"csu0-db interval 1: QoS: operation type 0 is 57.53% of the mix" "csu0-web: throughput varies 33.6%" \
	"time dilation" "target 40/s" "reference 10000/s" "QoS p90 within 5000 ms"; do
	grep -qF -- "$want" "$T_TMP/native.check" || miss+="[$want] "
done
[[ -z $miss ]] && t_ok "native page shows scores, verdict reasons, targets" || t_fail "native page shows scores, verdict reasons, targets" "missing $miss"

# 3. The hv result (2 CSUs): 8 throughput + 6 latency + 2 dilation + 2 exits charts.
"$V" report "$H" --out "$T_TMP/hv.html" >"$T_TMP/hv.txt" 2>"$T_TMP/e"; rc=$?
htmlcheck "$T_TMP/hv.html" >"$T_TMP/hv.check"; hrc=$?
[[ $rc == 0 && $hrc == 0 ]] && t_ok "hv page written, well-formed" || t_fail "hv page written, well-formed" "rc=$rc check=$hrc"
grep -q "^svgs=18$" "$T_TMP/hv.check" && t_ok "hv page has 18 SVG charts" ||
	t_fail "hv page has 18 SVG charts" "$(grep svgs= "$T_TMP/hv.check")"
miss=""
for want in "run score 1.625" "CSU 1: hv exits per second by reason" "hypercall" "rules' bound: 1 +- 3%" \
	"csu1-db interval 0: time dilation 0.9620 beyond 1 +- 3.00%" "0.962 - 1.004"; do
	grep -qF -- "$want" "$T_TMP/hv.check" || miss+="[$want] "
done
grep -q "native: no VM exits" "$T_TMP/hv.check" && miss+="[no 'native: no VM exits'] "
[[ -z $miss ]] && t_ok "hv page shows exits, dilation band and reasons" || t_fail "hv page shows exits, dilation band and reasons" "missing $miss"
grep -q "^score 1.625$" "$T_TMP/hv.txt" && grep -q "csu1: 0.765, lowest db 0.688" "$T_TMP/hv.txt" &&
	grep -q "^  csu1-mail *16.32 exits per SMTP delivery or IMAP command (16 system calls, 0 clock reads among them: epoll_wait 8, write 4)$" "$T_TMP/hv.txt" &&
	grep -q '<table id="per-op">' "$T_TMP/hv.html" &&
	t_ok "hv text summary has both CSUs and exits per unit of work" || t_fail "hv text summary has both CSUs and exits per unit of work"

# 4. Default place (next to the result), atomic (no temporary file left), strings escaped.
mkdir -p "$T_TMP/run1"
python3 - "$N" "$T_TMP/run1/result.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["run_id"] = "<script>alert(1)</script>&x"
d["verdict"]["reasons"].append("<img src=x onerror=alert(2)>")
json.dump(d, open(sys.argv[2], "w"))
PY
"$V" report "$T_TMP/run1/result.json" >/dev/null 2>"$T_TMP/e"; rc=$?
[[ $rc == 0 && -s $T_TMP/run1/report.html ]] && t_ok "default page is report.html next to the result" ||
	t_fail "default page is report.html next to the result" "rc=$rc $(cat "$T_TMP/e")"
left=$(find "$T_TMP/run1" -name '*.tmp.*' | wc -l)
[[ $left == 0 ]] && t_ok "no temporary file left" || t_fail "no temporary file left" "$left left"
htmlcheck "$T_TMP/run1/report.html" >"$T_TMP/esc.check"; rc=$?
[[ $rc == 0 ]] && grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;&amp;x' "$T_TMP/run1/report.html" &&
	grep -qF '&lt;img src=x onerror=alert(2)&gt;' "$T_TMP/run1/report.html" &&
	t_ok "result strings are escaped (no script, no img)" || t_fail "result strings are escaped (no script, no img)" "$(head -3 "$T_TMP/esc.check")"

# 5. compare: different platforms and CSU counts, ratios against the first.
"$V" compare "$N" "$H" --html "$T_TMP/cmp.html" >"$T_TMP/cmp.txt" 2>"$T_TMP/e"; rc=$?
cat "$T_TMP/cmp.txt"
[[ $rc == 0 ]] && t_ok "compare exits 0" || t_fail "compare exits 0" "rc=$rc $(cat "$T_TMP/e")"
row() { grep -E "^$1 " "$T_TMP/cmp.txt" | tr -s ' '; }
[[ $(row "run score") == "run score 0.956 1.625 x1.700" ]] && t_ok "compare: run score ratio x1.700" ||
	t_fail "compare: run score ratio x1.700" "$(row "run score")"
[[ $(row "csu0 db normalized") == "csu0 db normalized 0.860 0.774 x0.900" &&
	$(row "csu0 web rate/s") == "csu0 web rate/s 87.0 78.3 x0.900" ]] &&
	t_ok "compare: per-workload normalized and rate ratios x0.900" ||
	t_fail "compare: per-workload normalized and rate ratios x0.900" "$(row "csu0 db normalized") / $(row "csu0 web rate/s")"
[[ $(row "csu1 score") == "csu1 score - 0.765 (no baseline)" && $(row platform) == "platform native hv" &&
	$(row CSUs) == "CSUs 1 2" ]] && t_ok "compare: a CSU the baseline lacks, platforms, CSU counts" ||
	t_fail "compare: a CSU the baseline lacks, platforms, CSU counts" "$(row "csu1 score") / $(row platform)"
"$V" compare "$H" "$N" >"$T_TMP/cmp2.txt"
[[ $(grep "^run score" "$T_TMP/cmp2.txt" | tr -s ' ') == "run score 1.625 0.956 x0.588" ]] &&
	t_ok "compare: the first result is the baseline" || t_fail "compare: the first result is the baseline" "$(grep "^run score" "$T_TMP/cmp2.txt")"
htmlcheck "$T_TMP/cmp.html" >"$T_TMP/cmp.check"; rc=$?
[[ $rc == 0 ]] && grep -q "^svgs=2$" "$T_TMP/cmp.check" && grep -qF "x1.700" "$T_TMP/cmp.check" &&
	t_ok "compare --html: well-formed page, ratios, 2 bar charts" || t_fail "compare --html: well-formed page, ratios, 2 bar charts" "$(head -3 "$T_TMP/cmp.check")"
"$V" compare "$N" >/dev/null 2>&1; rc1=$?
"$V" compare "$N" "$T_TMP/missing.json" >/dev/null 2>"$T_TMP/e"; rc2=$?
[[ $rc1 == 2 && $rc2 == 1 && $(wc -l <"$T_TMP/e") == 1 ]] && t_ok "compare: one result is usage (2), a missing one fails (1)" ||
	t_fail "compare: one result is usage (2), a missing one fails (1)" "rc=$rc1,$rc2 $(cat "$T_TMP/e")"

# 6. Headless Chromium (Debian's chromium) renders the hv page: the charts are in its DOM, and a
# screenshot is not blank. The PNG is decoded here with zlib (no imaging library): the palette's
# blue fills the throughput bars, the red dashed target lines are drawn, the chart area is far from
# white and the picture has many colours.
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $CHROME ]]; then
	echo "SKIPPED: chromium is not installed (apt-get install chromium; it is in tools/packages.txt)" >&2
	t_skip "chromium renders the report's charts in its DOM" "chromium not installed"
	t_skip "chromium screenshot of the report is not blank" "chromium not installed"
	t_done
fi
chrome() {
	HOME=$T_TMP/home timeout -k 5 120 "$CHROME" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--no-first-run --user-data-dir="$T_TMP/chrome" "$@" 2>>"$T_TMP/chrome.err"
}
mkdir -p "$T_TMP/home"
chrome --dump-dom "file://$T_TMP/hv.html" >"$T_TMP/dom.html"; rc=$?
python3 - "$T_TMP/dom.html" <<'PY' >"$T_TMP/dom.check"
import sys, re
d = open(sys.argv[1], encoding="utf-8").read()
print("svg=%d rect=%d polyline=%d circle=%d" % tuple(len(re.findall("<" + t + r"[\s>]", d)) for t in ("svg", "rect", "polyline", "circle")))
PY
cat "$T_TMP/dom.check"
read -r svg rect poly circle < <(tr -dc '0-9 \n' <"$T_TMP/dom.check" | tr -s ' ')
[[ $rc == 0 && $svg == 18 && $rect -ge 40 && $poly -ge 20 && $circle -ge 40 ]] &&
	t_ok "chromium renders the report's charts in its DOM (18 svg)" ||
	t_fail "chromium renders the report's charts in its DOM (18 svg)" "rc=$rc $(cat "$T_TMP/dom.check") $(tail -2 "$T_TMP/chrome.err")"
chrome --screenshot="$T_TMP/shot.png" --window-size=1200,2000 "file://$T_TMP/hv.html" >/dev/null; rc=$?
python3 - "$T_TMP/shot.png" <<'PY' >"$T_TMP/shot.check"
import sys, zlib, struct
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    n, typ = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if typ == b"IHDR":
        w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
    elif typ == b"IDAT":
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6) and interlace == 0, f"unexpected PNG format {depth}/{ctype}/{interlace}"
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, colours, nonwhite, blue, red, first_blue = bytearray(stride), set(), [], 0, 0, None
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    if f == 1:
        for i in range(bpp, stride): line[i] = (line[i] + line[i - bpp]) & 255
    elif f == 2:
        line = bytearray((a + b) & 255 for a, b in zip(line, prev))
    elif f == 3:
        for i in range(stride): line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 255
    elif f == 4:
        for i in range(stride):
            a, b, c = (line[i - bpp] if i >= bpp else 0), prev[i], (prev[i - bpp] if i >= bpp else 0)
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev, row, nw = line, bytes(line), 0
    for x in range(0, stride, bpp):
        px = row[x:x + 3]
        if px != b"\xff\xff\xff":
            nw += 1
            colours.add(px)
            if px == b"\x1f\x77\xb4":
                blue += 1
                first_blue = y if first_blue is None else first_blue
            elif abs(px[0] - 0xb4) < 24 and abs(px[1] - 0x23) < 24 and abs(px[2] - 0x18) < 24:
                red += 1
    nonwhite.append(nw)
start = first_blue if first_blue is not None else h
area = sum(nonwhite[start:]) / max(1, (h - start) * w)
print(f"size={w}x{h} colours={len(colours)} blue={blue} red={red} chart_area_from_y={start} chart_area_nonwhite={area:.3f} page_nonwhite={sum(nonwhite) / (w * h):.3f}")
PY
cat "$T_TMP/shot.check"
eval "$(tr ' ' '\n' <"$T_TMP/shot.check" | grep -E '^(colours|blue|red|chart_area_nonwhite)=' | tr '\n' ';')"
ok=$(python3 -c "print(int(${colours:-0} >= 20 and ${blue:-0} >= 20000 and ${red:-0} >= 100 and ${chart_area_nonwhite:-0} >= 0.10))")
[[ $rc == 0 && $ok == 1 ]] && t_ok "chromium screenshot of the report is not blank" ||
	t_fail "chromium screenshot of the report is not blank" "rc=$rc $(cat "$T_TMP/shot.check") $(tail -2 "$T_TMP/chrome.err")"
t_done
