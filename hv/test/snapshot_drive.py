#!/usr/bin/env python3
"""Drives hv/test/snapshot.sh's cases against vcons-hv and the t_snap guest; prints one TAP-style
line per case ("ok - NAME" or "not ok - NAME: why"). Every wait is bounded.

  snapshot_drive.py HV GUEST WORKDIR ADDR PORT [HV_PREFIX_ARGS...]
"""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

HV, GUEST, WORK, ADDR, PORT = sys.argv[1:6]
PORT = int(PORT)
EXTRA = sys.argv[6:]
ROOT = os.path.join(WORK, "root")
CTL = os.path.join(WORK, "ctl.sock")
CTL2 = os.path.join(WORK, "ctl2.sock")
CTL3 = os.path.join(WORK, "ctl3.sock")
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

    def __init__(self, port):
        end = time.time() + 60
        while True:
            try:
                self.s = socket.create_connection((ADDR, port), timeout=60)
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


def tails(tag):
    """The end of a process's stdout and stderr files, for a failure's message."""
    said = []
    for ext in ("out", "err"):
        path = os.path.join(WORK, f"{tag}.{ext}")
        if os.path.exists(path):
            said.append(f"{ext}: {open(path).read()[-300:]!r}")
    return ", ".join(said)


def start_source(tag, port, dirty_mib=0):
    """The guest under vcons-hv, listening on its own port (cases never share one)."""
    out = open(os.path.join(WORK, tag + ".out"), "w")
    err = open(os.path.join(WORK, tag + ".err"), "w")
    extra = [str(dirty_mib)] if dirty_mib else []
    p = hv(["--control", CTL, "--", GUEST, str(port)] + extra, out, err,
           preexec_fn=on_cpu(CPUS[0]))
    ready = wait_line(out.name, "ready", p)
    if not ready:
        print(f"# {tag}: not ready, exit {finish(p, 1)}, {tails(tag)}")
    return p, ready


def restore_and_wait(snap, tag, ctl):
    """vcons-hv --restore SNAP with its control socket at CTL, once that answers."""
    out = open(os.path.join(WORK, tag + ".out"), "w")
    err = open(os.path.join(WORK, tag + ".err"), "w")
    dst = hv(["--control", ctl, "--restore", snap], out, err, preexec_fn=on_cpu(CPUS[-1]))
    end = time.time() + 120
    while time.time() < end and dst.poll() is None:
        try:
            if control({"cmd": "status"}, 10, ctl).get("ok"):
                break
        except OSError:
            time.sleep(0.1)
    return dst


def snapshot_again(dst, snap, c):
    """The restored VM, whose RAM is still mapped from SNAP, snapshotted with stop over SNAP itself
    (written aside and renamed: the mapped file stays whole) and restored again: the connection
    carries on a second time. Returns the VM now running and whether all that held."""
    # The client's acknowledgement of the last answer must not reach the port while no socket
    # holds it (hv has no network lock: the host would answer with a reset, README): let it go.
    time.sleep(1)
    r = control({"cmd": "snapshot", "path": snap, "stop": True}, path=CTL2)
    rc = finish(dst)
    if not r.get("ok") or rc != 0:
        report(False, "a restored VM snapshotted again over its own snapshot file and restored",
               f"snapshot {r}, exit {rc}, " + tails("a-dst"))
        return dst, False
    dst2 = restore_and_wait(snap, "a-dst2", CTL3)
    echo, check = c.ask("echo again"), c.ask("check")
    ok = echo == "again" and check.startswith("check ok")
    report(ok, "a restored VM snapshotted again over its own snapshot file and restored",
           f"echo {echo!r}, {check!r}, " + tails("a-dst2"))
    return dst2, ok


def case_snapshot_stop_restore():
    """Snapshot with stop under an open connection; restore; the same connection carries on."""
    snap = os.path.join(WORK, "a.snap")
    src, ready = start_source("a-src", PORT)
    if not ready:
        return report(False, "snapshot, stop and restore", "the guest never got ready")
    c = Client(PORT)
    if c.ask("echo before") != "before":
        finish(src, 1)
        return report(False, "snapshot, stop and restore", "no echo before the snapshot")
    r = control({"cmd": "snapshot", "path": snap, "stop": True})
    rc = finish(src)
    if not r.get("ok") or rc != 0:
        return report(False, "snapshot, stop and restore",
                      f"snapshot {r}, source exit {rc}, " + tails("a-src"))
    # The connection's packets meet no socket until the restored VM has made it (the host would
    # answer them with a reset): its control socket answers once it has.
    dst = restore_and_wait(snap, "a-dst", CTL2)
    echo = c.ask("echo after")
    check = c.ask("check")
    dst, _ = snapshot_again(dst, snap, c)
    c.s.sendall(b"quit\n")
    rc = finish(dst)
    done = "".join(open(os.path.join(WORK, f"a-{t}.out")).read() for t in ("dst", "dst2")
                   if os.path.exists(os.path.join(WORK, f"a-{t}.out")))
    ok = echo == "after" and check.startswith("check ok") and rc == 0 and "sleeper=42" in done
    pid0 = ready.split()[1]
    ok = ok and pid0 in check
    report(ok, "snapshot, stop and restore: the open connection, pipe, eventfd, epoll, timerfd, "
           "file offset, threads and MONOTONIC carry on",
           f"echo {echo!r}, {check!r}, exit {rc}, ready {ready!r}, out {done!r}, " +
           tails("a-dst") + ", " + tails("a-dst2"))
    if ok:
        print(f"# snapshot: {r['bytes']} bytes on disk, {r['pages']} pages, paused "
              f"{r['pause_ms']:.1f} ms, written in {r['write_ms']:.1f} ms")
    return snap


