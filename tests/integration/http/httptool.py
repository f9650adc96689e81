#!/usr/bin/python3
"""Linux-side HTTP peers for hydrofoil's L7 integration test (stdlib, plus websockets).

Servers (upstreams behind hydrofoil, where nginx cannot do the job):
  httptool.py serve ADDR PORT     HTTP/1.1 upstream with keep-alive:
        /py/echo...      answers the request body (Content-Length or chunked) back;
                         X-Body-Sha256, X-Saw-Expect and X-Req-Framing tell what it got
        /py/headers...   answers the request head it received as JSON
        /py/chunked?size=N  N deterministic bytes (see gen) in chunks of varied sizes
        /slow...         answers after 3 s
        /py/close...     closes without answering
        /py/garbage...   answers bytes that are not HTTP, then closes
        /py/reset...     announces 1000000 bytes, sends 200000, then resets (RST)
  httptool.py ws ADDR PORT        WebSocket echo server

Clients (each prints one JSON line):
  httptool.py gen N                      N deterministic bytes on stdout
  httptool.py raw CASE HOST PORT [SECS]  sends one hand-made request (see CASES), reads until
                                         the peer closes or SECS pass: statuses, closed, secs
  httptool.py pipeline HOST PORT         5 GETs in one send; the 5 responses in order?
  httptool.py expect HOST PORT BYTES     Expect: 100-continue, body only after the 100
  httptool.py wsclient URL               several WebSocket messages, each echoed exactly?
  httptool.py midreset HOST PORT         GET /py/reset: how the response ends (reset/eof)
  httptool.py log FILE SUBSTR            the last access-log line whose path contains SUBSTR,
                                         split into named fields
"""
import asyncio
import hashlib
import json
import os
import re
import socket
import struct
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

CHUNK = 1 << 16


def data_stream(total):
    """Deterministic pseudo-random bytes, in chunks."""
    seed = hashlib.sha256(b"hydrofoil-http").digest()
    sent = 0
    while sent < total:
        block = hashlib.sha256(seed + sent.to_bytes(8, "big")).digest() * (CHUNK // 32)
        block = block[: min(CHUNK, total - sent)]
        sent += len(block)
        yield block


def gen(n):
    out = sys.stdout.buffer
    for b in data_stream(int(n)):
        out.write(b)
    out.flush()
    return 0


# ---------------------------------------------------------------- the upstream

class Conn:
    """A buffered reader over a socket."""

    def __init__(self, s):
        self.s = s
        self.buf = b""

    def fill(self):
        b = self.s.recv(CHUNK)
        if not b:
            raise EOFError
        self.buf += b

    def head(self):
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                h, self.buf = self.buf[: i + 4], self.buf[i + 4:]
                return h
            if len(self.buf) > 1 << 20:
                raise ValueError("head too long")
            self.fill()

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                ln, self.buf = self.buf[:i], self.buf[i + 2:]
                return ln
            self.fill()

    def exact(self, n):
        parts = []
        while n > 0:
            if not self.buf:
                self.fill()
            take = self.buf[:n]
            self.buf = self.buf[len(take):]
            parts.append(take)
            n -= len(take)
        return b"".join(parts)

    def chunked(self):
        parts = []
        while True:
            size_line = self.line()
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while self.line() != b"":
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.exact(size))
            if self.exact(2) != b"\r\n":
                raise ValueError("chunk not followed by CRLF")


def parse_head(h):
    lines = h.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ", 2)
    headers = []
    for ln in lines[1:]:
        if not ln:
            continue
        name, _, value = ln.partition(":")
        headers.append([name, value.strip()])
    return method, target, version, headers


def hget(headers, name):
    vals = [v for n, v in headers if n.lower() == name]
    return vals[-1] if vals else None


def chunk_sizes():
    """Varied chunk sizes: 1 byte up to 64 KiB, cycling."""
    sizes = [1, 7, 100, 1000, 4096, 1, 16384, 65536, 3, 1460, 2920, 33333]
    i = 0
    while True:
        yield sizes[i % len(sizes)]
        i += 1


def respond(s, status, body, extra=(), close=False):
    hs = ["HTTP/1.1 %s" % status, "Content-Length: %d" % len(body)]
    hs += ["%s: %s" % kv for kv in extra]
    if close:
        hs.append("Connection: close")
    s.sendall(("\r\n".join(hs) + "\r\n\r\n").encode() + body)


