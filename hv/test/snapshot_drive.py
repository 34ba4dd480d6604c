#!/usr/bin/env python3
"""Drives hv/test/snapshot.sh's cases against vcons-hv and the t_snap guest; prints one TAP-style
line per case ("ok - NAME" or "not ok - NAME: why"). Every wait is bounded.

  snapshot_drive.py HV GUEST WORKDIR ADDR PORT [HV_PREFIX_ARGS...]
"""
import json
import os
import socket
import subprocess
import sys
import time

HV, GUEST, WORK, ADDR, PORT = sys.argv[1:6]
PORT = int(PORT)
EXTRA = sys.argv[6:]
ROOT = os.path.join(WORK, "root")
CTL = os.path.join(WORK, "ctl.sock")
CTL2 = os.path.join(WORK, "ctl2.sock")
failed = 0


def report(ok, name, why=""):
    global failed
    print(("ok - " if ok else "not ok - ") + name + ("" if ok else ": " + why), flush=True)
    failed += 0 if ok else 1


CPUS = sorted(os.sched_getaffinity(0))


def on_cpu(cpu):
    """Pins a vcons-hv to one CPU: sources run on the first, the restore on the last, so a CPUID
    profile that depends on the CPU it was read on (KVM passes on the host's APIC IDs) is refused
    every time, not at random."""
    return lambda: os.sched_setaffinity(0, {cpu})


def hv(args, out, err, **kw):
    cmd = [HV] + EXTRA + ["--root", ROOT, "--net", ADDR, "--mem", "256M"] + args
    return subprocess.Popen(cmd, stdout=out, stderr=err, **kw)


def wait_line(path, prefix, proc, limit=120):
    end = time.time() + limit
    while time.time() < end:
        with open(path) as f:
            for line in f:
                if line.startswith(prefix):
                    return line.strip()
        if proc.poll() is not None:
            return None
        time.sleep(0.1)
    return None


