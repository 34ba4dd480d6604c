#!/usr/bin/env bash
# hv conformance: each guest test program prints the same bytes natively and under vcons-hv.
source "$VCONS_TOP/tools/testlib.sh"
tests=(t_files t_threads t_time t_mem t_net t_sqlite t_tls t_robust)
require_kvm "${tests[@]/#/conformance }"
HV=$B/vcons-hv
for t in "${tests[@]}"; do
	prog=$B/guest/hv-$t
	mkdir -p "$T_TMP/$t/native" "$T_TMP/$t/hv"
	(cd "$T_TMP/$t/native" && timeout 120 "$prog" >../native.out 2>&1)
	nrc=$?
	timeout 300 "$HV" --vcpus 8 --max-threads 8 --mem 1G --root "$T_TMP/$t/hv" --stats "$T_TMP/$t/stats.json" \
		-- "$prog" >"$T_TMP/$t/hv.out" 2>"$T_TMP/$t/hv.err"
	hrc=$?
	cat "$T_TMP/$t/hv.err"
	if ((nrc != 0 || hrc != 0)); then
		t_fail "conformance $t" "exit status native $nrc, hv $hrc"
		continue
	fi
	t_same "conformance $t (native == hv, byte for byte)" "$T_TMP/$t/native.out" "$T_TMP/$t/hv.out"
done
# 4 KiB guest pages (for TLB studies) run the same memory test to the same bytes.
mkdir -p "$T_TMP/4k"
timeout 300 "$HV" --page-size 4k --mem 1G --root "$T_TMP/4k" --stats "$T_TMP/4k.json" \
	-- "$B/guest/hv-t_mem" >"$T_TMP/4k.out" 2>&1
t_same "conformance t_mem with --page-size 4k" "$T_TMP/t_mem/native.out" "$T_TMP/4k.out"
t_check "4k run reports 4 KiB pages" grep -q '"page_size_bytes": 4096' "$T_TMP/4k.json"

# SIGUSR1 writes the statistics while the guest runs.
spawn "$HV" --stats "$T_TMP/live.json" -- /bin/busybox sleep 3
hv_pid=$!
sleep 1
kill -USR1 "$hv_pid"
sleep 0.5
t_check "SIGUSR1 writes statistics while the guest runs" bash -c "[[ -s '$T_TMP/live.json' ]] && kill -0 $hv_pid"
wait "$hv_pid"

# The statistics file is real: the threads test created 8 vCPUs and made futex calls.
stats=$T_TMP/t_threads/stats.json
t_check "stats: t_threads used 8 vCPUs and futexes" python3 -c "
import json,sys; d=json.load(open('$stats'))
assert d['vcpus']['peak_threads'] == 8, d['vcpus']
assert d['syscalls']['futex']['count'] > 0
assert d['exits']['io'] >= sum(v['count'] for v in d['syscalls'].values())
assert d['memory']['guest_resident_bytes'] > 0"
t_done
