#!/usr/bin/env bash
# E2E: vcons-qemu boots full Linux guests under QEMU (TCG here): busybox's echo and sh with stdout,
# stderr, stdin and the exit status carried (128+N for a signal); vcons-idle's JSON lines on stdout,
# stdin EOF reaching it, SIGUSR1 statistics with the guest clock, SIGTERM stopping it; vcons-db
# provisioned in one run and served in the next (the disk image persists), reached from the host by
# vcons-db-load through a --forward port; auto's KVM probe falling back to TCG; SIGKILL of vcons-qemu takes QEMU with it; bad options, a
# missing program, a missing or bad kernel, a broken initramfs and too little memory give one line and
# their exit codes. Every QEMU started goes through a wrapper that records its PID: none may be left
# running. Addresses: 127.8.0.0/24.
source "$VCONS_TOP/tools/testlib.sh"
source "$VCONS_TOP/workloads/common/test/guestlib.sh"
VQ=$B/vcons-qemu
A=127.8.0.11

if ! command -v qemu-system-x86_64 >/dev/null || [[ ! -s $B/qemu/vmlinuz || ! -s $B/qemu/initramfs.gz ]]; then
	t_skip "vcons-qemu" "qemu-system-x86_64 or the guest image (build/qemu) is missing"
	exit 0
fi

ROOT=$T_TMP/vm
mkdir -p "$ROOT/bin" "$ROOT/data"
cp /bin/busybox "$B/guest/vcons-idle" "$B/guest/vcons-db" "$ROOT/bin/"
cat >"$T_TMP/qemu-wrap" <<EOF
#!/bin/sh
echo \$\$ >>"$T_TMP/qemu.pids"
exec qemu-system-x86_64 "\$@"
EOF
chmod +x "$T_TMP/qemu-wrap"
VQARGS=(--qemu "$T_TMP/qemu-wrap" --boot-timeout 150)
vq() { "$VQ" "${VQARGS[@]}" "$@"; } # in the foreground only: in the background $! would be a subshell

# no_qemu_left NAME: every QEMU any run started has ended (waits up to 10 s for the last ones).
no_qemu_left() {
	local p alive i
	for ((i = 0; i < 100; i++)); do
		alive=""
		for p in $(cat "$T_TMP/qemu.pids" 2>/dev/null); do kill -0 "$p" 2>/dev/null && alive+=" $p"; done
		[[ -z $alive ]] && break
		sleep 0.1
	done
	[[ -z $alive ]] && t_ok "$1" || t_fail "$1" "QEMU still running:$alive"
}

# 1. Usage and option errors: no QEMU started.
"$VQ" --help | grep -q '^usage: vcons-qemu' && t_ok "--help prints usage, exit 0" || t_fail "--help"
vq --bogus -- /bin/busybox true 2>"$T_TMP/e"
[[ $? == 2 && $(wc -l <"$T_TMP/e") == 1 ]] && t_ok "unknown option: one line, exit 2" ||
	t_fail "unknown option: one line, exit 2" "$(cat "$T_TMP/e")"
vq --root "$ROOT" --mem 16M -- /bin/busybox true 2>"$T_TMP/e"
rc=$?
[[ $rc == 78 ]] && grep -q 'too little memory' "$T_TMP/e" && t_ok "--mem 16M: too little memory, exit 78" ||
	t_fail "--mem 16M: too little memory, exit 78" "rc=$rc $(cat "$T_TMP/e")"
vq --root "$ROOT" -- /bin/nothere 2>"$T_TMP/e"
rc=$?
[[ $rc == 66 ]] && grep -q 'program missing' "$T_TMP/e" && t_ok "missing program: exit 66" ||
	t_fail "missing program: exit 66" "rc=$rc $(cat "$T_TMP/e")"
vq --root "$ROOT" --kernel "$T_TMP/no-kernel" -- /bin/busybox true 2>"$T_TMP/e"
rc=$?
[[ $rc == 66 ]] && grep -q 'kernel missing' "$T_TMP/e" && t_ok "missing kernel: exit 66" ||
	t_fail "missing kernel: exit 66" "rc=$rc $(cat "$T_TMP/e")"