def case_snapshot_and_go_on():
    """Snapshot without stop: the guest pauses, resumes and carries on; pause/resume/status."""
    snap = os.path.join(WORK, "b.snap")
    src, ready = start_source("b-src", PORT + 1)
    if not ready:
        return report(False, "snapshot and go on", "the guest never got ready")
    c = Client(PORT + 1)
    s1 = control({"cmd": "status"})
    p = control({"cmd": "pause"})
    s2 = control({"cmd": "status"})
    control({"cmd": "resume"})
    r = control({"cmd": "snapshot", "path": snap})
    # a second client the guest never accepts: the VM cannot be saved as it is; after about a
    # second of tries the waiting connection is reset at the pause and the snapshot is made
    waiting = socket.create_connection((ADDR, PORT + 1), timeout=60)
    busy = control({"cmd": "snapshot", "path": snap + ".busy"})
    try:
        was_reset = waiting.recv(1) == b""
    except ConnectionResetError:
        was_reset = True
    waiting.close()
    echo = c.ask("echo still")
    check = c.ask("check")
    c.s.sendall(b"quit\n")
    rc = finish(src)
    ok = (s1.get("state") == "running" and p.get("ok") and s2.get("state") == "paused"
          and r.get("ok") and echo == "still" and check.startswith("check ok") and rc == 0
          and busy.get("ok") and busy.get("reset_connections") == 1 and was_reset)
    report(ok, "pause, resume, and a snapshot the guest runs on after; a connection that waits "
           "to be accepted at every pause is reset",
           f"{s1} {p} {s2} {r} {busy} reset {was_reset} echo {echo!r} {check!r} exit {rc}")
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
    refused(base + ["--restore", snap, "--", GUEST], 2, "take no PROGRAM",
            "--restore with a PROGRAM is a usage error")
    # the guest wrote to state.txt after this snapshot (its "check"), and so does this
    with open(os.path.join(ROOT, "state.txt"), "a") as f:
        f.write("changed")
    refused(base + ["--restore", snap], 76, "state.txt",
            "a snapshot whose open file changed since is refused")


MPORT = PORT + 10


def wait_control(path, proc, limit=120):
    end = time.time() + limit
    while time.time() < end and proc.poll() is None:
        try:
            if control({"cmd": "status"}, 10, path).get("ok"):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def migrate(to, downtime=50, limit=120):
    """Sends migrate; retries while the target is not listening yet."""
    end = time.time() + limit
    while True:
        r = control({"cmd": "migrate", "to": to, "downtime_ms": downtime}, limit)
        if r.get("ok") or "Connection refused" not in r.get("error", "") or time.time() > end:
            return r
        time.sleep(0.2)


def case_migrate():
    """Live migration under an open connection while the guest rewrites 32 MiB."""
    name = "live migration under an open connection, 32 MiB being rewritten"
    src, ready = start_source("m-src", PORT + 2, 32)
    if not ready:
        return report(False, name, "the guest never got ready")
    c = Client(PORT + 2)
    before = c.ask("echo before")
    out = open(os.path.join(WORK, "m-dst.out"), "w")
    err = open(os.path.join(WORK, "m-dst.err"), "w")
    dst = hv(["--control", CTL2, "--incoming", f"127.0.0.1:{MPORT}"], out, err,
             preexec_fn=on_cpu(CPUS[-1]))
    r = migrate(f"127.0.0.1:{MPORT}")
    rc_src = finish(src)
    up = wait_control(CTL2, dst) if r.get("ok") else False
    echo = c.ask("echo after") if up else None
    check = c.ask("check") if up else None
    c.s.sendall(b"quit\n")
    rc = finish(dst)
    ok = (before == "before" and r.get("ok") and rc_src == 0 and echo == "after"
          and (check or "").startswith("check ok") and rc == 0)
    report(ok, name, f"{r} source exit {rc_src}, echo {echo!r}, {check!r}, target exit {rc}, "
           f"target stderr {open(err.name).read()[-400:]!r}")
    if ok:
        print(f"# migration: {r['total_ms']:.0f} ms in all, {r['downtime_ms']:.1f} ms down, "
              f"{r['rounds']} rounds, {r['pages']} pages, {r['bytes']} bytes")


