#!/usr/bin/env bash
# Snapshots and live migration (hv/snapshot.h, hv/migrate.h, hv/control.h): t_snap holds one of each kind of state; a snapshot
# with "stop" under an open TCP connection, then --restore: the same connection, its pipe,
# eventfd, epoll set, timerfd, file offset, threads (one blocked in accept or read, one on a
# condition variable) and MONOTONIC carry on, and again after the restored VM (its RAM mapped from
# the snapshot) is snapshotted over that very file and restored; pause/status/resume and a snapshot the guest runs
# on after; damaged, truncated, foreign and mismatched snapshots are refused with one line and
# their exit code. Live migration between two vcons-hv processes under an open connection while
# the guest rewrites 32 MiB (a lost page shows in its check); a target killed mid-copy, a fake
# target that resets the connection after 4 MiB or once the state arrived, and a target that
# refuses the VM: the source goes on each time. The cases are driven by snapshot_drive.py.
source "$VCONS_TOP/tools/testlib.sh"
names=("snapshot, stop and restore" "a restored VM snapshotted again over its own snapshot file and restored" "pause, resume, and a snapshot the guest runs on after; a connection that waits to be accepted at every pause is reset"
	"a truncated snapshot is refused" "a damaged snapshot is refused"
	"a file that is no snapshot is refused" "a snapshot of a VM of another size is refused"
	"--restore with a PROGRAM is a usage error" "a snapshot whose open file changed since is refused"
	"live migration under an open connection, 32 MiB being rewritten"
	"kill -9 of the target mid-copy: the source goes on"
	"a target that dies after 4 MiB of pages: the source goes on"
	"a target that dies once the state arrived, without an answer"
	"a target with another --mem refuses the VM; the source goes on")
require_kvm "${names[@]}"
if ! grep -q ' constant_tsc' /proc/cpuinfo || ! grep -q ' nonstop_tsc' /proc/cpuinfo; then
	echo "# no constant_tsc/nonstop_tsc: the guest's clocks are system calls here" >&2
fi
mkdir -p "$T_TMP/work"
port=$((20000 + RANDOM % 20000))
python3 "$VCONS_TOP/hv/test/snapshot_drive.py" "$B/vcons-hv" "$B/guest/hv-t_snap" "$T_TMP/work" \
	127.0.0.1 "$port" | tee "$T_TMP/drive.out"
rc=${PIPESTATUS[0]}
if grep -q '^not ok' "$T_TMP/drive.out" || ((rc != 0)); then
	for f in "$T_TMP"/work/*.err; do
		[[ -s $f ]] && { echo "# $f:"; tail -5 "$f"; } >&2
	done
	T_FAILED=1
fi
t_done
