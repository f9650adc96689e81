#!/usr/bin/python3
"""A lenient HTTP/1.1 upstream for test_smuggling.sh: the kind of server a proxy must not
let a smuggled request reach.

It reads what a recipient is permitted to read (RFC 9112 2.2): a bare LF ends a line, and a
CR before it is ignored; empty lines before a request line are skipped. Chunk sizes are read
as Python's int(x, 16) reads the text before the first ';' (surrounding whitespace, "0x",
"_" and signs accepted, as some real servers do); extensions and trailers are taken as they
come, unchecked. Anything it cannot read at all ends the connection with a 400.

Every request it reads is one JSON line in LOG, written before it answers:
  {"conn": N, "seq": K, "event": "request", "method", "target", "headers": [[name, value]],
   "framing": "chunked"|"length"|"none", "raw_body": the body as it came (latin-1),
   "payload": the chunk data joined, "exts": [chunk-ext text], "trailers": [lines]}
and the other things that happen on a connection:
  {"conn", "seq", "event": "refused", "why", "bytes": what was there (up to 200 bytes)}
  {"conn", "seq", "event": "eof", "in": "head"|"body"}   the peer closed mid-request
  {"conn", "seq", "event": "close"}                      closed between requests
Each request is answered 200 with "seen TARGET\\n"; the connection is kept alive.

Usage: lenient_upstream.py ADDR PORT LOG
"""
import json
import socket
import sys
import threading

LOCK = threading.Lock()
MAX_HEAD = 1 << 16


class Refused(Exception):
    pass


class Reader:
    """Buffered socket reader; remembers the bytes taken while recording."""

    def __init__(self, s):
        self.s = s
        self.buf = b""
        self.taken = None

    def fill(self):
        b = self.s.recv(1 << 16)
        if not b:
            raise EOFError
        self.buf += b

    def take(self, n):
        out, self.buf = self.buf[:n], self.buf[n:]
        if self.taken is not None:
            self.taken.append(out)
        return out

    def line(self, limit=MAX_HEAD):
        """One line: up to a LF, which a CR before it goes with (RFC 9112 2.2)."""
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                ln = self.take(i + 1)[:-1]
                return ln[:-1] if ln.endswith(b"\r") else ln
            if len(self.buf) > limit:
                raise Refused("line over %d bytes" % limit)
            self.fill()

    def exact(self, n):
        parts = []
        while n > 0:
            if not self.buf:
                self.fill()
            part = self.take(n)
            parts.append(part)
            n -= len(part)
        return b"".join(parts)


def read_head(r):
    ln = r.line()
    for _ in range(8):
        if ln != b"":
            break
        ln = r.line()  # empty lines before a request line are ignored (RFC 9112 2.2)
    parts = ln.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise Refused("not a request line: %r" % ln[:80])
    headers = []
    while True:
        ln = r.line()
        if ln == b"":
            break
        name, colon, value = ln.decode("latin-1").partition(":")
        if not colon:
            raise Refused("not a header line: %r" % ln[:80])
        headers.append([name.strip(), value.strip()])
    return parts[0], parts[1], headers


def hget(headers, name):
    vals = [v for n, v in headers if n.lower() == name]
    return vals[-1] if vals else None


def read_chunked(r, req):
    payload, exts, trailers = [], [], []
    while True:
        ln = r.line()
        size_text, _, ext = ln.partition(b";")
        try:
            size = int(size_text.decode("latin-1"), 16)
        except ValueError:
            raise Refused("chunk size %r" % size_text[:40])
        if size < 0:
            raise Refused("negative chunk size %d" % size)
        exts.append(ext.decode("latin-1"))
        if size == 0:
            while True:
                ln = r.line()
                if ln == b"":
                    break
                trailers.append(ln.decode("latin-1"))
            break
        payload.append(r.exact(size))
        if r.line() != b"":
            raise Refused("chunk data not followed by a line end")
    req.update(payload=b"".join(payload).decode("latin-1"), exts=exts, trailers=trailers)


def log(f, ev):
    with LOCK:
        f.write(json.dumps(ev) + "\n")
        f.flush()


def serve_one(s, conn, f):
    r = Reader(s)
    seq = 0
    where = "head"
    try:
        while True:
            where = "head"
            if not r.buf:
                try:
                    r.fill()
                except EOFError:
                    log(f, {"conn": conn, "seq": seq, "event": "close"})
                    return
            method, target, headers = read_head(r)
            req = {"conn": conn, "seq": seq, "event": "request", "method": method,
                   "target": target, "headers": headers, "framing": "none", "raw_body": "",
                   "payload": "", "exts": [], "trailers": []}
            where = "body"
            r.taken = []
            te = (hget(headers, "transfer-encoding") or "").lower()
            cl = hget(headers, "content-length")
            if "chunked" in te:
                req["framing"] = "chunked"
                read_chunked(r, req)
            elif cl is not None:
                req["framing"] = "length"
                req["payload"] = r.exact(int(cl)).decode("latin-1")
            req["raw_body"] = b"".join(r.taken).decode("latin-1")
            r.taken = None
            log(f, req)
            body = ("seen %s\n" % target).encode("latin-1")
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            seq += 1
    except Refused as e:
        log(f, {"conn": conn, "seq": seq, "event": "refused", "why": str(e),
                "bytes": r.buf[:200].decode("latin-1")})
        try:
            s.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        except OSError:
            pass
    except (EOFError, ConnectionResetError):
        log(f, {"conn": conn, "seq": seq, "event": "eof", "in": where})
    except OSError as e:
        log(f, {"conn": conn, "seq": seq, "event": "eof", "in": where, "error": str(e)})
    finally:
        s.close()


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    f = open(argv[3], "a")
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((argv[1], int(argv[2])))
    ls.listen(256)
    conn = 0
    while True:
        s, _ = ls.accept()
        threading.Thread(target=serve_one, args=(s, conn, f), daemon=True).start()
        conn += 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