def established(port):
    """1 when a TCP connection to 127.0.0.1:port is established (from /proc/net/tcp)."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            if local.endswith(":%04X" % port) and state == "01":
                return True
    return False


def case_migrate_target_killed():
    """kill -9 of a real target during the copy: the source goes on."""
    name = "kill -9 of the target mid-copy: the source goes on"
    src, ready = start_source("k-src", PORT + 3, 64)
    if not ready:
        return report(False, name, "the guest never got ready")
    c = Client(PORT + 3)
    out = open(os.path.join(WORK, "k-dst.out"), "w")
    dst = hv(["--incoming", f"127.0.0.1:{MPORT}"], out, subprocess.DEVNULL)
    result = {}
    t = threading.Thread(target=lambda: result.update(migrate(f"127.0.0.1:{MPORT}", 1)))
    t.start()
    end = time.time() + 120
    while time.time() < end and not established(MPORT) and t.is_alive():
        time.sleep(0.005)
    dst.send_signal(signal.SIGSTOP)  # mid-copy: it takes nothing more
    time.sleep(0.2)
    dst.kill()
    finish(dst)
    t.join(180)
    echo = c.ask("echo still here")
    check = c.ask("check")
    c.s.sendall(b"quit\n")
    rc = finish(src)
    ok = (result and not result.get("ok") and echo == "still here"
          and check.startswith("check ok") and rc == 0)
    report(ok, name, f"{result}, echo {echo!r}, {check!r}, source exit {rc}")


def fake_target(stage, box):
    """A target that dies on purpose: answers HELLO, then closes the connection with a reset
    after 4 MiB of pages ("pages") or once the state arrived, without an answer ("state")."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", MPORT))
    ls.listen(1)
    ls.settimeout(120)
    box["listening"] = True
    try:
        conn, _ = ls.accept()
    except OSError:
        return
    conn.settimeout(120)

    def exact(n):
        b = b""
        while len(b) < n:
            chunk = conn.recv(min(1 << 20, n - len(b)))
            if not chunk:
                raise OSError("closed")
            b += chunk
        return b
    got = 0
    try:
        while True:
            typ, n = struct.unpack("<IQ", exact(12))
            exact(n)
            if typ == 1:
                conn.sendall(struct.pack("<IQ", 0, 0))
            got += n
            box["types"] = box.get("types", []) + [typ]
            if (stage == "pages" and got > (4 << 20)) or (stage == "state" and typ == 3):
                break
    except OSError:
        pass
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    ls.close()


def case_fake_target(stage, name, port):
    src, ready = start_source("f-src-" + stage, port, 16)
    if not ready:
        return report(False, name, "the guest never got ready")
    c = Client(port)
    box = {}
    t = threading.Thread(target=fake_target, args=(stage, box))
    t.start()
    while not box.get("listening"):
        time.sleep(0.01)
    r = migrate(f"127.0.0.1:{MPORT}", 50)
    t.join(180)
    echo = c.ask("echo on")
    check = c.ask("check")
    c.s.sendall(b"quit\n")
    rc = finish(src)
    ok = not r.get("ok") and echo == "on" and check.startswith("check ok") and rc == 0
    ok = ok and (stage != "state" or 3 in box.get("types", []))
    report(ok, name, f"{r}, echo {echo!r}, {check!r}, source exit {rc}, "
           f"messages {sorted(set(box.get('types', [])))}")


def case_refused_target():
    name = "a target with another --mem refuses the VM; the source goes on"
    src, ready = start_source("r-src", PORT + 6)
    if not ready:
        return report(False, name, "the guest never got ready")
    c = Client(PORT + 6)
    dst = subprocess.Popen([HV] + EXTRA + ["--root", ROOT, "--net", ADDR, "--mem", "512M",
                                           "--incoming", f"127.0.0.1:{MPORT}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    r = migrate(f"127.0.0.1:{MPORT}")
    try:
        _, err = dst.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        dst.kill()
        _, err = dst.communicate()
    echo = c.ask("echo on")
    c.s.sendall(b"quit\n")
    rc = finish(src)
    ok = (not r.get("ok") and "memory" in r.get("error", "") and dst.returncode == 78
          and len(err.strip().splitlines()) == 1 and echo == "on" and rc == 0)
    report(ok, name, f"{r}, target exit {dst.returncode} {err!r}, echo {echo!r}, source {rc}")


def main():
    os.makedirs(ROOT, exist_ok=True)
    snap = case_snapshot_stop_restore()
    snap_b = case_snapshot_and_go_on()
    if snap_b and os.path.exists(snap_b):
        case_refusals(snap_b)
    else:
        report(False, "refusals", "no snapshot to damage")
    os.unlink(os.path.join(ROOT, "state.txt"))
    case_migrate()
    case_migrate_target_killed()
    case_fake_target("pages", "a target that dies after 4 MiB of pages: the source goes on",
                     PORT + 4)
    case_fake_target("state", "a target that dies once the state arrived, without an answer: "
                     "the source makes its sockets again and goes on", PORT + 5)
    case_refused_target()
    sys.exit(1 if failed else 0)


main()
