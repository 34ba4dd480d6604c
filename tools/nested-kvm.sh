#!/usr/bin/env bash
# tools/nested-kvm.sh: runs the tests that need /dev/kvm on a host that has none, inside a QEMU guest
# whose CPU is emulated by TCG with AMD SVM (without nested paging, below): the guest kernel (Debian's cloud kernel,
# the one the qemu platform fetches) loads kvm-amd and has a real /dev/kvm, so vcons-hv runs there
# unchanged. The guest's root is a squashfs snapshot of this host's system (build/nested/root.sqfs, made
# once: --refresh remakes it) and the checkout, built, is laid at its own path; both under tmpfs
# overlays, so nothing the tests write reaches the host except the logs copied back.
#
# A guest kernel panic ends QEMU at once (panic=-1 with -no-reboot) instead of idling to the timeout.
# The emulated CPU has SVM without nested paging, so the guest's KVM shadow-pages the VMs: with TCG's
# nested paging (NESTED_CPU=EPYC,+svm,+npt) most 2-minute runs lost a VM to a triple fault or panicked
# the guest kernel; without it, or with it on single-threaded TCG (half the speed), none did (tools/README.md).
# The guest holds one KVM VM open for the whole run (NESTED_KEEPVM=0: not): otherwise every first VM and
# last VM turns KVM's static keys on or off, the kernel rewrites __schedule's code while both vCPUs run
# it, and multi-threaded TCG can keep running the old code: both vCPUs loop through int3 for ever.
# Creating and destroying VMs in a loop stalled the guest within a minute without it (about 500 VMs),
# never with it (30,734 VMs in 400 s).
# NESTED_CPU, NESTED_ACCEL, NESTED_MEM and NESTED_TIMEOUT (seconds) change the emulated machine. A guest
# whose console stays silent for NESTED_STALL seconds (default 900; it prints a line every
# NESTED_STALL/3 while it lives, with the last line of the newest test log) is stopped, after its
# vCPUs' registers were sampled three times through QEMU's monitor (build/nested/stall.txt; a summary
# names each kernel RIP's function from the guest's /proc/kallsyms).
#
# It proves behaviour, not speed: everything in the guest runs emulated, the nested VM's code on top
# of that about 1,000 times slower than native, so QoS-bound figures fail there and no figure from it
# belongs in a benchmark table.
#
# usage: tools/nested-kvm.sh [--refresh] [--build DIR] TEST...   (TEST as tools/run-tests.sh takes)
#        tools/nested-kvm.sh [--refresh] --run 'COMMAND'         (a shell command in the checkout)
# Exits 0 when every test passed, 1 when one failed or the guest died, 2 on a usage error, 3 when a
# prerequisite is missing (qemu-system-x86_64, mksquashfs, the qemu platform's kernel: run make first).
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD build=build refresh=0 tests=() cmd=""
while (($#)); do
	case $1 in
	--refresh) refresh=1; shift ;;
	--build) build=$2; shift 2 ;;
	--run) cmd=$2; shift 2 ;;
	--help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "nested-kvm: unknown option $1" >&2; exit 2 ;;
	*) tests+=("$1"); shift ;;
	esac
