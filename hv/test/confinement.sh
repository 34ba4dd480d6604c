#!/usr/bin/env bash
# hv's VM boundary: path escapes, bad pointers, another VM's address, memory beyond the limit; the
# guest goes on, the host is untouched; two VMs at once cannot see each other's files.
source "$VCONS_TOP/tools/testlib.sh"
require_kvm "confinement checks" "host untouched" "two VMs isolated" "guest faults" "file mapping faults"
HV=$B/vcons-hv
mkdir -p "$T_TMP/root" "$T_TMP/host"
echo "host secret" >"$T_TMP/host/outside.txt"
before=$(cd "$T_TMP/host" && find . -print0 | sort -z | xargs -0 ls -ld --time-style=+%s | md5sum)
timeout 120 "$HV" --root "$T_TMP/root" --net 127.0.5.1 -- "$B/guest/hv-t_confine" \
	"$T_TMP/host/outside.txt" 127.0.5.2 >"$T_TMP/confine.out" 2>&1
rc=$?
cat "$T_TMP/confine.out"
if ((rc == 0)) && grep -q '^failures: 0$' "$T_TMP/confine.out" &&
	grep -q 'guest still running after all checks: yes' "$T_TMP/confine.out" &&
	(($(grep -c 'bad pointer: .*-> EFAULT$' "$T_TMP/confine.out") >= 70)); then
	t_ok "confinement checks (escapes, >= 70 bad-pointer calls, network, memory)"
else
	t_fail "confinement checks" "exit $rc; see the transcript above"
fi
after=$(cd "$T_TMP/host" && find . -print0 | sort -z | xargs -0 ls -ld --time-style=+%s | md5sum)
if [[ $before == "$after" && $(cat "$T_TMP/host/outside.txt") == "host secret" ]]; then
	t_ok "host untouched outside the VM's root"
else
	t_fail "host untouched" "files outside the root changed"
fi

# Two VMs at once: A writes a file in its root; B looks for it by every path it can think of.
mkdir -p "$T_TMP/a" "$T_TMP/b"
spawn "$HV" --root "$T_TMP/a" --net 127.0.5.10 -- /bin/busybox sh -c \
	'echo secret-of-a > mine.txt; sleep 3'
pid_a=$!
sleep 1
timeout 30 "$HV" --root "$T_TMP/b" --net 127.0.5.11 -- /bin/busybox sh -c "
	cat ../a/mine.txt /../a/mine.txt $T_TMP/a/mine.txt 2>/dev/null; ls / ; echo end" >"$T_TMP/b.out"
wait "$pid_a"
if [[ -s $T_TMP/a/mine.txt ]] && ! grep -q secret "$T_TMP/b.out" && grep -q '^end$' "$T_TMP/b.out"; then
	t_ok "two VMs at once cannot see each other's files"
else
	t_fail "two VMs isolated" "$(cat "$T_TMP/b.out")"
fi

# The thread cap: with --max-threads 7 the eighth thread is refused (pthread_create: EAGAIN).
timeout 60 "$HV" --vcpus 8 --max-threads 7 -- "$B/guest/hv-t_threads" >/dev/null 2>&1
rc=$?
((rc == 1)) && t_ok "--max-threads 7 refuses an eighth thread" || t_fail "--max-threads" "exit $rc, want 1"

# Guest faults: a register dump and 128 + the signal Linux would send.
declare -A want=([null]=139 [ud2]=132 [abort]=134 [exit42]=42)
for w in null ud2 abort exit42; do
	timeout 30 "$HV" -- "$B/guest/hv-t_crash" "$w" >"$T_TMP/crash.out" 2>&1
	rc=$?
	if ((rc == want[$w])) && { [[ $w != null && $w != ud2 ]] || grep -q 'guest crashed' "$T_TMP/crash.out"; }; then
		t_ok "guest fault '$w' exits $rc"
	else
		t_fail "guest fault '$w'" "exit $rc, want ${want[$w]}"
		cat "$T_TMP/crash.out"
	fi
	# The report names the thread's last system calls, newest first: the printf of t_crash.
	if [[ $w == null ]]; then
		if grep -A1 'system calls of this thread, newest first' "$T_TMP/crash.out" |
			grep -q 'write(0x1) *= 14 '; then
			t_ok "a crash report lists the thread's last system call"
		else
			t_fail "crash report's last system calls" "$(cat "$T_TMP/crash.out")"
		fi
	fi
done

# A file mapping's page past the file's end, read by the guest itself: KVM cannot back it, and
# the guest ends with SIGBUS and a crash report; vcons-hv itself must not die of the signal.
timeout 30 "$HV" --root "$T_TMP/root" -- "$B/guest/hv-t_crash" pasteof >"$T_TMP/crash.out" 2>&1
rc=$?
if ((rc == 135)) && grep -q 'guest crashed: .*past the end' "$T_TMP/crash.out"; then
	t_ok "guest fault 'pasteof' exits 135 with a crash report"
else
	t_fail "guest fault 'pasteof'" "exit $rc, want 135 and a crash report"
	cat "$T_TMP/crash.out"
fi

# Such a page (and a read-only shared mapping) as system calls' structures, paths and buffers:
# EFAULT from each, as on Linux, and the program goes on (hv/uaccess.h). Same transcript natively.
mkdir -p "$T_TMP/native"
(cd "$T_TMP/native" && timeout 30 "$B/guest/hv-t_crash" syscall-pasteof >"$T_TMP/eof.native" 2>&1)
timeout 30 "$HV" --root "$T_TMP/root" -- "$B/guest/hv-t_crash" syscall-pasteof >"$T_TMP/eof.hv" 2>&1
rc=$?
if ((rc == 0)) && grep -q '^still running$' "$T_TMP/eof.hv" &&
	(($(grep -c 'Bad address' "$T_TMP/eof.hv") == 10)); then
	t_ok "system calls on a page past a file's end or a read-only mapping return EFAULT"
else
	t_fail "system calls on bad file pages" "exit $rc, want 0 and 10 EFAULTs"
	cat "$T_TMP/eof.hv"
fi
t_same "the same results natively and under hv" "$T_TMP/eof.native" "$T_TMP/eof.hv"
t_done
