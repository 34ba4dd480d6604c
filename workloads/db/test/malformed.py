#!/usr/bin/env python3
"""Malformed-input checks against a running vcons-db (used by db_e2e.sh). Prints one TAP line per
check; exits 1 if any failed. Written independently of the C framing code: 4-byte big-endian
length + JSON."""
import json
import socket
import struct
import sys
import time

addr, port = sys.argv[1], int(sys.argv[2])
failed = 0


def check(name, cond, why=""):
    global failed
    if cond:
        print(f"ok - malformed: {name}")
    else:
        failed = 1
        print(f"not ok - malformed: {name}: {why}")


def conn():
    s = socket.create_connection((addr, port), timeout=5)
    return s


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            return None
        b += c
    return b


def recv_frame(s):
    h = recv_exact(s, 4)
    if h is None:
        return None
    (n,) = struct.unpack(">I", h)
    body = recv_exact(s, n)
    return None if body is None else json.loads(body)


def frame(obj):
    b = json.dumps(obj).encode() if not isinstance(obj, bytes) else obj
    return struct.pack(">I", len(b)) + b


def closed(s):
    try:
        return s.recv(1) == b""
    except OSError:
        return True


def info_works(label):
    s = conn()
    s.sendall(frame({"tx": "info"}))
    r = recv_frame(s)
    s.close()
    check(f"server still serves after {label}", r is not None and r.get("status") == "ok"
          and r.get("warehouses", 0) >= 1, repr(r))


# idle connections that never send anything must not block anyone
idle = [conn() for _ in range(40)]
half = conn()
half.sendall(b"\x00\x00")  # half a header, then silence

s = conn()
s.sendall(b"\xff\xff\xff\xff" + b"x" * 100)
r = recv_frame(s)
check("oversized length gets an error", r is not None and r.get("status") == "error", repr(r))
check("oversized length closes the connection", closed(s))
s.close()
info_works("an oversized length")

s = conn()
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
r = recv_frame(s)
check("garbage bytes get an error", r is not None and r.get("status") == "error", repr(r))
s.close()

s = conn()
s.sendall(b"\x00\x00\x00\x00")
r = recv_frame(s)
check("zero-length frame gets an error", r is not None and r.get("status") == "error", repr(r))
s.close()

s = conn()
s.sendall(frame(b"\x01\x02 not json {"))
r = recv_frame(s)
check("non-JSON payload gets an error", r is not None and r.get("status") == "error", repr(r))
s.sendall(frame({"tx": "new_order", "w_id": 99, "d_id": 1, "c_id": 1, "items": [[1, 1, 1]]}))
r = recv_frame(s)
check("out-of-range request gets an error", r is not None and r.get("status") == "error"
      and "bad request" in r.get("error", ""), repr(r))
s.sendall(frame({"tx": "info"}))
r = recv_frame(s)
check("connection stays usable after a bad request", r is not None and r.get("status") == "ok",
      repr(r))
s.sendall(frame([1, 2, 3]))
r = recv_frame(s)
check("a JSON array is refused", r is not None and r.get("status") == "error", repr(r))
s.close()

s = conn()
s.sendall(struct.pack(">I", 200) + b'{"tx":"inf')  # truncated, then gone
s.close()
s = conn()
s.sendall(struct.pack(">I", 30))  # header only, then gone
s.shutdown(socket.SHUT_WR)
check("truncated frame: closed without an answer", recv_frame(s) is None)
s.close()
time.sleep(0.2)
info_works("truncated frames and disconnects")

# a request split over many small writes is still served
s = conn()
data = frame({"tx": "info"})
for i in range(len(data)):
    s.sendall(data[i:i + 1])
    time.sleep(0.001)
r = recv_frame(s)
check("request in 1-byte pieces is served", r is not None and r.get("status") == "ok", repr(r))
s.close()

for i in idle:
    i.close()
half.close()
info_works("idle and half-sent connections")
sys.exit(failed)
