#!/bin/busybox sh
# tools/nested-kvm-init.sh: /init of the nested-KVM guest that tools/nested-kvm.sh boots (busybox sh,
# PID 1). Loads the virtio, squashfs, overlay and KVM (kvm-amd on QEMU's emulated SVM) modules; makes
# the root from the host snapshot (/dev/vda, squashfs) under a tmpfs overlay; lays the checkout
# (/dev/vdc, squashfs) under another overlay at its host path; mounts the exchange disk (/dev/vdb,
# ext4) at /out; runs /out/run.sh chrooted, as root, with output on the serial console; powers off.
# Kernel command line: vcons.repo=PATH (the checkout's path on the host).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
say() { echo "nested-kvm-init: $*" >/dev/ttyS0; }
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko || say "insmod $m failed"; done
REPO=$(sed -n 's/.*vcons\.repo=\([^ ]*\).*/\1/p' /proc/cmdline)

i=0
while [ ! -b /dev/vdc ] && [ $i -lt 1000 ]; do usleep 10000; i=$((i + 1)); done
R=/newroot
mkdir -p /lower /repo /upper $R
mount -t squashfs -o ro /dev/vda /lower || say "cannot mount the host snapshot"
mount -t tmpfs -o size=60% tmpfs /upper
mkdir -p /upper/u /upper/w /upper/ru /upper/rw
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w $R || say "no overlay root"
mkdir -p $R/proc $R/sys $R/dev $R/tmp $R/run $R/out "$R$REPO"
mount -t squashfs -o ro /dev/vdc /repo &&
	mount -t overlay overlay -o lowerdir=/repo,upperdir=/upper/ru,workdir=/upper/rw "$R$REPO" ||
	say "cannot mount the checkout at $REPO"
mount -t proc proc $R/proc
mount -t sysfs sys $R/sys
mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs tmpfs $R/dev/shm
ln -sf /proc/self/fd $R/dev/fd
ln -sf /proc/self/fd/0 $R/dev/stdin
ln -sf /proc/self/fd/1 $R/dev/stdout
ln -sf /proc/self/fd/2 $R/dev/stderr
mount -t tmpfs -o size=30% tmpfs $R/tmp
mount -t tmpfs tmpfs $R/run
mount -t ext4 /dev/vdb $R/out || say "cannot mount the exchange disk"
ip link set lo up
hostname nested-kvm
[ -c /dev/kvm ] || say "no /dev/kvm in the nested guest"
chroot $R /bin/bash /out/run.sh >/dev/ttyS0 2>&1
echo $? >$R/out/status
sync
umount $R/out
poweroff -f
