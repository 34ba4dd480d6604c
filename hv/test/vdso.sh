#!/usr/bin/env bash
# The guest's clocks without an exit (hv/timepage.h): static glibc and musl programs and Debian's
# busybox read every clock through hv's vDSO, so --stats counts no clock_gettime, gettimeofday or
# time call, and the time they print is the host's; MONOTONIC never goes backwards on 8 threads
# for 10 s; hv's guest_ns (the page's clock) agrees with the host's; --clock-scale 0.5 runs the
# vDSO's clock at half speed; --time-page off (what an unusable TSC gives) still runs, through
# system calls.
source "$VCONS_TOP/tools/testlib.sh"
names=("glibc: no exit to read the clock" "musl: no exit to read the clock"
	"busybox date: no exit" "busybox shell loop: the host's time" "8 threads, 10 s: monotonic"
	"guest_ns agrees with host_ns" "--clock-scale 0.5 through the vDSO" "--time-page off still runs")
require_kvm "${names[@]}"
HV=("$B/vcons-hv")
# TCG's emulated CPUs (the nested test guest) have no invariant-TSC flag though their TSC follows
# the host's: there hv is told to trust it (each vCPU's TSC is still checked against the host's),
# and runs on one CPU, since the emulated CPUs' TSCs differ from each other by up to a millisecond
# (hv's check caught it: "a vCPU's TSC is not the host's", once in three runs, on two CPUs).
if ! grep -q ' constant_tsc' /proc/cpuinfo || ! grep -q ' nonstop_tsc' /proc/cpuinfo; then
	HV=(taskset -c 0 "${HV[@]}" --time-page force)
	echo "# this CPU has no constant_tsc/nonstop_tsc flags: taskset -c 0 vcons-hv --time-page force" >&2
fi
mkdir -p "$T_TMP/root"

# time_calls FILE: the clock system calls a --stats file counts.
time_calls() {
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["syscalls"]
print(sum(s.get(n, {}).get("count", 0) for n in ("clock_gettime", "gettimeofday", "time")))' "$1"
}
# near_host SECONDS FROM TO: passes when SECONDS lies within 1 s of the host's [FROM, TO] (the
# host's clock read before and after the run: everything is slow in an emulated guest).
near_host() {
	[[ $1 =~ ^[0-9]+$ ]] && (($1 >= $2 - 1 && $1 <= $3 + 1))
}

for lib in glibc musl; do
	prog=$B/guest/hv-t_clock
	[[ $lib == musl ]] && prog=$B/guest/hv-t_clock-musl
	from=$(date +%s)
	timeout 120 "${HV[@]}" --root "$T_TMP/root" --stats "$T_TMP/$lib.json" -- "$prog" read 1000 \
		>"$T_TMP/$lib.out" 2>"$T_TMP/$lib.err"
	rc=$? to=$(date +%s)
	calls=$(time_calls "$T_TMP/$lib.json" 2>/dev/null)
	secs=$(sed -n 's/^realtime_s //p' "$T_TMP/$lib.out")
	if ((rc == 0)) && grep -q '^read: ok$' "$T_TMP/$lib.out" && [[ $calls == 0 ]] &&
		near_host "$secs" "$from" "$to"; then
		t_ok "$lib: no exit to read the clock (8,000 clock reads, 0 clock system calls, the host's time)"
	else
		t_fail "$lib: no exit to read the clock" \
			"exit $rc, $calls clock system calls, realtime $secs, host $from..$to"
		cat "$T_TMP/$lib.out" "$T_TMP/$lib.err"
	fi
done

from=$(date +%s)
timeout 60 "${HV[@]}" --root "$T_TMP/root" --stats "$T_TMP/bb.json" -- /bin/busybox date +%s \
	>"$T_TMP/bb.out" 2>"$T_TMP/bb.err"
rc=$? to=$(date +%s)
calls=$(time_calls "$T_TMP/bb.json" 2>/dev/null)
if ((rc == 0)) && [[ $calls == 0 ]] && near_host "$(cat "$T_TMP/bb.out")" "$from" "$to"; then
	t_ok "busybox date: no exit, the host's time"
else
	t_fail "busybox date: no exit" "exit $rc, $calls clock system calls: $(cat "$T_TMP/bb.out" "$T_TMP/bb.err")"
