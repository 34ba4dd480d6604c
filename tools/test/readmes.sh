#!/usr/bin/env bash
# tools/test/readmes.sh: the READMEs stay reference (issue 20). tools/check-readmes.py over every .md of
# the repository must find no path that does not exist, none outside the repository and no placeholder
# ("not written yet"); and, so that the check itself cannot rot, it must find exactly the planted
# mistakes of its fixture tools/test/check-readmes/bad/ and nothing in tools/test/check-readmes/good/.
source "$(dirname "$0")/../testlib.sh"
cd "$TOP" || exit 1
check=tools/check-readmes.py
fix=tools/test/check-readmes

t_tool READMEs python3 "$check"

out=$(python3 "$check" --root "$fix/bad" 2>&1)
rc=$?
echo "$out"
expected="README.md:6: no such path in the repository: harness/missing.c
README.md:7: no such path in the repository: notes/gone.md
README.md:8: path outside the repository: ../../outside/notes.md
README.md:13: no such path in the repository: helper.h
sub/README.md:1: placeholder: \"Not written yet\"
check-readmes: 2 files, 5 findings"
if ((rc == 1)); then t_ok "fixture bad/: exit 1"; else t_fail "fixture bad/: exit 1" "exit $rc"; fi
t_check "fixture bad/: a missing path caught" grep -qx 'README.md:6: no such path in the repository: harness/missing.c' <<<"$out"
t_check "fixture bad/: a missing link target caught" grep -qx 'README.md:7: no such path in the repository: notes/gone.md' <<<"$out"
t_check "fixture bad/: a path outside the repository caught" grep -qx 'README.md:8: path outside the repository: ../../outside/notes.md' <<<"$out"
t_check "fixture bad/: a file list naming a file of another folder caught" grep -qx 'README.md:13: no such path in the repository: helper.h' <<<"$out"
t_check "fixture bad/: \"Not written yet\" caught" grep -qx 'sub/README.md:1: placeholder: "Not written yet"' <<<"$out"
if [[ $out == "$expected" ]]; then
	t_ok "fixture bad/: nothing else reported"
else
	t_fail "fixture bad/: nothing else reported" "output differs from the expected lines"
	diff <(echo "$expected") <(echo "$out")
fi

out=$(python3 "$check" --root "$fix/good" 2>&1)
rc=$?
echo "$out"
if ((rc == 0)) && [[ $out == "check-readmes: 2 files, 0 findings" ]]; then
	t_ok "fixture good/: no finding (templates, generated, absolute and non-path words pass)"
else
	t_fail "fixture good/: no finding" "exit $rc: $(tail -1 <<<"$out")"
fi

# One file named on the command line is checked alone, relative to the root.
out=$(python3 "$check" --root "$fix/bad" "$fix/bad/sub/README.md" 2>&1)
rc=$?
echo "$out"
if ((rc == 1)) && [[ $(tail -1 <<<"$out") == "check-readmes: 1 files, 1 findings" ]]; then
	t_ok "a file named on the command line is checked alone"
else
	t_fail "a file named on the command line is checked alone" "exit $rc: $(tail -1 <<<"$out")"
fi
t_done
