#!/usr/bin/env python3
"""E2E half of crash.sh: kill -9 of vcons-mail while APPEND, COPY, MOVE and EXPUNGE are under way,
then a restart, then the Maildir files (read directly) and the server's IMAP view are checked
against what the clients were told. Issue 21: no acknowledged message lost, none duplicated, none
in two folders after a MOVE the crash cut short.

Each round starts the server (this script's own child, killed by its PID) and runs four IMAP
clients (two per user, each on messages of its own). They fill INBOX, then do APPEND to INBOX,
UID COPY (INBOX -> Archive or Trash, Archive <-> Trash), UID MOVE (INBOX or Archive -> Trash,
Trash -> Archive; nothing goes back into INBOX, whose journal is vcons-mail-load's) and
UID STORE \\Deleted + UID EXPUNGE, 20 times as many of the round's kind as of each other, so that
several are in flight at once. The server is killed while one of that kind is under way: COPY and
MOVE when their files show the phase the round wants (rounds take turns: the journal written and
nothing linked, the first message linked and no source unlinked, the first source unlinked and
the journal not yet removed), APPEND 0..3 or 3..15 ms after its file appeared in tmp/, EXPUNGE (which shows
nothing on disk) a random 0 to the median time expunges took after one was sent. Every client keeps a
model: where each of its messages is, under which UID (from APPENDUID and COPYUID), and the
operation it had in flight when the connection died (sent, no tagged answer read).
After the restart, for every message the model knows:
  - not touched by an operation in flight: exactly where the model says, under the same UID;
  - APPEND in flight: in INBOX once, or nowhere;
  - COPY in flight: in the destination for all of the COPY's messages or for none (RFC 3501 6.4.7);
  - MOVE in flight: in the source or in the destination, never both, never neither (RFC 6851);
  - EXPUNGE in flight: still there or gone;
and nothing else is there (no unknown message, no message twice in a folder), every body matches
its X-Vcons-Sum, no tmp/ file and no vcons-journal is left, and the IMAP view of each folder (UIDs
and ids) equals its files. The model then takes what the disk holds and the next round starts.

INBOX is also journalled in vcons-mail-load's format: A on an acknowledged APPEND, D before and X
after a MOVE or EXPUNGE out of INBOX; after a restart, A for an APPEND in flight whose message the
files hold (the model took it) and X for a MOVE or EXPUNGE in flight that took its messages out of
INBOX. The journal covers INBOX only (COPY, MOVE and EXPUNGE between Archive and Trash are not in
it), so at the end `vcons-mail-load --verify --folder INBOX` checks it, and its counts must be the
models' exactly: every APPEND journalled acknowledged, INBOX's messages present, the deletes cut
short whose messages stayed in INBOX in flight, nothing else.

usage: crash.py ADDR IMAP_PORT DATA_DIR USERS ROUNDS LOAD_BINARY WORKDIR -- SERVER_COMMAND...
Prints TAP lines; exit 0 when every check passed."""
import base64
import hashlib
import imaplib
import json
import os
import random
import re
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from maildir_view import folders as maildir_folders  # noqa: E402

KINDS = ("APPEND", "COPY", "MOVE", "EXPUNGE")
FOLDERS = ("INBOX", "Archive", "Trash")
ROUND_SECONDS = 30  # a round with no operation of its kind in flight by then fails


def tap(ok, what):
    print(("ok - " if ok else "not ok - ") + what, flush=True)
    return bool(ok)