fi
from=$(date +%s)
timeout 120 "${HV[@]}" --root "$T_TMP/root" -- /bin/busybox sh -c \
	'i=0; while [ $i -lt 5 ]; do date +%s; i=$((i+1)); done' >"$T_TMP/loop.out" 2>"$T_TMP/loop.err"
rc=$? to=$(date +%s)
ok=1
while read -r s; do near_host "$s" "$from" "$to" || ok=0; done <"$T_TMP/loop.out"
if ((rc == 0 && ok)) && (($(wc -l <"$T_TMP/loop.out") == 5)); then
	t_ok "busybox shell loop: the host's time, five times"
else
	t_fail "busybox shell loop" "exit $rc: $(cat "$T_TMP/loop.out")"
fi

# 8 threads for 10 s on 8 vCPUs; a --stats snapshot (SIGUSR1) on the way: guest_ns is the page's
# MONOTONIC, read by hv at the moment it reads host_ns.
spawn "${HV[@]}" --root "$T_TMP/root" --vcpus 8 --stats "$T_TMP/mono.json" -- \
	"$B/guest/hv-t_clock" monotonic 8 10 >"$T_TMP/mono.out" 2>&1
pid=$!
sleep 4
kill -USR1 "$pid" 2>/dev/null
i=0
while [[ ! -s $T_TMP/mono.json ]] && ((i++ < 100)); do sleep 0.1; done
cp "$T_TMP/mono.json" "$T_TMP/snap.json" 2>/dev/null
deadline=$((SECONDS + 120)) # bounded: two minutes at most
while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
kill -0 "$pid" 2>/dev/null && kill "$pid"
wait "$pid"
rc=$?
if ((rc == 0)) && grep -q '^monotonic: ok$' "$T_TMP/mono.out"; then
	t_ok "8 threads, 10 s: MONOTONIC never went backwards or jumped"
else
	t_fail "8 threads, 10 s: monotonic" "exit $rc: $(cat "$T_TMP/mono.out")"
fi
drift=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))
print(abs(s["guest_ns"] - s["host_ns"]) if s["time_page"]["usable"] else "unusable")' "$T_TMP/snap.json" 2>&1)
if [[ $drift =~ ^[0-9]+$ ]] && ((drift < 1000000)); then
	t_ok "guest_ns agrees with host_ns within 1 ms ($drift ns) while 8 threads read the page"
else
	t_fail "guest_ns agrees with host_ns" "$drift"
fi

start=$(date +%s%N)
timeout 60 "${HV[@]}" --root "$T_TMP/root" --clock-scale 0.5 -- "$B/guest/hv-t_clock" sleep >"$T_TMP/scale.out" 2>&1
rc=$?
host_ms=$((($(date +%s%N) - start) / 1000000))
if ((rc == 0 && host_ms >= 2000)) && grep -q '^slept_tenths 10$' "$T_TMP/scale.out"; then
	t_ok "--clock-scale 0.5 through the vDSO: a 1 s guest sleep read 1 s and took ${host_ms} ms of host time"
else
	t_fail "--clock-scale 0.5 through the vDSO" "exit $rc, host ${host_ms} ms: $(cat "$T_TMP/scale.out")"
fi

timeout 120 "${HV[@]}" --root "$T_TMP/root" --time-page off --stats "$T_TMP/off.json" -- \
	"$B/guest/hv-t_clock" read 100 >"$T_TMP/off.out" 2>"$T_TMP/off.err"
rc=$?
calls=$(time_calls "$T_TMP/off.json" 2>/dev/null)
why=$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["time_page"]
print("" if t["usable"] else t["why"])' "$T_TMP/off.json" 2>&1)
if ((rc == 0)) && grep -q '^read: ok$' "$T_TMP/off.out" && ((calls >= 800)) &&
	[[ $why == "--time-page off" ]] && ! grep -q '^vcons-hv' "$T_TMP/off.err"; then
	t_ok "--time-page off still runs: $calls clock system calls, and --stats says why"
else
	t_fail "--time-page off still runs" "exit $rc, $calls calls, why '$why': $(cat "$T_TMP/off.out" "$T_TMP/off.err")"
fi
t_done
