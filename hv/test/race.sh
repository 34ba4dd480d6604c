#!/usr/bin/env bash
# hv's system-call handlers against a guest that rewrites their arguments in its own memory while
# they run (hv/test/guest/t_race.c: a msghdr under recvmsg and sendmsg, pollfds and a timeout under
# ppoll, FUTEX_WAIT's timeout, rt_sigaction's act and oldact). Each mode runs RACE_REPS times (3)
# natively and under vcons-hv; a mode passes on hv when every run exits 0 with native's stdout. A
# failing run says how it ended: vcons-hv itself dying of a signal (exit >= 128 without a guest
# crash report), the guest crashing, a timeout, or a result Linux would not give.
source "$VCONS_TOP/tools/testlib.sh"
MODES=(recvmsg sendmsg ppoll futex rt_sigaction)
names=()
for m in "${MODES[@]}"; do names+=("race $m natively" "race $m under vcons-hv"); done
require_kvm "${names[@]}"
HV=$B/vcons-hv
PROG=$B/guest/hv-t_race
REPS=${RACE_REPS:-3}
NATIVE_TIMEOUT=30 HV_TIMEOUT=120
mkdir -p "$T_TMP/root"

# how RC (with stderr in FILE) ended, in words
ended() {
	local rc=$1 err=$2
	if ((rc == 0)); then
		echo "exit 0"
	elif ((rc == 124)); then
		echo "timed out after ${3}s"
	elif ((rc >= 128)) && ! grep -q 'guest crashed' "$err"; then
		echo "vcons-hv itself died of signal $((rc - 128)) (SIG$(kill -l $((rc - 128)) 2>/dev/null)): exit $rc with no guest crash report"
	elif ((rc >= 128)); then
		echo "the guest crashed: exit $rc, $(grep -m1 'guest crashed' "$err")"
	else
		echo "exit $rc"
	fi
}

for m in "${MODES[@]}"; do
	# natively: the reference output, and proof that the program itself is right
	bad=()
	for ((i = 1; i <= REPS; i++)); do
		timeout "$NATIVE_TIMEOUT" "$PROG" "$m" >"$T_TMP/native.out" 2>"$T_TMP/native.err"
		rc=$?
		echo "# native $m run $i: $(ended $rc "$T_TMP/native.err" $NATIVE_TIMEOUT); $(tail -n 1 "$T_TMP/native.err")"
		[[ $rc == 0 && $(cat "$T_TMP/native.out") == "$m: ok" ]] ||
			bad+=("run $i: $(ended $rc "$T_TMP/native.err" $NATIVE_TIMEOUT), stdout $(head -c 200 "$T_TMP/native.out")")
	done
	if ((${#bad[@]} == 0)); then
		t_ok "race $m natively ($REPS runs)"
	else
		t_fail "race $m natively" "${#bad[@]} of $REPS runs failed: ${bad[*]}"
	fi
	echo "$m: ok" >"$T_TMP/want.out"

	bad=()
	for ((i = 1; i <= REPS; i++)); do
		timeout "$HV_TIMEOUT" "$HV" --vcpus 4 --root "$T_TMP/root" -- "$PROG" "$m" \
			>"$T_TMP/hv.out" 2>"$T_TMP/hv.err"
		rc=$?
		how=$(ended $rc "$T_TMP/hv.err" $HV_TIMEOUT)
		echo "# vcons-hv $m run $i: $how"
		sed 's/^/#   stderr: /' "$T_TMP/hv.err" | tail -n 12
		sed 's/^/#   stdout: /' "$T_TMP/hv.out" | head -n 5
		if ((rc != 0)); then
			bad+=("run $i: $how")
		elif ! cmp -s "$T_TMP/hv.out" "$T_TMP/want.out"; then
			bad+=("run $i: exit 0 but stdout '$(head -c 200 "$T_TMP/hv.out")', want '$m: ok'")
		fi
	done
	if ((${#bad[@]} == 0)); then
		t_ok "race $m under vcons-hv ($REPS runs, native's output)"
	else
		t_fail "race $m under vcons-hv" "${#bad[@]} of $REPS runs failed: $(printf '%s; ' "${bad[@]}" | sed 's/; $//')"
	fi
done
t_done