[[ ! -e $T_TMP/qemu.pids ]] && t_ok "option errors start no QEMU" || t_fail "option errors start no QEMU"

# 2. A file that is not a kernel: QEMU starts and fails; one line, exit 70, nothing left running.
head -c 100000 /dev/urandom >"$T_TMP/bad-kernel"
vq --root "$ROOT" --name badk --kernel "$T_TMP/bad-kernel" -- /bin/busybox true 2>"$T_TMP/e"
rc=$?
[[ $rc == 70 ]] && grep -q 'guest failed to boot' "$T_TMP/e" && t_ok "bad kernel: guest failed to boot, exit 70" ||
	t_fail "bad kernel: guest failed to boot, exit 70" "rc=$rc $(cat "$T_TMP/e")"
gzip -c /etc/hostname >"$T_TMP/bad-initrd.gz"
vq --root "$ROOT" --name badi --initrd "$T_TMP/bad-initrd.gz" -- /bin/busybox true 2>"$T_TMP/e"
rc=$?
[[ $rc == 70 ]] && grep -q 'guest failed to boot: .*Kernel panic' "$T_TMP/e" &&
	t_ok "a broken initramfs: the kernel's panic is the message, exit 70" ||
	t_fail "a broken initramfs: the kernel's panic is the message, exit 70" "rc=$rc $(cat "$T_TMP/e")"
no_qemu_left "bad kernel or initramfs: no QEMU left running"
[[ -z $(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'vcons-qemu.*' -newer "$T_TMP/qemu-wrap" 2>/dev/null) ]] &&
	t_ok "failed boots leave no temporary files" || t_fail "failed boots leave no temporary files"

# 3. busybox: stdout, stderr, stdin, exit status; data written to the disk.
printf 'line from the host\n' | vq --root "$ROOT" --net $A --name bb --stats "$T_TMP/bb.json" -- \
	/bin/busybox sh -c 'echo hello from the guest; echo to stderr >&2; cat; echo persisted >/data/marker; exit 7' \
	>"$T_TMP/bb.out" 2>"$T_TMP/bb.err"
rc=$?
printf 'hello from the guest\nline from the host\n' >"$T_TMP/bb.want"
[[ $rc == 7 ]] && t_ok "the program's exit status (7) is vcons-qemu's" || t_fail "exit status 7" "rc=$rc $(cat "$T_TMP/bb.err")"
t_same "stdout carries the program's stdout, stdin reaches it" "$T_TMP/bb.want" "$T_TMP/bb.out"
grep -qx 'to stderr' "$T_TMP/bb.err" && grep -q 'accel tcg\|accel kvm' "$T_TMP/bb.err" &&
	t_ok "stderr carries the program's stderr and one accel line" || t_fail "stderr" "$(cat "$T_TMP/bb.err")"
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["accel"] in ("tcg","kvm") and o["boot_ms"] > 0; print("boot_ms", o["boot_ms"], o["accel"])' \
	"$T_TMP/bb.json" && t_ok "--stats: accel and boot_ms" || t_fail "--stats: accel and boot_ms" "$(cat "$T_TMP/bb.json")"
[[ -s $T_TMP/vm.img ]] && t_ok "the disk image is ROOT.img" || t_fail "the disk image is ROOT.img"

# 4. The disk persists; a signal's death is 128+N.
vq --root "$ROOT" --name bb2 -- /bin/busybox sh -c 'cat /data/marker; kill -SEGV $$' </dev/null \
	>"$T_TMP/bb2.out" 2>"$T_TMP/bb2.err"
rc=$?
[[ $rc == 139 ]] && t_ok "killed by SIGSEGV: exit 139" || t_fail "killed by SIGSEGV: exit 139" "rc=$rc $(cat "$T_TMP/bb2.err")"
grep -qx persisted "$T_TMP/bb2.out" && t_ok "data written by one run is there in the next" ||
	t_fail "data persists between runs" "$(cat "$T_TMP/bb2.out")"

