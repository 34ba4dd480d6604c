#!/usr/bin/env bash
# Real programs no one here wrote: Debian's busybox-static under hv gives the same output as natively.
source "$VCONS_TOP/tools/testlib.sh"
BB=/bin/busybox
names=("sh -c pipeline" "ls -l" cat sort "gzip/gunzip round trip" sha256sum wc find)
[[ -x $BB ]] || { for n in "${names[@]}"; do t_skip "busybox $n" "busybox-static is not installed"; done; exit 0; }
require_kvm "${names[@]/#/busybox }"
HV=$B/vcons-hv
root=$T_TMP/root
mkdir -p "$root/etc" "$root/data/sub/deeper"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
printf 'pear\napple\nfig\nbanana\ncherry\n' >"$root/data/fruit.txt"
seq 1 20000 >"$root/data/numbers.txt"
echo deep >"$root/data/sub/deeper/file.txt"
touch -d '2026-01-02 03:04:05' "$root/data" "$root/data/"* "$root/data/sub/deeper" "$root/data/sub/deeper/file.txt" "$root/etc" "$root/etc/"*

# Each command runs with the root as its working directory, natively and as the VM's root.
run_both() { # NAME COMMAND...
	local name=$1
	shift
	(cd "$root" && TZ=UTC timeout 60 "$@") >"$T_TMP/native.out" 2>&1
	local nrc=$?
	TZ=UTC timeout 120 "$HV" --root "$root" -- "$@" >"$T_TMP/hv.out" 2>&1
	local hrc=$?
	if ((nrc != hrc)); then
		t_fail "busybox $name" "exit status native $nrc, hv $hrc"
		cat "$T_TMP/hv.out"
	else
		t_same "busybox $name" "$T_TMP/native.out" "$T_TMP/hv.out"
	fi
}

run_both "sh -c pipeline" $BB sh -c 'cat data/fruit.txt | sort | head -3; for i in 1 2 3; do echo n$i; done | tr n N;
	x=$(wc -l < data/numbers.txt); echo lines=$x; (exit 3); echo status=$?; sleep 0.1 & wait; yes | head -2; exit 4'
run_both "ls -l" $BB ls -l data data/sub
run_both cat $BB cat data/fruit.txt data/sub/deeper/file.txt
run_both sort $BB sort -r data/fruit.txt
run_both "gzip/gunzip round trip" $BB sh -c 'gzip -c data/numbers.txt > n.gz && gunzip -c n.gz | sha256sum &&
	sha256sum < data/numbers.txt; rm -f n.gz'
run_both sha256sum $BB sha256sum data/fruit.txt data/numbers.txt
run_both wc $BB wc data/fruit.txt data/numbers.txt
run_both find $BB find data -name '*.txt'
t_done