done
((${#tests[@]})) || [[ -n $cmd ]] || { echo "nested-kvm: no test named (try --help)" >&2; exit 2; }
[[ -n $cmd ]] || cmd="tools/run-tests.sh --build $build --e2e \"${tests[*]}\""
die3() { echo "nested-kvm: $*" >&2; exit 3; }
command -v qemu-system-x86_64 >/dev/null || die3 "qemu-system-x86_64 is missing (package qemu-system-x86)"
command -v mksquashfs >/dev/null || die3 "mksquashfs is missing (package squashfs-tools)"
command -v debugfs >/dev/null || die3 "debugfs is missing (package e2fsprogs)"
kernel=$build/qemu/vmlinuz
mods=$(ls -d "$build"/qemu/kpkg/lib/modules/*/kernel 2>/dev/null | head -1)
[[ -f $kernel && -n $mods ]] || die3 "no $kernel: build the qemu platform first (make)"

out=$build/nested
mkdir -p "$out"
# The guest's initramfs: busybox, the modules in load order, the init script.
mkinitrd() {
	local d=$out/initramfs.d m
	local list="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev
		drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk
		fs/squashfs/squashfs fs/overlayfs/overlay virt/lib/irqbypass arch/x86/kvm/kvm arch/x86/kvm/kvm-amd"
	rm -rf "$d" && mkdir -p "$d"/bin "$d"/lib/modules "$d"/proc "$d"/sys "$d"/dev || return 1
	cp /bin/busybox "$d"/bin/ || return 1
	for m in $list; do cp "$mods/$m.ko" "$d"/lib/modules/ || return 1; done
	for m in $list; do basename "$m"; done >"$d"/lib/modules/order
	cp tools/nested-kvm-init.sh "$d"/init && chmod 755 "$d"/init
	(cd "$d" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out"/initramfs.gz
}
mkinitrd || die3 "cannot build the guest's initramfs from $mods"

# The host snapshot leaves out what changes while it is read, what the tests never use, the checkout
# and NESTED_EXCLUDE (paths under /, default "work": this workplace's scratch space).
if ((refresh)) || [[ ! -s $out/root.sqfs ]]; then
	echo "nested-kvm: snapshotting this host's system into $out/root.sqfs (a few minutes, once)"
	rm -f "$out"/root.sqfs
	excl=(proc sys dev run tmp mnt media var/cache/apt var/lib/apt/lists usr/share/doc usr/share/man
		usr/lib/jvm usr/lib/chromium root/.rustup "${top#/}" ${NESTED_EXCLUDE-work})
	mksquashfs / "$out"/root.sqfs -noI -noD -noF -noX -no-xattrs -quiet -e "${excl[@]}" >/dev/null ||
		{ rm -f "$out"/root.sqfs; die3 "mksquashfs of / failed"; }
fi
rm -f "$out"/repo.sqfs
mksquashfs . "$out"/repo.sqfs -noI -noD -noF -noX -no-xattrs -quiet -e "$build/nested" >/dev/null ||
	die3 "mksquashfs of the checkout failed"

# A guest that prints nothing for $stall seconds has stalled (its kernel, not a test: each test has
# its own timeout in run-tests.sh, and the guest prints a line every $beat seconds while it lives).
stall=${NESTED_STALL:-900} beat=$(( ${NESTED_STALL:-900} / 3 ))

# The exchange disk: run.sh in, logs and the exit status out.
rm -rf "$out"/xchg.d && mkdir -p "$out"/xchg.d
cat >"$out"/xchg.d/run.sh <<EOF
export PATH="$PATH" CI=true
cd "$top" || exit 1
echo "nested-kvm: guest \$(uname -r), \$(nproc) CPUs, \$(ls /dev/kvm 2>/dev/null || echo 'no /dev/kvm')"
grep -i ' t ' /proc/kallsyms >/out/kallsyms 2>/dev/null && sync # names the RIPs of a stall report
# Holds one KVM VM with a vCPU (no in-kernel APIC, as vcons-hv makes them) open for the whole run, so
# the static keys KVM turns on with the first VM and vCPU (most likely the preempt notifiers' in
# __schedule) stay on: turning them on and off rewrites kernel code while both vCPUs run it, and
# multi-threaded TCG can go on running the old code (a stall report showed both vCPUs looping through
# int3 at __schedule+0x2ab while memory held the new jmp). NESTED_KEEPVM=0 leaves it out.
if [[ ${NESTED_KEEPVM:-1} == 1 ]]; then
	python3 -c 'import fcntl, os, time
kvm = os.open("/dev/kvm", os.O_RDWR)
vm = fcntl.ioctl(kvm, 0xAE01, 0)  # KVM_CREATE_VM
fcntl.ioctl(vm, 0xAE41, 0)  # KVM_CREATE_VCPU
time.sleep(1 << 30)' &
	keepvm=\$!
fi
(while sleep $beat; do
	log=\$(find "$build"/test-logs -name '*.log' -newer /out/run.sh -printf '%T@ %p\n' 2>/dev/null |
		sort -n | tail -1 | cut -d' ' -f2-)
	echo "nested-kvm: guest alive at \$(date +%T)\${log:+; \${log##*/}: \$(tail -n 1 "\$log" | cut -c1-100)}"
done) &
hb=\$!
$cmd
rc=\$?
kill \$hb \${keepvm-}
cp -r "$build"/test-logs /out/ 2>/dev/null
cp -r results /out/ 2>/dev/null
exit \$rc
EOF
rm -f "$out"/xchg.img
mkfs.ext4 -q -d "$out"/xchg.d "$out"/xchg.img 2G || die3 "mkfs.ext4 of the exchange disk failed"

mem=${NESTED_MEM:-12G}
# dump_stall: samples every vCPU's registers three times, a second apart, through QEMU's monitor into
# $out/stall.txt. stall_report (after QEMU ended) prints one line per vCPU and sample: RIP, named from
# the guest's /proc/kallsyms (copied to the exchange disk at boot) when it is kernel code, CPL, and
# whether the vCPU halted. The same kernel function in every sample on a busy vCPU suggests a loop.
dump_stall() {
	python3 - "$out"/monitor.sock "$out"/stall.txt <<'PY' || echo "nested-kvm: no register dump" >&2
import re, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.settimeout(0.5)
def talk(cmd):  # the monitor's answer: all it sends until it has been quiet for half a second
    s.sendall(cmd.encode() + b"\n")
    out, end = b"", time.time() + 10
    while time.time() < end:
        try:
            out += s.recv(65536)
        except socket.timeout:
            break
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", out.decode(errors="replace"))
talk("")
with open(sys.argv[2], "w") as f:
    for k in range(3):
        f.write(f"== sample {k}\n{talk('info registers -a')}\n")
        time.sleep(1)
PY
}
stall_report() {
	python3 - "$out"/stall.txt "$out"/back/kallsyms <<'PY'
import bisect, re, sys
syms = []
try:
    for line in open(sys.argv[2]):
        a, _, name = line.split()[:3]
        syms.append((int(a, 16), name))
except OSError:
    pass
syms.sort()
addrs = [a for a, _ in syms]
def where(rip):
    if rip < 1 << 63:
        return "user space: a guest process or the nested VM"
    i = bisect.bisect_right(addrs, rip) - 1
    return f"{syms[i][1]}+{rip - syms[i][0]:#x}" if i >= 0 else "kernel (no kallsyms)"
for k, text in enumerate(open(sys.argv[1]).read().split("== sample ")[1:]):
    for cpu, rip, cpl, hlt in re.findall(r"CPU#(\d+).*?RIP=([0-9a-f]+).*?CPL=(\d).*?HLT=(\d)", text, re.S):
        print(f"nested-kvm: stall sample {k} cpu{cpu}: RIP {rip} in {where(int(rip, 16))}, CPL {cpl}"
              f"{', halted' if hlt == '1' else ''}")
PY
}
# Passes the guest's console on (without firmware chatter) and stops QEMU, by the PID it wrote, when
# the console has been silent for $stall seconds.
watch_console() {
	local line rc
	while :; do
		IFS= read -r -t "$stall" line
		rc=$?
		if ((rc > 128)); then
			echo "nested-kvm: no output from the guest for ${stall}s: it stalled; registers in $out/stall.txt" >&2
			dump_stall
			echo "nested-kvm: stopping QEMU" >&2
			kill "$(cat "$out"/qemu.pid 2>/dev/null)" 2>/dev/null
			cat >/dev/null
			return
		fi
		line=${line%$'\r'}
		[[ -z $line || $line == *$'\e'* || $line =~ SeaBIOS|iPXE|Booting\ from|Press\ Ctrl-B ]] ||
			printf '%s\n' "$line"
		((rc == 0)) || return
	done
}
rm -f "$out"/qemu.pid "$out"/monitor.sock "$out"/stall.txt
timeout "${NESTED_TIMEOUT:-5400}" qemu-system-x86_64 -accel "${NESTED_ACCEL:-tcg,thread=multi,tb-size=1024}" \
	-cpu "${NESTED_CPU:-EPYC,+svm,-npt}" -smp 2 -m "$mem" -display none -serial stdio -no-reboot \
	-pidfile "$out"/qemu.pid -monitor unix:"$out"/monitor.sock,server=on,wait=off \
	-kernel "$kernel" -initrd "$out"/initramfs.gz -append "console=ttyS0 quiet panic=-1 vcons.repo=$top" \
	-drive file="$out"/root.sqfs,format=raw,if=virtio,readonly=on \
	-drive file="$out"/xchg.img,format=raw,if=virtio \
	-drive file="$out"/repo.sqfs,format=raw,if=virtio,readonly=on \
	</dev/null 2>"$out"/qemu.err | watch_console
rm -rf "$out"/back && mkdir -p "$out"/back
debugfs -R "rdump / $out/back" "$out"/xchg.img >/dev/null 2>&1
status=$(cat "$out"/back/status 2>/dev/null)
echo "nested-kvm: logs in $out/back/test-logs"
[[ ! -s $out/stall.txt ]] || stall_report
[[ $status == 0 ]] && exit 0
[[ -n $status ]] || echo "nested-kvm: the guest ended without a status (crashed or timed out; see above)" >&2
exit 1