# 4b. --accel auto when KVM looks usable but QEMU cannot boot with it: the probe falls back to TCG
# (VCONS_QEMU_ASSUME_KVM is vcons-qemu's test hook: it pretends /dev/kvm works, QEMU's KVM start fails).
echo from-stdin | VCONS_QEMU_ASSUME_KVM=1 "$VQ" "${VQARGS[@]}" --root "$ROOT" --name probe --stats "$T_TMP/probe.json" -- \
	/bin/busybox cat >"$T_TMP/probe.out" 2>"$T_TMP/probe.err"
rc=$?
[[ $rc == 0 ]] && grep -qx from-stdin "$T_TMP/probe.out" && grep -q 'KVM did not boot the guest (.*): accel tcg' "$T_TMP/probe.err" &&
	grep -q '"accel":"tcg"' "$T_TMP/probe.json" && t_ok "auto: a KVM start that fails falls back to TCG, stdin intact" ||
	t_fail "auto: KVM probe falls back to TCG" "rc=$rc $(cat "$T_TMP/probe.err")"

# 5. vcons-idle --duration 2: its JSON lines on stdout, exit 0.
vq --root "$ROOT" --name idle -- /bin/vcons-idle --duration 2 --csu 3 </dev/null >"$T_TMP/idle.out" 2>"$T_TMP/idle.err"
rc=$?
n=$(grep -c '"type":"interval"' "$T_TMP/idle.out")
[[ $rc == 0 && $n -ge 2 ]] && tail -1 "$T_TMP/idle.out" | grep -q '"final":true' &&
	python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T_TMP/idle.out" &&
	t_ok "vcons-idle --duration 2: $n JSON interval lines on stdout, exit 0" ||
	t_fail "vcons-idle --duration 2" "rc=$rc n=$n $(cat "$T_TMP/idle.err")"

# 6. stdin EOF reaches the program: vcons-idle --duration 0 stops.
vq_feed() {
	rm -f "$T_TMP/in"
	mkfifo "$T_TMP/in"
	exec 7<>"$T_TMP/in"
	"$VQ" "${VQARGS[@]}" "$@" <"$T_TMP/in" >"$T_TMP/out" 2>"$T_TMP/err" 7>&- &
	GPID=$!
	T_PIDS+=("$GPID")
}
vq_feed --root "$ROOT" --name eof -- /bin/vcons-idle --duration 0 --interval 0.5
if wait_lines "$T_TMP/out" interval 1 || wait_lines "$T_TMP/out" interval 1 || wait_lines "$T_TMP/out" interval 1; then
	exec 7>&-
	wait_exit $GPID 30 && [[ $WAIT_RC == 0 ]] && tail -1 "$T_TMP/out" | grep -q '"final":true' &&
		t_ok "closing stdin stops the program in the guest, exit 0" ||
		t_fail "closing stdin stops the program" "rc=${WAIT_RC:-still running} $(cat "$T_TMP/err")"
else
	exec 7>&-
	t_fail "closing stdin stops the program" "no interval line in 60 s: $(cat "$T_TMP/err")"
fi

# 7. SIGTERM: the program gets it, the guest ends, QEMU is gone.
vq_feed --root "$ROOT" --name term --grace 20 --stats "$T_TMP/term.json" -- /bin/vcons-idle --duration 0 --interval 0.5
if wait_lines "$T_TMP/out" interval 1 || wait_lines "$T_TMP/out" interval 1 || wait_lines "$T_TMP/out" interval 1; then
	t_asked=$(python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC))')
	kill -USR1 $GPID
	for ((i = 0; i < 100; i++)); do grep -q guest_ns "$T_TMP/term.json" 2>/dev/null && break; sleep 0.1; done
	python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["host_ns"] >= int(sys.argv[2]) and o["guest_ns"] > 0' \
		"$T_TMP/term.json" "$t_asked" && t_ok "SIGUSR1: --stats gets the guest clock (guest_ns) with host_ns" ||
		t_fail "SIGUSR1: --stats gets the guest clock" "$(cat "$T_TMP/term.json")"
	kill -TERM $GPID
	wait_exit $GPID 30 && [[ $WAIT_RC == 0 ]] && tail -1 "$T_TMP/out" | grep -q '"final":true' &&
		t_ok "SIGTERM stops the program cleanly (final line, exit 0)" ||
		t_fail "SIGTERM stops the program cleanly" "rc=${WAIT_RC:-still running} $(cat "$T_TMP/err")"
