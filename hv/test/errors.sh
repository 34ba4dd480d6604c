#!/usr/bin/env bash
# vcons-hv's bad-input cases: one clear line and a distinct exit code each.
source "$VCONS_TOP/tools/testlib.sh"
HV=$B/vcons-hv
check() { # NAME WANT_RC PATTERN COMMAND...
	local name=$1 want=$2 pat=$3
	shift 3
	timeout 30 "$@" >"$T_TMP/out" 2>"$T_TMP/err"
	local rc=$?
	if ((rc == want)) && grep -q -- "$pat" "$T_TMP/err" && (($(wc -l <"$T_TMP/err") == 1)); then
		t_ok "$name: exit $rc, '$(cat "$T_TMP/err")'"
	else
		t_fail "$name" "exit $rc (want $want), stderr: $(head -3 "$T_TMP/err")"
	fi
}
check "no program" 2 "no PROGRAM" "$HV"
check "unknown option" 2 "unknown option --bogus" "$HV" --bogus -- /bin/true
check "bad --mem" 2 "--mem" "$HV" --mem lots -- /bin/true
check "bad --vcpus" 2 "--vcpus" "$HV" --vcpus 0 -- /bin/true
t_check "--help prints usage and exits 0" bash -c "'$HV' --help | grep -q '^usage: vcons-hv'"
head -c 100 /dev/urandom >"$T_TMP/garbage"
printf '\177ELF\002\001\001' >"$T_TMP/truncated"
head -c 3000 "$B/guest/hv-t_time" >"$T_TMP/cut"
chmod +x "$T_TMP"/*
echo 'base: host
hide: [avx9000]' >"$T_TMP/bad-cpuid.yaml"
printf 'base: host\nhide: [avx512f, avx2]\n' >"$T_TMP/good-cpuid.yaml"
if [[ -e /dev/kvm ]]; then
	check "missing program" 66 "No such file" "$HV" -- "$T_TMP/nothere"
	check "not ELF" 65 "not an ELF file" "$HV" -- "$T_TMP/garbage"
	check "truncated ELF" 65 "truncated ELF\|not a 64-bit" "$HV" -- "$T_TMP/truncated"
	check "truncated program" 65 "truncated ELF" "$HV" -- "$T_TMP/cut"
	check "dynamic program" 65 "dynamically linked" "$HV" -- /bin/true
	cp "$B/guest/hv-t_time" "$T_TMP/arm64"
	printf '\267\000' | dd of="$T_TMP/arm64" bs=1 seek=18 conv=notrunc status=none # e_machine = AArch64
	check "wrong architecture" 65 "not an x86-64 program" "$HV" -- "$T_TMP/arm64"
	check "missing root" 66 "--root" "$HV" --root "$T_TMP/none" -- "$B/guest/hv-t_time"
	check "bad address" 78 "--net" "$HV" --net 10.1.2.3 -- "$B/guest/hv-t_time"
	check "bad CPUID profile" 78 "bad-cpuid.yaml:2: hide: unknown CPU feature 'avx9000'" \
		"$HV" --cpuid "$T_TMP/bad-cpuid.yaml" -- "$B/guest/hv-t_time"
	# Masked profiles: where KVM intercepts ring-3 CPUID (VT-x/AMD-V), the guest sees the mask and
	# glibc picks other code paths. The nested kvm_pvm here runs ring-3 CPUID natively.
	if [[ -d /sys/module/kvm_pvm ]]; then
		for n in "CPUID file profile hides avx2 and avx512f" "CPUID baseline is x86-64-v2"; do
			t_skip "$n" "this host's KVM (kvm_pvm, nested) does not intercept CPUID in guest ring 3"
		done
		"$HV" --cpuid baseline -- "$B/guest/hv-t_cpuid" >/dev/null 2>"$T_TMP/warn"
		t_check "a masked profile on this host warns that it is not enforced" grep -q "not enforced" "$T_TMP/warn"
	else
		"$HV" --cpuid "$T_TMP/good-cpuid.yaml" -- "$B/guest/hv-t_cpuid" >"$T_TMP/file.cpu"
		t_check "CPUID file profile hides avx2 and avx512f" \
			grep -qzP 'avx2 0\navx512f 0\nmemcpy ok 1' "$T_TMP/file.cpu"
		"$HV" --cpuid baseline -- "$B/guest/hv-t_cpuid" >"$T_TMP/base.cpu"
		t_check "CPUID baseline is x86-64-v2" \
			grep -qzP 'sse4.2 1\navx 0\navx2 0\navx512f 0\nmemcpy ok 1' "$T_TMP/base.cpu"
	fi
	"$HV" --cpuid host -- "$B/guest/hv-t_cpuid" >"$T_TMP/host.cpu"
	"$B/guest/hv-t_cpuid" >"$T_TMP/native.cpu"
	t_same "CPUID host profile matches the host for these features" "$T_TMP/native.cpu" "$T_TMP/host.cpu"
else
	t_skip "file and KVM error cases" "/dev/kvm is missing"
fi
# No permission: an unprivileged user where /dev/kvm is root-only.
if [[ $(id -u) == 0 && $(stat -c %a /dev/kvm 2>/dev/null) == 600 ]] && command -v setpriv >/dev/null; then
	check "no permission for /dev/kvm" 77 "Permission denied" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$HV" -- /bin/busybox true
else
	t_skip "no permission for /dev/kvm" "needs root and a root-only /dev/kvm to test as another user"
fi
# Without /dev/kvm access: run in a namespace where /dev/kvm is hidden, if unshare is available.
if command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
	check "no /dev/kvm" 69 "cannot open /dev/kvm" unshare -m bash -c \
		"mount -t tmpfs none /dev 2>/dev/null && exec '$HV' -- /bin/true"
else
	t_skip "no /dev/kvm" "unshare -m is not permitted here"
fi
t_done
