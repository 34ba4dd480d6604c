#!/usr/bin/env bash
# make lint: static analysis of every C file the Makefile compiles, with clang-tidy (checks and the
# reasons for each left out: .clang-tidy) and cppcheck (warning, performance, portability; whole-tree
# suppressions with reasons: tools/lint/cppcheck.supp). Prints one line per finding,
# `file:line:col: TOOL: message [check]`, then a summary line; exits 1 on any finding, 2 when a tool
# is missing. The compile database comes from `make -Bn V=1` (the Makefile's own flags, per-folder
# cflags and fuzz defines included, without building anything), in build/lint/.
# --cppcheck-only: cppcheck alone (about 10 s, where clang-tidy takes minutes), as `make test` runs it
# (tools/test/lint.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
out=build/lint
jobs=$(nproc 2>/dev/null || echo 2)
tidy=1
case ${1:-} in
--cppcheck-only) tidy=0 ;;
"") ;;
*) echo "lint: unknown option $1" >&2; exit 2 ;;
esac
tools=(cppcheck python3)
((tidy)) && tools+=(clang-tidy)
for t in "${tools[@]}"; do
	command -v "$t" >/dev/null ||
		{ echo "make lint: needs $t (apt-get install $t)" >&2; exit 2; }
done
start=$(date +%s)
rm -rf "$out" && mkdir -p "$out/tidy"

# every compile command of a plain build, its unit tests and fuzz targets, one entry per source
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -Bn V=1 all fuzzers 2>/dev/null | grep -E ' -c -o [^ ]+ [^ ]+\.c$' | python3 -c '
import json, os, sys
cmds = {l.split()[-1]: l.strip() for l in sys.stdin}
json.dump([{"directory": os.getcwd(), "command": c, "file": f} for f, c in sorted(cmds.items())],
          open(sys.argv[1], "w"), indent=1)
print("\n".join(sorted(cmds)))' "$out/compile_commands.json" >"$out/files.txt"
[ -s "$out/files.txt" ] || { echo "make lint: no compile database (make -Bn failed?)" >&2; exit 2; }
# a C file in git that no rule compiles would go unchecked: that is a finding too
git ls-files '*.c' | sort | comm -23 - <(sort "$out/files.txt") |
	sed 's/$/:1:1: lint: not in any module.mk, so not checked [lint-uncovered]/' >"$out/uncovered.txt"

# clang-tidy, one file per process (its findings in headers repeat per includer: sorted out below).
# gcc-only warning flags (-Wno-format-truncation) mean nothing to clang.
# A run that fails without a line of its own (a crash) is a finding too.
((tidy)) && xargs -a "$out/files.txt" -P "$jobs" -I{} sh -c 'clang-tidy -p "$1" --quiet \
	--extra-arg=-Wno-unknown-warning-option "$2" >"$1/tidy/$(echo "$2" | tr / _).txt" 2>&1 ||
	echo "$2:1:1: error: clang-tidy exited $? [lint-tool-failed]" >>"$1/tidy/failed.txt"' \
	_ "$out" {}
cat "$out"/tidy/*.txt 2>/dev/null | grep -E '^[^ ].*:[0-9]+:[0-9]+: (warning|error): ' |
	sed -E "s|^$PWD/||; s|^\./||; s/: (warning|error): /: clang-tidy: /" | sort -u >"$out/clang-tidy.txt"

cppcheck --project="$out/compile_commands.json" --std=c11 --quiet -j "$jobs" \
	--enable=warning,performance,portability --inline-suppr \
	--library=posix --library=gnu --library=openssl --library=libcurl --library=sqlite3 \
	--library=tools/lint/jansson.cfg --suppressions-list=tools/lint/cppcheck.supp \
	--template='{file}:{line}:{column}: cppcheck {severity}: {message} [{id}]' \
	>"$out/cppcheck.raw" 2>&1 ||
	echo "tools/lint.sh:1:1: cppcheck error: cppcheck exited $?, see $out/cppcheck.raw [lint-tool-failed]" \
		>>"$out/cppcheck.raw"
sed "s|^$PWD/||" "$out/cppcheck.raw" | grep -E '^[^ ]+:[0-9]+:[0-9]+: cppcheck ' | sort -u \
	>"$out/cppcheck.txt"

cat "$out/uncovered.txt" "$out/clang-tidy.txt" "$out/cppcheck.txt"
nt=$(wc -l <"$out/clang-tidy.txt") nc=$(wc -l <"$out/cppcheck.txt") nu=$(wc -l <"$out/uncovered.txt")
n=$((nt + nc + nu))
((tidy)) || nt="not run"
echo "lint: $n findings (clang-tidy $nt, cppcheck $nc, unchecked files $nu) in" \
	"$(wc -l <"$out/files.txt") files, $(($(date +%s) - start)) s"
[ "$n" -eq 0 ]
