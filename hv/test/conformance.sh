#!/usr/bin/env bash
# hv conformance: each guest test program prints the same bytes natively and under vcons-hv.
source "$VCONS_TOP/tools/testlib.sh"
tests=(t_files t_threads t_time t_mem t_net t_sqlite t_tls)
require_kvm "${tests[@]/#/conformance }"
HV=$B/vcons-hv
for t in "${tests[@]}"; do
	prog=$B/guest/hv-$t
	mkdir -p "$T_TMP/$t/native" "$T_TMP/$t/hv"
	(cd "$T_TMP/$t/native" && timeout 120 "$prog" >../native.out 2>&1)
	nrc=$?
	timeout 300 "$HV" --vcpus 8 --mem 1G --root "$T_TMP/$t/hv" --stats "$T_TMP/$t/stats.json" \
		-- "$prog" >"$T_TMP/$t/hv.out" 2>"$T_TMP/$t/hv.err"
	hrc=$?
	cat "$T_TMP/$t/hv.err"
	if ((nrc != 0 || hrc != 0)); then
		t_fail "conformance $t" "exit status native $nrc, hv $hrc"
		continue
	fi
	t_same "conformance $t (native == hv, byte for byte)" "$T_TMP/$t/native.out" "$T_TMP/$t/hv.out"
done
# The statistics file is real: the threads test created 8 vCPUs and made futex calls.
stats=$T_TMP/t_threads/stats.json
t_check "stats: t_threads used 8 vCPUs and futexes" python3 -c "
import json,sys; d=json.load(open('$stats'))
assert d['vcpus']['peak_threads'] == 8, d['vcpus']
assert d['syscalls']['futex']['count'] > 0
assert d['exits']['io'] >= sum(v['count'] for v in d['syscalls'].values())
assert d['memory']['guest_resident_bytes'] > 0"
t_done