def serve_one(s):
    c = Conn(s)
    try:
        while True:
            method, target, version, headers = parse_head(c.head())
            te = hget(headers, "transfer-encoding")
            cl = hget(headers, "content-length")
            if te is not None and te.lower().endswith("chunked"):
                body, framing = c.chunked(), "chunked"
            elif cl is not None:
                body, framing = c.exact(int(cl)), "length"
            else:
                body, framing = b"", "none"
            close = (hget(headers, "connection") or "").lower() == "close"
            path = urlsplit(target).path
            if path.startswith("/py/echo"):
                respond(s, "200 OK", body, [
                    ("Content-Type", "application/octet-stream"),
                    ("X-Body-Sha256", hashlib.sha256(body).hexdigest()),
                    ("X-Saw-Expect", "yes" if hget(headers, "expect") is not None else "no"),
                    ("X-Req-Framing", framing)], close)
            elif path.startswith("/py/headers"):
                j = json.dumps({"method": method, "target": target, "version": version,
                                "headers": headers, "body_len": len(body)}).encode()
                respond(s, "200 OK", j, [("Content-Type", "application/json")], close)
            elif path.startswith("/py/chunked"):
                n = int(parse_qs(urlsplit(target).query).get("size", ["0"])[0])
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n")
                data = b"".join(data_stream(n))
                sizes = chunk_sizes()
                off = 0
                out = []
                while off < n:
                    k = min(next(sizes), n - off)
                    out.append(b"%x\r\n" % k + data[off:off + k] + b"\r\n")
                    off += k
                    if len(out) >= 64:
                        s.sendall(b"".join(out))
                        out = []
                out.append(b"0\r\n\r\n")
                s.sendall(b"".join(out))
            elif path.startswith("/slow"):
                time.sleep(3)
                respond(s, "200 OK", b"slow\n", close=close)
            elif path.startswith("/py/close"):
                return
            elif path.startswith("/py/garbage"):
                s.sendall(b"\x16\x03\x01 this is not HTTP at all\r\n\r\n")
                time.sleep(0.2)
                return
            elif path.startswith("/py/reset"):
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
                s.sendall(b"r" * 200000)
                time.sleep(0.3)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            else:
                respond(s, "404 Not Found", b"no such path\n", close=close)
            if close:
                return
    except (EOFError, OSError, ValueError):
        pass
    finally:
        s.close()


def serve(addr, port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, int(port)))
    ls.listen(1024)
    while True:
        s, _ = ls.accept()
        threading.Thread(target=serve_one, args=(s,), daemon=True).start()


def ws_server(addr, port):
    import websockets

    async def echo(ws, path=None):
        try:
            async for m in ws:
                await ws.send(m)
        except websockets.ConnectionClosed:
            pass

    async def main():
        async with websockets.serve(echo, addr, int(port), max_size=None, compression=None):
            await asyncio.Future()

    asyncio.run(main())


# ---------------------------------------------------------------- clients

def _no_more():
    raise EOFError


def parse_responses(data):
    """Splits bytes into responses: [{status, headers, body}], plus the leftover bytes."""
    out = []
    while True:
        i = data.find(b"\r\n\r\n")
        if i < 0:
            return out, data
        lines = data[:i].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        try:
            status = int(parts[1])
        except (IndexError, ValueError):
            out.append({"status": None, "line": lines[0][:80], "headers": {}, "body": b""})
            return out, data[i + 4:]
        headers = {}
        for ln in lines[1:]:
            n, _, v = ln.partition(":")
            headers[n.strip().lower()] = v.strip()
        rest = data[i + 4:]
        if status < 200 or status in (204, 304):
            body = b""
        elif "content-length" in headers:
            n = int(headers["content-length"])
            if len(rest) < n:
                return out, data
            body, rest = rest[:n], rest[n:]
        elif headers.get("transfer-encoding", "").lower().endswith("chunked"):
            c = Conn(None)
            c.buf = rest
            c.fill = _no_more
            try:
                body = c.chunked()
            except EOFError:
                return out, data
            rest = c.buf
        else:
            body, rest = rest, b""  # until close
        out.append({"status": status, "line": lines[0][:80], "headers": headers, "body": body})
        data = rest


def read_all(s, secs):
    """Reads until EOF, reset or SECS: (bytes, how it ended, seconds)."""
    t0 = time.time()
    data = b""
    end = "timeout"
    while True:
        left = secs - (time.time() - t0)
        if left <= 0:
            break
        s.settimeout(left)
        try:
            b = s.recv(CHUNK)
        except socket.timeout:
            break
        except ConnectionResetError:
            end = "reset"
            break
        if not b:
            end = "eof"
            break
        data += b
    return data, end, round(time.time() - t0, 3)


