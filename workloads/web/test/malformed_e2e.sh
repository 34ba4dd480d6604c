#!/usr/bin/env bash
# workloads/web/test/malformed_e2e.sh: hostile input against vcons-web: each bad request gets its
# 400/413/431/501/505 answer or a clean close, pipelined requests are answered in order, malformed
# HTTP/2 frames get a GOAWAY with the error and a close (no hang), and the server keeps serving
# other clients throughout.
source "$VCONS_TOP/tools/testlib.sh"
require_platform "web malformed_e2e on $PLATFORM"
source "$VCONS_TOP/workloads/web/test/weblib.sh"
ADDR=127.0.2.3
DATA=$T_TMP/data
web_load_data "$DATA" --files 50 --addr $ADDR || t_fail "web load data"
web_start $ADDR "$DATA" --files 50 --users 10 --max-header 4096 --max-body 1024 \
	--request-timeout 1 --idle-timeout 2 ||
	{ t_fail "web server ready"; t_done; }

python3 - $ADDR 8080 <<'PY'
import socket, sys, time
addr, port = sys.argv[1], int(sys.argv[2])

def conn():
    s = socket.create_connection((addr, port), timeout=5)
    return s

def read_into(s, out):
    """Appends to out (a bytearray) what the server sends until it closes; a time-out raises
    socket.timeout, with what came before it in out."""
    while True:
        b = s.recv(65536)
        if not b:
            return out
        out += b

def read_all(s):
    return bytes(read_into(s, bytearray()))

def exchange(data, shut=False):
    """Sends data, returns everything the server sends until it closes (or 3 s pass)."""
    s = conn()
    s.sendall(data)
    if shut:
        s.shutdown(socket.SHUT_WR)
    out = bytearray()
    s.settimeout(3)
    try:
        read_into(s, out)
    except socket.timeout:
        out += b"<timeout>"
    s.close()
    return bytes(out)

def status(resp):
    try:
        return int(resp.split(b" ", 2)[1])
    except Exception:
        return None

def ok(name, cond, why=""):
    print(("ok - " if cond else "not ok - ") + name + ("" if cond else ": " + why))

def alive():
    r = exchange(b"GET /static/f00001.bin HTTP/1.1\r\nConnection: close\r\n\r\n")
    return status(r) == 200 and len(r) > 1024

