#!/bin/busybox sh
# qemu/init.sh: /init of the vcons-qemu guest (busybox sh, PID 1). Loads the virtio modules, mounts the
# VM's disk (/dev/vda, ext4: the VM's root content), refreshes its /bin from the per-run archive
# vcons-qemu appends to the initramfs (/vcons: conf, args, bin/), gives eth0 the VM's address, runs the
# program chrooted into the disk with stdin/stdout/stderr on virtio-serial ports, forwards "sig N" from
# the control port as signal N to it, reports "exit STATUS" on the control port, and powers off.
# Control port lines, guest to host: "booted", "clock NS", "exit N", "fail REASON"; host to guest:
# "sig N", "clock".
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
. /vcons/conf

for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko || echo "init: insmod $m failed" >/dev/ttyS0; done

# port NAME: the /dev node of the virtio-serial port NAME, once it appeared (up to ~10 s).
port() {
	i=0
	while [ $i -lt 1000 ]; do
		for d in /sys/class/virtio-ports/vport*; do
			[ -e "$d/name" ] && [ "$(cat "$d/name")" = "$1" ] && [ -e "/dev/${d##*/}" ] && {
				echo "/dev/${d##*/}"
				return 0
			}
		done
		usleep 10000
		i=$((i + 1))
	done
	return 1
}

CTL=$(port vcons.ctl) || { echo "init: no control port" >/dev/ttyS0; poweroff -f; }
exec 3<>"$CTL"
fail() {
	echo "fail $*" >&3
	sleep 1
	poweroff -f
}
echo booted >&3

IN=$(port vcons.stdin) && OUT=$(port vcons.stdout) && ERR=$(port vcons.stderr) || fail "virtio-serial ports missing"
i=0
while [ ! -b /dev/vda ] && [ $i -lt 500 ]; do usleep 10000; i=$((i + 1)); done
mount -t ext4 -o noatime /dev/vda /mnt/root || fail "cannot mount the VM disk /dev/vda"
R=/mnt/root
mkdir -p $R/bin $R/dev $R/proc $R/sys $R/tmp
[ -d /vcons/bin ] && cp -a /vcons/bin/. $R/bin/
mount -t devtmpfs dev $R/dev
mount -t proc proc $R/proc
mount -t sysfs sys $R/sys

# Network: eth0 has QEMU user networking's 10.0.2.15 and the VM's own address (which may be a 127.x
# address: route_localnet lets eth0 carry it), so the program binds to the address the host uses.
ip link set lo up
ip link set eth0 up 2>/dev/null
for f in /proc/sys/net/ipv4/conf/all/route_localnet /proc/sys/net/ipv4/conf/eth0/route_localnet; do
	[ -e $f ] && echo 1 >$f
done
ip addr add 10.0.2.15/24 dev eth0 2>/dev/null
if [ -n "$NET" ]; then
	ip addr add "$NET/32" dev eth0 || fail "cannot add $NET to eth0"
fi
ip route add default via 10.0.2.2 2>/dev/null
hostname "${NAME:-vm}"

. /vcons/args
chroot $R "$@" <"$IN" >"$OUT" 2>"$ERR" &
pid=$!
(
	while read -r cmd <&3; do
		case "$cmd" in
		sig\ [0-9]*) kill -"${cmd#sig }" $pid 2>/dev/null ;;
		clock) adjtimex | awk '/tv_sec/ { s = $2 } /tv_usec/ { u = $2 } END { printf "clock %d%06d000\n", s, u }' >&3 ;;
		esac
	done
) &
reader=$!
wait $pid
st=$?
kill $reader 2>/dev/null
umount $R/sys $R/proc $R/dev 2>/dev/null
sync
umount $R 2>/dev/null || mount -o remount,ro $R
echo "exit $st" >&3
poweroff -f
