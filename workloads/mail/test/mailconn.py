"""A raw SMTP or IMAP client connection for the mail tests (malformed.py, tls.py): lines, SMTP
replies, IMAP tagged responses, and the switch to TLS after a STARTTLS go-ahead."""
import socket
import ssl


class Conn:
    def __init__(self, addr, port, timeout=10):
        self.s = socket.create_connection((addr, port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("connection closed")
            self.buf += d
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l.decode("latin-1")

    def reply(self):
        """An SMTP reply (multi-line joined); returns (code, text)."""
        lines = []
        while True:
            l = self.line()
            lines.append(l)
            if len(l) < 4 or l[3] != "-":
                return int(l[:3]), "\n".join(lines)

    def cmd(self, text):
        self.send(text.encode() + b"\r\n")
        return self.reply()

    def tagged(self, tag):
        """IMAP: lines until the tagged one; returns (tagged line, untagged lines)."""
        untagged = []
        while True:
            l = self.line()
            if l.startswith(tag + " "):
                return l, untagged
            untagged.append(l)

    def starttls(self, ctx, hostname):
        """TLS on this connection, after the go-ahead was read: bytes after it, read already,
        would be answers to commands sent before the handshake, and there must be none."""
        assert self.buf == b"", f"bytes after the go-ahead: {self.buf!r}"
        self.s = ctx.wrap_socket(self.s, server_hostname=hostname)

    def quiet(self, secs=0.5):
        """Nothing arrives for secs (answers to commands the server should have dropped would)."""
        self.s.settimeout(secs)
        try:
            d = self.s.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            d = b""
        finally:
            self.s.settimeout(10)
        assert d == b"", f"unexpected bytes {d!r}"

    def close(self):
        self.s.close()