# ---- messages ----
def make_message(rng, mid):
    """A message naming itself and its body's SHA-256 (what vcons-mail-load --verify reads)."""
    size = int(300 * (300 ** rng.random()))  # 300 B .. 90 KB, log-uniform
    text = base64.b64encode(rng.randbytes(size * 3 // 4 + 3))[:size]
    body = b"".join(text[i:i + 76] + b"\r\n" for i in range(0, len(text), 76))
    s = hashlib.sha256(body).hexdigest()
    head = f"From: crash@vcons.test\r\nSubject: crash {mid}\r\nX-Vcons-Id: {mid}\r\nX-Vcons-Sum: {s}\r\n\r\n"
    return head.encode() + body, s


def inspect(data):
    """(id, sum in the header, sum of the body) of a stored message, or None."""
    head, sep, body = data.partition(b"\r\n\r\n")
    mid = re.search(rb"(?m)^X-Vcons-Id: (\S+)\r?$", head)
    s = re.search(rb"(?m)^X-Vcons-Sum: (\S+)\r?$", head)
    if not (sep and mid and s):
        return None
    return mid.group(1).decode(), s.group(1).decode(), hashlib.sha256(body).hexdigest()


def uid_set(uids):
    return ",".join(str(u) for u in uids)


def parse_uid_set(text):
    out = []
    for part in text.split(","):
        a, _, b = part.partition(":")
        lo, hi = int(a), int(b or a)
        out += range(min(lo, hi), max(lo, hi) + 1)
    return out


# ---- one client: its messages, where they are, the operation in flight ----
class Worker:
    def __init__(self, n, user, journal, jlock, seed):
        self.n, self.user, self.journal, self.jlock = n, user, journal, jlock
        self.rng = random.Random(seed)
        self.loc = {}  # id -> {folder: uid}; changed under mlock (the round counts INBOX meanwhile)
        self.mlock = threading.Lock()
        self.sums = {}  # id -> the X-Vcons-Sum of each message made
        self.acked = 0  # A lines journalled
        self.jdel = set()  # ids journalled D and not X: a MOVE or EXPUNGE out of INBOX cut short
        self.inflight = None  # (kind, ids, src, dst) sent, no tagged answer read
        self.counter = 0
        self.errors = []  # answers that were wrong while the server was up
        self.done = {k: 0 for k in KINDS}
        self.took = {k: [] for k in KINDS + ("STORE",)}  # seconds from send to answer, the last 50

    def jlog(self, line):
        with self.jlock:
            self.journal.write(line + "\n")
            self.journal.flush()

    def jlog_acked(self, mid):
        self.jlog(f"A {mid} {self.user} {self.sums[mid]}")
        self.acked += 1

    def jlog_deleting(self, mid):
        self.jlog(f"D {mid} {self.user}")
        self.jdel.add(mid)

    def jlog_deleted(self, mid):
        self.jlog(f"X {mid} {self.user}")
        self.jdel.discard(mid)

    def start_round(self, addr, port, kind, sent_event):
        self.addr, self.port, self.kind, self.sent_event = addr, port, kind, sent_event
        self.selected = None
        self.fill_to = 40  # INBOX messages appended first; none once the round's kind runs

    def run(self):
        try:
            self.m = imaplib.IMAP4(self.addr, self.port)
            self.m.login(f"user{self.user}", f"user{self.user}")
            while True:
                self.one_op()
        except (imaplib.IMAP4.abort, OSError, EOFError):
            pass  # the server was killed: self.inflight is what the crash cut short
        except Exception as e:  # a wrong answer: reported by the round
            self.errors.append(f"worker {self.n}: {type(e).__name__}: {e}")

    def count(self, folder):
        """How many of its messages are in folder; safe while the worker runs."""
        with self.mlock:
            return sum(folder in l for l in self.loc.values())

    def mine(self, folder, exclude=None):
        return sorted((mid for mid, l in self.loc.items() if folder in l and (not exclude or exclude not in l)),
                      key=lambda mid: self.loc[mid][folder])

    def pick(self):
        """The next operation: mostly the round's kind, the folders kept from running empty or
        growing without bound."""
        inbox, archive, trash = (len(self.mine(f)) for f in FOLDERS)
        if inbox < self.fill_to:
            return "APPEND"
        if archive + trash > 150:
            return "EXPUNGE"
        weights = {k: (20 if k == self.kind else 1) for k in KINDS}
        return self.rng.choices(list(weights), list(weights.values()))[0]

    def select(self, folder):
        if self.selected != folder:
            typ, _ = self.m.select(folder)
            if typ != "OK":
                raise AssertionError(f"SELECT {folder}: {typ}")
            self.selected = folder

    def answered(self, t0):
        took = self.took[self.inflight[0]]
        took.append(time.monotonic() - t0)
        del took[:-50]
        self.inflight = None

    def send(self, inflight, *args):
        """A command whose tagged answer must be OK, in flight (kind, ids, src, dst) until that
        answer is read; (tagged text, untagged OK texts)."""
        self.m.untagged_responses.clear()
        self.inflight, t0 = inflight, time.monotonic()
        self.sent_event.set()
        typ, dat = self.m._simple_command(*args)
        self.answered(t0)
        if typ != "OK":
            raise AssertionError(f"{' '.join(args)}: {typ} {dat}")
        return (dat[-1] or b"").decode(), [x.decode() for x in self.m.untagged_responses.get("OK", []) if x]

    def one_op(self):
        self.done[getattr(self, "op_" + self.pick().lower())()] += 1  # the kind it did

    def op_append(self):
        self.counter += 1
        mid = f"c{self.n}-{self.counter}-{self.rng.randrange(1 << 30):x}"
        msg, self.sums[mid] = make_message(self.rng, mid)
        self.inflight, t0 = ("APPEND", [mid], None, "INBOX"), time.monotonic()
        self.sent_event.set()
        typ, dat = self.m.append("INBOX", None, None, msg)
        self.answered(t0)
        m = re.search(rb"\[APPENDUID \d+ (\d+)\]", dat[0] or b"")
        if typ != "OK" or not m:
            raise AssertionError(f"APPEND: {typ} {dat}")
        with self.mlock:
            self.loc[mid] = {"INBOX": int(m.group(1))}
        self.jlog_acked(mid)
        return "APPEND"

    def candidates(self, pairs, most):
        """A (source, destination) of pairs that has messages to work on, and a batch of up to
        `most` of them: (src, dst, ids), ids empty when no pair has any."""
        self.rng.shuffle(pairs)
        for src, dst in pairs:
            ids = self.mine(src, exclude=dst)
            if ids:
                k = min(len(ids), self.rng.randint(1, most))
                start = self.rng.randrange(len(ids) - k + 1)
                return src, dst, ids[start:start + k]
        return None, None, []

    def copied(self, text, ids, src, dst):
        """Checks a COPYUID code against the UIDs sent and records the destination's UIDs."""
        m = re.search(r"\[COPYUID \d+ ([\d:,]+) ([\d:,]+)\]", text)
        src_uids = [self.loc[mid][src] for mid in ids]
        if not m or parse_uid_set(m.group(1)) != src_uids:
            raise AssertionError(f"COPYUID for {src_uids}: {text!r}")
        with self.mlock:
            for mid, u in zip(ids, parse_uid_set(m.group(2))):
                self.loc[mid][dst] = u

    def op_copy(self):
        src, dst, ids = self.candidates([("INBOX", "Archive"), ("INBOX", "Trash"), ("Archive", "Trash"),
                                         ("Trash", "Archive")], 10)
        if not ids:
            return self.op_append()
        self.select(src)
        text, _ = self.send(("COPY", ids, src, dst), "UID", "COPY", uid_set(self.loc[m][src] for m in ids), dst)
        self.copied(text, ids, src, dst)
        return "COPY"

    def op_move(self):  # to Trash, or back from it to Archive (never into INBOX: see the journal)
        src, dst, ids = self.candidates([("INBOX", "Trash"), ("Archive", "Trash"), ("Trash", "Archive")], 12)
        if not ids:
            return self.op_append()
        self.select(src)
        if src == "INBOX":
            for mid in ids:
                self.jlog_deleting(mid)
        _, oks = self.send(("MOVE", ids, src, dst), "UID", "MOVE", uid_set(self.loc[m][src] for m in ids), dst)
        self.copied(" ".join(oks), ids, src, dst)
        for mid in ids:
            with self.mlock:
                del self.loc[mid][src]
            if src == "INBOX":
                self.jlog_deleted(mid)
        return "MOVE"

    def op_expunge(self):
        src, _, ids = self.candidates([("Trash", None), ("Trash", None), ("Archive", None), ("INBOX", None)], 10)
        if not ids:
            return self.op_append()
        self.select(src)
        uids = uid_set(self.loc[m][src] for m in ids)
        if src == "INBOX":
            for mid in ids:
                self.jlog_deleting(mid)
        self.send(("STORE", ids, src, None), "UID", "STORE", uids, "+FLAGS.SILENT", "(\\Deleted)")
        self.send(("EXPUNGE", ids, src, None), "UID", "EXPUNGE", uids)
        for mid in ids:
            with self.mlock:
                del self.loc[mid][src]
                if not self.loc[mid]:
                    del self.loc[mid]
            if src == "INBOX":
                self.jlog_deleted(mid)
        return "EXPUNGE"


# ---- the server: this script's child, killed by its PID ----
class Server:
    def __init__(self, cmd, workdir):
        self.cmd, self.workdir, self.proc = cmd, workdir, None

    def start(self):
        out = os.path.join(self.workdir, "server.out")
        with open(out, "w") as o, open(os.path.join(self.workdir, "server.err"), "a") as e:
            self.proc = subprocess.Popen(self.cmd, stdout=o, stderr=e, stdin=subprocess.DEVNULL)
        for _ in range(200):
            if "ready" in open(out).read().split():
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        self.kill9()  # not ready in 10 s
        return False

    def kill9(self):
        self.proc.kill()  # SIGKILL to the PID this script started
        self.proc.wait()

    def stop(self):
        """SIGTERM; its exit status (SIGKILL and -9 after 10 s)."""
        self.proc.terminate()
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill9()
            return -9


# ---- what the disk and the server hold after the restart ----
def disk_state(data, users):
    """{(user, folder): {id: [uids]}}, corrupt files, leftovers (tmp/ files, journals)."""
    state, corrupt, leftovers = {}, [], []
    for u in users:
        md = os.path.join(data, f"user{u}", "Maildir")
        if os.path.exists(os.path.join(md, "vcons-journal")):
            leftovers.append(f"user{u}/Maildir/vcons-journal")
        for folder, d in maildir_folders(md, "maildir++").items():
            leftovers += [f"user{u}/{folder}/tmp/{f}" for f in os.listdir(os.path.join(d, "tmp"))]
            box = state.setdefault((u, folder), {})
            for sub in ("cur", "new"):
                for f in os.listdir(os.path.join(d, sub)):
                    got = inspect(open(os.path.join(d, sub, f), "rb").read())
                    uid = re.search(r",U=(\d+)", f)
                    if not got or not uid or got[1] != got[2]:
                        corrupt.append(f"user{u}/{folder}/{sub}/{f}")
                        continue
                    box.setdefault(got[0], []).append(int(uid.group(1)))
    return state, corrupt, leftovers


def imap_state(addr, port, users):
    """{(user, folder): {id: [uids]}} as the server lists them."""
    state = {}
    for u in users:
        m = imaplib.IMAP4(addr, port)
        m.login(f"user{u}", f"user{u}")
        for folder in FOLDERS:
            box = state.setdefault((u, folder), {})
            if m.select(folder, readonly=True)[0] != "OK":
                raise AssertionError(f"EXAMINE {folder}")
            typ, dat = m.uid("FETCH", "1:*", "(UID BODY.PEEK[HEADER.FIELDS (X-Vcons-Id)])")
            for item in dat:
                if isinstance(item, tuple):
                    uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
                    mid = re.search(rb"X-Vcons-Id: (\S+)", item[1]).group(1).decode()
                    box.setdefault(mid, []).append(uid)
        m.logout()
    return state


def allowed(w, mid, have):
    """Whether `have` ({folder: [uids]}) is a state message mid of worker w may be in after the
    crash; the reason when not."""
    want = w.loc.get(mid, {})
    op = w.inflight if w.inflight and mid in w.inflight[1] else None
    if any(len(u) > 1 for u in have.values()):
        return "twice in one folder"
    got = {f: u[0] for f, u in have.items()}
    if op is None:
        return None if got == want else f"is {got}, acknowledged state {want}"
    kind, ids, src, dst = op
    if kind == "APPEND":
        return None if got in ({}, {"INBOX": got.get("INBOX")}) else f"an APPEND in flight left {got}"
    keep = {f: u for f, u in want.items() if f not in (src, dst)}
    if {f: u for f, u in got.items() if f not in (src, dst)} != keep:
        return f"folders the {kind} did not name changed: {got}, was {want}"
    in_src, in_dst = src in got, dst in got
    if kind == "STORE":  # \Deleted set or not: the message stays
        return None if in_src and got[src] == want[src] else f"a STORE in flight removed it: {got}"
    if kind == "COPY":
        return None if in_src and got[src] == want[src] else f"a COPY in flight lost its source: {got}"
    if kind == "MOVE":
        if in_src == in_dst:
            return f"a MOVE in flight left it in {'both folders' if in_src else 'neither folder'}: {got}"
        return None if not in_src or got[src] == want[src] else f"UID changed: {got}, was {want}"
    return None if not in_src or got[src] == want[src] else f"UID changed: {got}, was {want}"  # EXPUNGE


def reconcile(workers, disk):
    """Every message of every worker against the disk; the problems. The workers' models then
    take the disk's state, and the INBOX journal what the files say of the operation in flight:
    an APPEND whose message is there acknowledged, a MOVE or EXPUNGE whose messages left INBOX
    done."""
    problems, outcomes = [], {}
    by_user = {}
    for w in workers:
        by_user.setdefault(w.user, []).append(w)
    for (u, folder), box in disk.items():
        for mid in box:
            if not any(mid in w.loc or (w.inflight and mid in w.inflight[1]) for w in by_user.get(u, [])):
                problems.append(f"user{u}/{folder}: message {mid} no client knows")
    for w in workers:
        ids = set(w.loc) | set(w.inflight[1] if w.inflight else [])
        new_loc = {}
        for mid in ids:
            have = {f: box[mid] for (u, f), box in disk.items() if u == w.user and mid in box}
            why = allowed(w, mid, have)
            if why:
                problems.append(f"user{w.user} {mid}: {why}")
            if have:
                new_loc[mid] = {f: u[0] for f, u in have.items()}
        if w.inflight:
            kind, ids_op, src, dst = w.inflight
            if kind == "COPY":
                took = {dst in new_loc.get(mid, {}) for mid in ids_op}
                if len(took) > 1:
                    problems.append(f"user{w.user}: a COPY in flight reached the destination for some of "
                                    f"its messages, not all: {ids_op}")
                outcomes[kind] = outcomes.get(kind, []) + [True in took]
            elif kind in ("APPEND", "MOVE"):
                outcomes[kind] = outcomes.get(kind, []) + [dst in new_loc.get(mid, {}) for mid in ids_op]
            elif kind == "EXPUNGE":
                outcomes[kind] = outcomes.get(kind, []) + [src not in new_loc.get(mid, {}) for mid in ids_op]
            for mid in ids_op:
                if kind == "APPEND" and "INBOX" in new_loc.get(mid, {}):
                    w.jlog_acked(mid)
                elif mid in w.jdel and "INBOX" not in new_loc.get(mid, {}):
                    w.jlog_deleted(mid)  # its MOVE or EXPUNGE (or a STORE, wrongly) took it out
        w.loc, w.inflight = new_loc, None
    return problems, outcomes


# ---- a round ----
PHASES = {  # where a COPY or MOVE can be cut short, as its files show it
    "journal": "its journal written, nothing linked yet",
    "linked": "its first message linked into the destination, no source unlinked yet",
    "unlinking": "its first source unlinked, its journal not yet removed",
}


def journal_phase(data, users):
    """The phase of the COPY or MOVE under way (of any user), from its journal and the files its
    first line names; None when no journal is there."""
    for u in users:
        md = os.path.join(data, f"user{u}", "Maildir")
        try:
            lines = open(os.path.join(md, "vcons-journal")).read().split("\n")
        except FileNotFoundError:
            continue
        if len(lines) < 2 or lines[1].count("\t") != 1:
            return "journal"  # being written
        src, dst = (os.path.join(md, x) for x in lines[1].split("\t"))
        if not os.path.exists(dst):
            return "journal"
        return "linked" if os.path.exists(src) else "unlinking"
    return None


def kill_point(kind, k, workers, data, users, rng):
    """Waits, an operation of the round's kind being in flight, for the moment to kill; the phase
    it is in, "" where the files do not show it, None when the wanted phase did not come within
    50 ms. COPY and MOVE: the files are polled every 0.2 ms for the
    phase this round wants (rounds take turns: journal, linked, and for MOVE unlinking). APPEND:
    after a file appeared in tmp/, a random 0..3 ms (odd rounds) or 3..15 ms (even rounds: more
    often after its rename into cur/).
    EXPUNGE, which shows nothing on disk: a random point of the median time expunges took."""
    t0 = time.monotonic()
    if kind in ("COPY", "MOVE"):
        want = ["journal", "linked", "unlinking"][k % (3 if kind == "MOVE" else 2)]
        while time.monotonic() - t0 < 0.05:
            if journal_phase(data, users) == want:
                return want
            time.sleep(0.0002)
        return None
    if kind == "APPEND":
        while time.monotonic() - t0 < 0.05:
            if any(os.listdir(os.path.join(data, f"user{u}", "Maildir", "tmp")) for u in users):
                time.sleep(rng.uniform(0, 0.003) if k % 2 else rng.uniform(0.003, 0.015))
                return ""
            time.sleep(0.0002)
        return None
    took = sorted(t for w in workers for t in w.took[kind]) or [0.005]
    time.sleep(rng.uniform(0, took[len(took) // 2]))
    return ""


def run_round(server, workers, kind, k, addr, port, data, users, rng):
    if not server.start():
        return tap(False, f"kill -9 during {kind} #{k}: the server starts")
    sent = threading.Event()
    for w in workers:
        w.start_round(addr, port, kind, sent)
    threads = []
    for w in workers:
        t = threading.Thread(target=w.run, daemon=True)
        t.start()
        threads.append(t)
    fill_until = time.monotonic() + 5  # INBOX filled first (bounded)
    while time.monotonic() < fill_until and any(w.count("INBOX") < 30 for w in workers):
        time.sleep(0.05)
    for w in workers:
        w.fill_to = 0  # then mostly the round's kind, several of them in flight at once
    time.sleep(rng.uniform(0.3, 1.0))
    deadline, flight, seen = time.monotonic() + ROUND_SECONDS, [], ""
    while time.monotonic() < deadline and kind not in flight:
        sent.clear()
        sent.wait(0.5)
        if any(w.inflight and w.inflight[0] == kind for w in workers):
            seen = kill_point(kind, k, workers, data, users, rng)
            if seen is not None:  # else not in the wanted phase: wait for the next one
                flight = [w.inflight[0] for w in workers if w.inflight]
    server.kill9()
    for t in threads:
        t.join(30)
    problems = [f"wrong answer before the kill: {e}" for w in workers for e in w.errors]
    problems += ["a client did not stop"] * any(t.is_alive() for t in threads)
    problems += [f"no {kind} was under way within {ROUND_SECONDS} s"] * (kind not in flight)
    for w in workers:
        w.errors = []
    if not server.start():
        return tap(False, f"kill -9 during {kind} #{k}: the server restarts")
    disk, corrupt, leftovers = disk_state(data, users)
    view = imap_state(addr, port, users)
    found, outcomes = reconcile(workers, disk)
    problems += found + [f"corrupt: {c}" for c in corrupt] + [f"left behind: {x}" for x in leftovers]
    problems += [f"user{u}/{f}: IMAP lists {view.get((u, f))}, the files hold {disk.get((u, f), {})}"
                 for (u, f) in view if view[(u, f)] != disk.get((u, f), {})]
    server.stop()
    total = sum(len(b) for (u, f), b in disk.items() if f in FOLDERS)
    cut = ", ".join(f"{op} {sum(v)}/{len(v)} done" for op, v in sorted(outcomes.items()))
    when = f"{PHASES[seen]}; " if seen else ""
    ok = tap(not problems, f"kill -9 during {kind} #{k} ({when}in flight: "
             f"{', '.join(sorted(flight))}; cut short: {cut}): after the restart all {total} messages where "
             "the clients were told or an operation in flight may have put them, once; files = IMAP view")
    for p in problems[:20]:
        print("#   " + p)
    return ok


def main(argv):
    if "--" not in argv or len(argv[:argv.index("--")]) != 8:
        print(__doc__, file=sys.stderr)
        return 2
    addr, port, data, nusers, rounds, load, workdir = argv[1:8]
    port, users, rounds = int(port), range(1, int(nusers) + 1), int(rounds)
    server = Server(argv[argv.index("--") + 1:], workdir)
    seed = int(os.environ.get("VCONS_CRASH_SEED", time.time_ns() % (1 << 31)))
    rng = random.Random(seed)
    print(f"# crash.py: seed {seed} (VCONS_CRASH_SEED; the timing of the kills is not reproducible)")
    jpath = os.path.join(workdir, "journal")
    journal, jlock = open(jpath, "a"), threading.Lock()
    workers = [Worker(i, users[i // 2 % len(users)], journal, jlock, rng.randrange(1 << 30))
               for i in range(2 * len(users))]
    ok = True
    try:
        kinds = os.environ.get("VCONS_CRASH_KINDS", " ".join(KINDS)).split()  # fewer, to study one
        for k in range(1, rounds + 1):
            for kind in kinds:
                ok &= run_round(server, workers, kind, k, addr, port, data, users, rng)
        done = {k: sum(w.done[k] for w in workers) for k in KINDS}
        print(f"# acknowledged operations over all rounds: {done}")
        ok &= tap(all(done.values()), f"every kind of operation was acknowledged many times: {done}")
        journal.close()
        if not server.start():
            tap(False, "the server starts for vcons-mail-load --verify")
            return 1
        r = subprocess.run([load, "--target", addr, "--imap-port", str(port), "--verify", "--folder", "INBOX",
                            "--journal", jpath, "--json"], capture_output=True, text=True, timeout=300)
        rc = server.stop()
        print("# " + r.stdout.strip())
        for line in r.stderr.splitlines()[:20]:  # the problems verify names, one by one
            print("#   " + line)
        v = next((json.loads(x) for x in r.stdout.splitlines() if '"verify"' in x), {})
        want = {"acknowledged": sum(w.acked for w in workers), "present": sum(w.count("INBOX") for w in workers),
                "delete_in_flight": sum(len(w.jdel) for w in workers), "move_in_flight": 0,
                "unacknowledged_present": 0, "folders": len(users)}
        off = {k: (v.get(k), n) for k, n in want.items() if v.get(k) != n}
        ok &= tap(r.returncode == 0 and v.get("acknowledged", 0) > 0 and not off,
                  f"vcons-mail-load --verify --folder INBOX of the INBOX journal: of {v.get('acknowledged')} "
                  f"acknowledged APPENDs none lost, corrupt or back after its MOVE or EXPUNGE, "
                  f"{v.get('present')} still in INBOX, {v.get('delete_in_flight')} of them left there by a MOVE "
                  "or EXPUNGE cut short, as the clients' models say")
        for k, (got, n) in off.items():
            print(f"#   verify's {k} is {got}, the models say {n}")
        print(f"# server stopped with status {rc}")
    finally:
        if server.proc and server.proc.poll() is None:
            server.kill9()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