def control(cmd, limit=120, path=CTL):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(limit)
    s.connect(path)
    s.sendall((json.dumps(cmd) + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return json.loads(buf)


class Client:
    """One TCP connection to the guest, line by line."""

    def __init__(self):
        end = time.time() + 60
        while True:
            try:
                self.s = socket.create_connection((ADDR, PORT), timeout=60)
                break
            except OSError:
                if time.time() > end:
                    raise
                time.sleep(0.2)
        self.f = self.s.makefile("r")

    def ask(self, line):
        self.s.sendall((line + "\n").encode())
        return self.f.readline().strip()


def finish(proc, limit=120):
    try:
        return proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return "timeout"


def start_source(tag):
    out = open(os.path.join(WORK, tag + ".out"), "w")
    err = open(os.path.join(WORK, tag + ".err"), "w")
    p = hv(["--control", CTL, "--", GUEST, str(PORT)], out, err, preexec_fn=on_cpu(CPUS[0]))
    ready = wait_line(out.name, "ready", p)
    return p, ready


def case_snapshot_stop_restore():
    """Snapshot with stop under an open connection; restore; the same connection carries on."""
    snap = os.path.join(WORK, "a.snap")
    src, ready = start_source("a-src")
    if not ready:
        return report(False, "snapshot, stop and restore", "the guest never got ready")
    c = Client()
    if c.ask("echo before") != "before":
        finish(src, 1)
        return report(False, "snapshot, stop and restore", "no echo before the snapshot")
    r = control({"cmd": "snapshot", "path": snap, "stop": True})
    rc = finish(src)
    if not r.get("ok") or rc != 0:
        return report(False, "snapshot, stop and restore", f"snapshot {r}, source exit {rc}")
    out = open(os.path.join(WORK, "a-dst.out"), "w")
    err = open(os.path.join(WORK, "a-dst.err"), "w")
    dst = hv(["--control", CTL2, "--restore", snap], out, err, preexec_fn=on_cpu(CPUS[-1]))
    # The connection's packets meet no socket until the restored VM has made it (the host would
    # answer them with a reset): its control socket answers once it has.
    end = time.time() + 120
    while time.time() < end and dst.poll() is None:
        try:
            if control({"cmd": "status"}, 10, CTL2).get("ok"):
                break
        except OSError:
            time.sleep(0.1)
    echo = c.ask("echo after")
    check = c.ask("check")
    c.s.sendall(b"quit\n")
    rc = finish(dst)
    done = open(out.name).read()
    ok = echo == "after" and check.startswith("check ok") and rc == 0 and "sleeper=42" in done
    pid0 = ready.split()[1]
    ok = ok and pid0 in check
    report(ok, "snapshot, stop and restore: the open connection, pipe, eventfd, epoll, timerfd, "
           "file offset, threads and MONOTONIC carry on",
           f"echo {echo!r}, {check!r}, exit {rc}, ready {ready!r}, out {done!r}, "
           f"stderr {open(err.name).read()[-400:]!r}")
    if ok:
        print(f"# snapshot: {r['bytes']} bytes on disk, {r['pages']} pages, paused "
              f"{r['pause_ms']:.1f} ms, written in {r['write_ms']:.1f} ms")
    return snap


def case_snapshot_and_go_on():
    """Snapshot without stop: the guest pauses, resumes and carries on; pause/resume/status."""
    snap = os.path.join(WORK, "b.snap")
    src, ready = start_source("b-src")
    if not ready:
        return report(False, "snapshot and go on", "the guest never got ready")
    c = Client()
    s1 = control({"cmd": "status"})
    p = control({"cmd": "pause"})
    s2 = control({"cmd": "status"})
    control({"cmd": "resume"})
    r = control({"cmd": "snapshot", "path": snap})
    echo = c.ask("echo still")
    check = c.ask("check")
    c.s.sendall(b"quit\n")
    rc = finish(src)
    ok = (s1.get("state") == "running" and p.get("ok") and s2.get("state") == "paused"
          and r.get("ok") and echo == "still" and check.startswith("check ok") and rc == 0)
    report(ok, "pause, resume, and a snapshot the guest runs on after",
           f"{s1} {p} {s2} {r} echo {echo!r} {check!r} exit {rc}")
    return snap


def refused(args, want_rc, want_text, name):
    p = subprocess.run([HV] + EXTRA + args, capture_output=True, text=True, timeout=120)
    lines = p.stderr.strip().splitlines()
    ok = p.returncode == want_rc and len(lines) == 1 and want_text in p.stderr
    report(ok, name, f"exit {p.returncode} (want {want_rc}), stderr {p.stderr!r}")


def case_refusals(snap):
    base = ["--root", ROOT, "--net", ADDR, "--mem", "256M"]
    trunc = os.path.join(WORK, "trunc.snap")
    with open(snap, "rb") as f, open(trunc, "wb") as g:
        g.write(f.read(os.path.getsize(snap) // 2 if os.path.getsize(snap) < (64 << 20)
                       else 16 << 20))
    refused(base + ["--restore", trunc], 76, "truncated", "a truncated snapshot is refused")
    bad = os.path.join(WORK, "corrupt.snap")
    subprocess.run(["cp", "--sparse=always", snap, bad], check=True)
    with open(bad, "r+b") as f:
        f.seek(4096 + 40)
        b = f.read(1)
        f.seek(4096 + 40)
        f.write(bytes([b[0] ^ 0xff]))
    refused(base + ["--restore", bad], 76, "checksum", "a damaged snapshot is refused")
    junk = os.path.join(WORK, "junk.snap")
    with open(junk, "wb") as f:
        f.write(b"\x7fELF" + os.urandom(8000))
    refused(base + ["--restore", junk], 76, "not a vcons-hv snapshot", "a file that is no snapshot is refused")
    refused(["--root", ROOT, "--net", ADDR, "--mem", "512M", "--restore", snap], 78, "memory",
            "a snapshot of a VM of another size is refused")
    refused(base + ["--restore", snap, "--", GUEST], 2, "--restore takes no PROGRAM",
            "--restore with a PROGRAM is a usage error")
    # the guest wrote to state.txt after this snapshot (its "check"), and so does this
    with open(os.path.join(ROOT, "state.txt"), "a") as f:
        f.write("changed")
    refused(base + ["--restore", snap], 76, "state.txt",
            "a snapshot whose open file changed since is refused")


def main():
    os.makedirs(ROOT, exist_ok=True)
    snap = case_snapshot_stop_restore()
    snap_b = case_snapshot_and_go_on()
    if snap_b and os.path.exists(snap_b):
        case_refusals(snap_b)
    else:
        report(False, "refusals", "no snapshot to damage")
    sys.exit(1 if failed else 0)


main()
