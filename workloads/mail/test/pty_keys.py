#!/usr/bin/env python3
"""Runs a full-screen (curses) program in a pseudo-terminal, types KEYS once its screen output
contains WAIT_FOR, and waits for it to end; the mail tests drive neomutt's compose screen with it
(neomutt will not save a copy to an IMAP folder in batch mode). Bounded: after SECONDS the program
is killed (by its PID) and the exit status is 124. The screen output goes to SCREEN_LOG.

usage: pty_keys.py SECONDS WAIT_FOR KEYS SCREEN_LOG -- PROGRAM ARGS...
exit: the program's status; 124 when it timed out; 3 when WAIT_FOR never showed (keys not typed)."""
import os
import pty
import select
import signal
import sys
import time


def main(argv):
    if len(argv) < 7 or argv[5] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    seconds, wait_for, keys, log = float(argv[1]), argv[2].encode(), argv[3].encode(), argv[4]
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "vt100"
        os.execvp(argv[6], argv[6:])
    screen, typed, status = b"", False, None
    deadline = time.monotonic() + seconds
    while status is None and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                screen += os.read(fd, 65536)
            except OSError:  # EIO: the program closed the terminal
                pass
        if not typed and wait_for in screen:
            os.write(fd, keys)
            typed = True
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        status = 124
    with open(log, "wb") as f:
        f.write(screen)
    if not typed and status == 0:
        return 3
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