cases = [
    ("garbage bytes", b"\x16\x03\x01\x00\xff garbage \x00\x01\r\n\r\n", 400),
    ("bad request line", b"HELLO\r\n\r\n", 400),
    ("bare LF", b"GET / HTTP/1.1\nHost: x\n\n", 400),
    ("huge header", b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 10000 + b"\r\n\r\n", 431),
    ("many headers", b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 2000 + b"\r\n", 431),
    ("oversized body", b"POST /bank/transfer HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", 413),
    ("chunked body", b"POST /bank/transfer HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
    ("HTTP/2.0 version", b"GET / HTTP/2.0\r\n\r\n", 505),
    ("bad content-length", b"POST /bank/transfer HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
]
for name, data, want in cases:
    r = exchange(data)
    got = status(r)
    ok("%s answered %d and closed" % (name, want), got == want and not r.endswith(b"<timeout>"),
       "got %r" % r[:80])

# Truncated request, then the client half-closes: the server closes without answering.
r = exchange(b"GET /static/f00001.bin HTT", shut=True)
ok("truncated request then EOF: clean close", r == b"", "got %r" % r[:80])
# A client that disconnects mid-request (and one mid-body).
for data in (b"GET /bank/summary?user=1 HTTP/1.1\r\nHost:", b"POST /bank/transfer HTTP/1.1\r\nContent-Length: 100\r\n\r\nuser=1"):
    s = conn(); s.sendall(data); s.close()
# A client that disconnects while a large answer is being sent.
s = conn(); s.sendall(b"GET /static/f00000.bin HTTP/1.1\r\n\r\n"); s.recv(100); s.close()
time.sleep(0.2)
ok("server serves others after abrupt disconnects", alive())

# Pipelining: three requests in one write, answered in order on one connection.
s = conn()
s.sendall(b"GET /bank/summary?user=1 HTTP/1.1\r\n\r\nGET /static/f00049.bin HTTP/1.1\r\n\r\n"
          b"GET /bank/summary?user=2 HTTP/1.1\r\nConnection: close\r\n\r\n")
s.settimeout(5)
buf = read_all(s)
s.close()
i1, i2 = buf.find(b"user=1 balance="), buf.find(b"user=2 balance=")
ok("pipelined requests answered in order", buf.count(b"HTTP/1.1 200 OK") == 3 and 0 < i1 < i2,
   "got %d answers" % buf.count(b"HTTP/1.1 200"))

# A well-framed but wrong request keeps the connection: 404 then 200 on the same socket.
s = conn()
s.sendall(b"GET /nope HTTP/1.1\r\n\r\nGET /bank/summary?user=9 HTTP/1.1\r\nConnection: close\r\n\r\n")
buf = read_all(s)
s.close()
ok("404 keeps the connection for the next request",
   buf.startswith(b"HTTP/1.1 404") and b"HTTP/1.1 200 OK" in buf and b"user=9 balance=" in buf)
r = exchange(b"POST /bank/transfer HTTP/1.1\r\nContent-Length: 13\r\nConnection: close\r\n\r\nuser=1&amount")
ok("transfer with a bad form answered 400", status(r) == 400, repr(r[:60]))

# HTTP/2 (h2c with prior knowledge): malformed frames after the preface end in a GOAWAY naming the
# error, then a close; a connection that stops inside the preface is closed by the request timeout.
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"

def frame(length, typ, flags, sid, payload=b""):
    return length.to_bytes(3, "big") + bytes([typ, flags]) + sid.to_bytes(4, "big") + payload

def goaway_code(data):
    """The error code of the first GOAWAY among the server's frames, or None."""
    at = 0
    while at + 9 <= len(data):
        n, typ = int.from_bytes(data[at:at + 3], "big"), data[at + 3]
        if typ == 7 and at + 9 + 8 <= len(data):
            return int.from_bytes(data[at + 13:at + 17], "big")
        at += 9 + n
    return None

h2_cases = [
    ("DATA on stream 0", frame(4, 0, 0, 0, b"abcd"), 1),           # PROTOCOL_ERROR
    ("frame over the maximum size", frame(20000, 0, 0, 1) + b"x" * 20000, 6),  # FRAME_SIZE_ERROR
    ("SETTINGS of a bad length", frame(5, 4, 0, 0, b"12345"), 6),
    ("WINDOW_UPDATE overflowing the window", frame(4, 8, 0, 0, (0x7fffffff).to_bytes(4, "big")), 3),
    ("garbage header block", frame(8, 1, 5, 1, b"\xff" * 8), 9),     # COMPRESSION_ERROR
]
for name, data, code in h2_cases:
    r = exchange(PREFACE + SETTINGS + data)
    got = goaway_code(r)
    ok("h2 %s: GOAWAY %d and closed" % (name, code), got == code and not r.endswith(b"<timeout>"),
       "GOAWAY %r, %d bytes%s" % (got, len(r), " then a hang" if r.endswith(b"<timeout>") else ""))
r = exchange(PREFACE[:10], shut=True)
ok("h2 preface cut short then EOF: clean close", r == b"", "got %r" % r[:80])
ok("server serves others after malformed HTTP/2", alive())

# Slow, byte-by-byte client while others are served.
s = conn()
req = b"GET /bank/history?user=3 HTTP/1.1\r\nConnection: close\r\n\r\n"
for i in range(len(req)):
    s.send(req[i:i + 1])
    if i == 10:
        ok("server serves others during a slow request", alive())
buf = read_all(s)
ok("byte-by-byte request answered", buf.startswith(b"HTTP/1.1 200") and b"user=3 balance=" in buf)

# Stalled clients are dropped: 40 slowloris connections with a partial request (request timeout
# 1 s) and an idle keep-alive connection (idle timeout 2 s); others are served meanwhile.
lor = [conn() for _ in range(40)]
for s in lor:
    s.sendall(b"GET /bank/summary?user=1 HTTP/1.1\r\nX-Slow: ")
idle = conn()
idle.sendall(b"GET /stats HTTP/1.1\r\n\r\n")
first = idle.recv(65536)
ok("idle connection got its answer", first.startswith(b"HTTP/1.1 200") and first.rstrip().endswith(b"}"))
ok("server serves others while 40 requests stall", alive())
time.sleep(3.2)
def closed(s):
    s.settimeout(2)
    try:
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                return True
            data += b
    except (socket.timeout, ConnectionResetError):
        return False
ok("stalled partial requests closed after the request timeout", all(closed(s) for s in lor))
ok("idle keep-alive connection closed after the idle timeout", closed(idle))
ok("server still serving at the end", alive())
PY

# TLS garbage: a plain HTTP request on the TLS port is dropped, and TLS still works.
# (python's own time-out bounds the wait; the outer one only stops a hung interpreter, with room
# for its start-up on an emulated CPU)
printf 'GET / HTTP/1.1\r\n\r\n' | timeout 30 python3 -c "
import socket,sys
s=socket.create_connection(('$ADDR',8443),timeout=5); s.sendall(sys.stdin.buffer.read())
d=b''
try:
    while True:
        b=s.recv(4096)
        if not b: break
        d+=b
except Exception: pass
sys.exit(0 if not d.startswith(b'HTTP/1.1 200') else 1)"
t_check "plain HTTP on the TLS port is refused" test $? -eq 0
t_check "TLS still serves after garbage" curl -s --max-time 5 --cacert "$DATA/cert.pem" \
	-o /dev/null "https://$ADDR:8443/static/f00001.bin"
t_check "server process still alive" kill -0 "$WEB_PID"
web_stop
t_done