def send_tolerant(s, payload):
    """Sends what the peer takes; a peer that answers and closes early is not an error here."""
    try:
        s.sendall(payload)
        return None
    except OSError as e:
        return str(e)


H = "Host: 198.51.100.2\r\n"
CASES = {
    # request smuggling and malformed framing: each must get 400 and a closed connection
    "cl_te": "POST /py/echo HTTP/1.1\r\n" + H + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
             "0\r\n\r\nX",
    "two_cl": "POST /py/echo HTTP/1.1\r\n" + H + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "te_identity": "POST /py/echo HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, identity\r\n\r\n"
                   "5\r\nhello\r\n0\r\n\r\n",
    "obs_fold": "GET /1k.bin HTTP/1.1\r\n" + H + "X-Folded: first\r\n  second\r\n\r\n",
    "space_colon": "POST /py/echo HTTP/1.1\r\n" + H + "Transfer-Encoding : chunked\r\n\r\n"
                   "5\r\nhello\r\n0\r\n\r\n",
    "bare_lf": "GET /1k.bin HTTP/1.1\nHost: 198.51.100.2\nX-A: b\n\n",
    "bare_lf_mixed": "GET /1k.bin HTTP/1.1\r\n" + H + "X-A: b\nX-B: c\r\n\r\n",
    "bad_chunk": "POST /py/echo?tag=badchunk HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n"
                 "zz\r\nhello\r\n0\r\n\r\n",
    "http2_line": "GET /1k.bin HTTP/2.0\r\n" + H + "\r\n",
    # one complete request, then silence (the keep-alive idle timeout)
    "one_get": "GET /1k.bin HTTP/1.1\r\n" + H + "\r\n",
    # limits
    "big_headers": "GET /1k.bin HTTP/1.1\r\n" + H
                   + "".join("X-Pad-%02d: %s\r\n" % (i, "a" * 1000) for i in range(70)) + "\r\n",
    "fine_headers": "GET /1k.bin HTTP/1.1\r\n" + H
                    + "".join("X-Pad-%02d: %s\r\n" % (i, "a" * 1000) for i in range(30)) + "\r\n",
    "long_line": "GET /" + "a" * 9000 + " HTTP/1.1\r\n" + H + "\r\n",
    "fine_line": "GET /1k.bin?" + "a" * 4000 + " HTTP/1.1\r\n" + H + "\r\n",
    # a head that never completes (the request-headers timeout)
    "partial_head": "GET /1k.bin HTTP/1.1\r\n" + H + "X-Slow: 1\r\n",
}


def raw(case, host, port, secs="3"):
    payload = CASES[case].encode("latin-1")
    s = socket.create_connection((host, int(port)), timeout=5)
    err = send_tolerant(s, payload)
    data, end, dt = read_all(s, float(secs))
    s.close()
    resps, rest = parse_responses(data)
    print(json.dumps({"case": case, "statuses": [r["status"] for r in resps],
                      "lines": [r["line"] for r in resps], "end": end,
                      "closed": end in ("eof", "reset"), "secs": dt, "bytes": len(data),
                      "leftover": len(rest), "send_error": err}))
    return 0


def pipeline(host, port):
    reqs = b"".join(b"GET /p%d.txt HTTP/1.1\r\nHost: 198.51.100.2\r\nUser-Agent: pipeline\r\n\r\n" % i
                    for i in range(1, 6))
    s = socket.create_connection((host, int(port)), timeout=5)
    s.sendall(reqs)  # one send; 5 small requests fit one segment
    t0 = time.time()
    data = b""
    resps = []
    end = "timeout"
    while time.time() - t0 < 5:
        s.settimeout(max(0.05, 5 - (time.time() - t0)))
        try:
            b = s.recv(CHUNK)
        except socket.timeout:
            break
        except ConnectionResetError:
            end = "reset"
            break
        if not b:
            end = "eof"
            break
        data += b
        resps, _ = parse_responses(data)
        if len(resps) >= 5:
            end = "complete"
            break
    s.close()
    bodies = [r["body"].decode("latin-1") for r in resps]
    want = ["pipeline %d\n" % i for i in range(1, 6)]
    print(json.dumps({"n": len(resps), "statuses": [r["status"] for r in resps], "bodies": bodies,
                      "in_order": bodies == want, "end": end, "segment_bytes": len(reqs)}))
    return 0