else
	t_fail "SIGTERM stops the program cleanly" "no interval line in 60 s: $(cat "$T_TMP/err")"
fi
exec 7>&-
no_qemu_left "after SIGTERM: no QEMU left running"

# 8. SIGKILL of vcons-qemu: QEMU dies with it.
n0=$(wc -l <"$T_TMP/qemu.pids")
"$VQ" "${VQARGS[@]}" --root "$ROOT" --name k9 -- /bin/vcons-idle --duration 60 </dev/null >/dev/null 2>&1 &
K=$!
for ((i = 0; i < 100; i++)); do (($(wc -l <"$T_TMP/qemu.pids") > n0)) && break; sleep 0.1; done
sleep 2
kill -KILL $K
wait $K 2>/dev/null
no_qemu_left "SIGKILL of vcons-qemu: QEMU ends too"

# 9. vcons-db: provision in one run, serve in the next, reached from the host through --forward.
DB=$T_TMP/db
mkdir -p "$DB/bin" "$DB/data"
cp "$B/guest/vcons-db" "$DB/bin/"
vq --root "$DB" --net $A --vcpus 2 --mem 512M --name db -- /bin/vcons-db --load --warehouses 1 --data /data \
	</dev/null >"$T_TMP/load.out" 2>"$T_TMP/load.err"
rc=$?
[[ $rc == 0 ]] && t_ok "vcons-db --load in a guest" || t_fail "vcons-db --load in a guest" "rc=$rc $(cat "$T_TMP/load.err")"
"$VQ" "${VQARGS[@]}" --root "$DB" --net $A --vcpus 2 --mem 512M --name db --forward 5440 -- /bin/vcons-db --addr $A --data /data \
	--threads 2 </dev/null >"$T_TMP/db.out" 2>"$T_TMP/db.err" &
DPID=$!
T_PIDS+=("$DPID")
for ((i = 0; i < 1200; i++)); do grep -q ready "$T_TMP/db.out" 2>/dev/null && break; kill -0 $DPID 2>/dev/null || break; sleep 0.1; done
if grep -q ready "$T_TMP/db.out"; then
	t_ok "vcons-db serves: ready on stdout"
	"$B/vcons-db-load" --target $A --users 2 --duration 3 >"$T_TMP/dbload.out" 2>&1
	rc=$?
	all=$(awk '$1 == "all" { print $2, $3, $4 }' "$T_TMP/dbload.out")
	read -r ops errs tps <<<"$all"
	[[ $rc == 0 && ${ops:-0} -gt 0 && ${errs:-1} == 0 ]] &&
		t_ok "vcons-db-load from the host: $ops transactions, 0 errors ($tps tx/s under $(grep -o 'accel [a-z]*' "$T_TMP/db.err"))" ||
		t_fail "vcons-db-load from the host" "rc=$rc $(cat "$T_TMP/dbload.out")"
	kill -TERM $DPID
	wait_exit $DPID 30 && [[ $WAIT_RC == 0 || $WAIT_RC == 143 ]] && t_ok "SIGTERM ends the server VM (exit $WAIT_RC)" ||
		t_fail "SIGTERM ends the server VM" "rc=${WAIT_RC:-still running}"
else
	t_fail "vcons-db serves: ready on stdout" "$(cat "$T_TMP/db.err")"
fi
no_qemu_left "no QEMU left running at the end"
t_done
