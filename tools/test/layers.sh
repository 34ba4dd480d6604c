#!/usr/bin/env bash
# tools/test/layers.sh: the include graph between folders only points down (tools/layers.py, the
# layer order declared once there): the tree passes and its graph is printed to the log; then a
# small tree with an include from a lower layer to a higher one, a cycle and a file in no layer
# proves the check fails with one line per offending include.
source "$(dirname "$0")/../testlib.sh"
cd "$TOP" || exit 1
t_tool layers python3 tools/layers.py

# A tree that breaks the order: hv (low) includes harness (high), harness includes hv back, and
# a folder that is in no layer.
F=$T_TMP/tree
mkdir -p "$F/hv" "$F/harness" "$F/nowhere"
printf '#include "harness/b.h"\n#include "hv/own.h"\n' >"$F/hv/a.h"
printf '/* own */\n' >"$F/hv/own.h"
printf '#include "hv/a.h"\n' >"$F/harness/b.h"
printf '#include "hv/a.h"\n' >"$F/nowhere/c.c"
git -C "$F" init -q && git -C "$F" add -A
bad=$(python3 tools/layers.py --root "$F" 2>&1)
rc=$?
echo "$bad"
t_check "layers: an upward include fails, named with its line" \
	bash -c '(($1 == 1)) && grep -qx "hv/a.h:1: includes harness/b.h: hv -> harness (a higher layer)" <<<"$2"' _ "$rc" "$bad"
t_check "layers: a cycle between folders is named" grep -qx "cycle between layers: harness -> hv -> harness" <<<"$bad"
t_check "layers: a file in no layer is named" grep -q "^nowhere/c.c:1: includes hv/a.h: nowhere/c.c is in no layer" <<<"$bad"
t_check "layers: one line per problem, nothing for includes that point down" \
	test "$(grep -c ': includes \|^cycle' <<<"$bad")" = 3
t_done