def expect(host, port, nbytes):
    n = int(nbytes)
    body = os.urandom(n)
    s = socket.create_connection((host, int(port)), timeout=5)
    head = ("POST /py/echo?tag=expect HTTP/1.1\r\n" + H + "Content-Length: %d\r\n"
            "Content-Type: application/octet-stream\r\nExpect: 100-continue\r\n\r\n" % n)
    t0 = time.time()
    s.sendall(head.encode())
    data = b""
    interim = None
    s.settimeout(3)
    try:
        while b"\r\n\r\n" not in data:
            b = s.recv(CHUNK)
            if not b:
                break
            data += b
    except OSError:
        pass
    t100 = round(time.time() - t0, 3)
    if b"\r\n\r\n" in data:
        i = data.find(b"\r\n\r\n")
        interim = data[:i].decode("latin-1").split("\r\n")[0]
        if interim.split(" ")[1:2] == ["100"]:
            data = data[i + 4:]
    s.sendall(body)
    s.settimeout(10)
    t1 = time.time()
    final = None
    try:
        while time.time() - t1 < 10:
            resps, _ = parse_responses(data)
            if resps:
                final = resps[0]
                break
            b = s.recv(CHUNK)
            if not b:
                break
            data += b
    except OSError:
        pass
    s.close()
    print(json.dumps({"interim": interim, "t100": t100,
                      "final": final and final["status"],
                      "same": bool(final) and final["body"] == body,
                      "saw_expect": final and final["headers"].get("x-saw-expect"),
                      "body_len": final and len(final["body"])}))
    return 0


def wsclient(url):
    import websockets

    msgs = ["hello", "x" * 1000, os.urandom(65536), "é ü ✓ unicode", os.urandom(1000000)]
    msgs += ["message %d" % i for i in range(50)]

    async def main():
        async with websockets.connect(url, max_size=None, compression=None, open_timeout=5) as ws:
            ok = 0
            for m in msgs:
                await ws.send(m)
                back = await asyncio.wait_for(ws.recv(), 5)
                ok += back == m
            return ok

    res = {"sent": len(msgs)}
    try:
        res["echoed"] = asyncio.run(asyncio.wait_for(main(), 20))
    except Exception as e:  # a failed handshake, a timeout, a closed tunnel
        res["echoed"] = 0
        res["error"] = "%s: %s" % (type(e).__name__, e)
    print(json.dumps(res))
    return 0


def midreset(host, port):
    s = socket.create_connection((host, int(port)), timeout=5)
    s.sendall(b"GET /py/reset?tag=midreset HTTP/1.1\r\n" + H.encode() + b"\r\n")
    data, end, dt = read_all(s, 5)
    s.close()
    i = data.find(b"\r\n\r\n")
    status = data[:i].decode("latin-1").split("\r\n")[0] if i >= 0 else None
    body = len(data) - i - 4 if i >= 0 else 0
    print(json.dumps({"status": status, "body_bytes": body, "end": end, "secs": dt}))
    return 0


LOG_RE = re.compile(
    r'^\[(?P<start>[^\]]*)\] "(?P<method>\S+) (?P<path>\S+) (?P<proto>\S+)" (?P<code>\d+) '
    r'(?P<flags>\S+) (?P<details>\S+) (?P<term>\S+) "(?P<utfr>[^"]*)" (?P<rx>\d+) (?P<tx>\d+) '
    r'(?P<dur>\S+) (?P<ust>\S+) "(?P<xff>[^"]*)" "(?P<ua>[^"]*)" "(?P<rid>[^"]*)" '
    r'"(?P<authority>[^"]*)" "(?P<uhost>[^"]*)" (?P<ucluster>\S+) (?P<ulocal>\S+) (?P<dlocal>\S+) '
    r'(?P<dremote>\S+) (?P<sni>\S+) (?P<route>\S+)$')


def log(path, substr):
    last = None
    bad = 0
    with open(path, encoding="latin-1") as f:
        for ln in f:
            m = LOG_RE.match(ln.rstrip("\n"))
            if not m:
                bad += 1
                continue
            if substr in m.group("path"):
                last = m.groupdict()
    res = last or {}
    res["unparsed_lines"] = bad
    print(json.dumps(res))
    return 0 if last else 1


def main(argv):
    cmds = {"serve": serve, "ws": ws_server, "gen": gen, "raw": raw, "pipeline": pipeline,
            "expect": expect, "wsclient": wsclient, "midreset": midreset, "log": log}
    if len(argv) < 2 or argv[1] not in cmds:
        print(__doc__)
        return 2
    return cmds[argv[1]](*argv[2:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
