#!/usr/bin/python3
"""Sends one raw request and reports the answer, for test_targets.sh.

  rawreq.py ADDR PORT REQUEST [close]   REQUEST as a Python string literal body ("GET / HTTP/1.1\\r\\n...")
  rawreq.py last LOG                    the last request a lenient_upstream.py LOG holds
  rawreq.py count LOG...                how many requests the LOGs hold together

The first form writes REQUEST as it is (no client fixes up a target it does not understand:
that is the point), reads one response (status line, fields, a Content-Length body), then,
with "close", waits up to a second to see whether the server closes the connection. One
JSON line:
  {"status": N, "headers": {lower-case name: value}, "body": "...", "closed": true|false}
or {"status": 0, "error": "..."} when no response came.

The second prints {"method", "target", "hosts": [every Host value], "n": requests in LOG}.
"""
import ast
import json
import socket
import sys


def request(addr, port, raw, wait_close):
    s = socket.create_connection((addr, port), timeout=5)
    s.sendall(raw)
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            b = s.recv(65536)
            if not b:
                break
            buf += b
        if b"\r\n\r\n" not in buf:
            return {"status": 0, "error": "no response head: %r" % buf[:200]}
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for ln in lines[1:]:
            n, _, v = ln.partition(":")
            headers[n.strip().lower()] = v.strip()
        want = int(headers.get("content-length", "0"))
        while len(rest) < want:
            b = s.recv(65536)
            if not b:
                break
            rest += b
        body, extra = rest[:want], rest[want:]
        if not wait_close:
            return {"status": status, "headers": headers, "body": body.decode("latin-1")}
        # Closed: EOF (or a reset) within a second, with nothing more sent.
        closed = False
        s.settimeout(1.0)
        try:
            b = s.recv(65536)
            closed = b == b"" and extra == b""
        except socket.timeout:
            closed = False
        except ConnectionResetError:
            closed = True
        return {"status": status, "headers": headers, "body": body.decode("latin-1"),
                "closed": closed}
    except (OSError, ValueError, IndexError) as e:
        return {"status": 0, "error": str(e)}
    finally:
        s.close()


def last(path):
    reqs = []
    with open(path) as f:
        for ln in f:
            ev = json.loads(ln)
            if ev.get("event") == "request":
                reqs.append(ev)
    if not reqs:
        return {"n": 0}
    r = reqs[-1]
    return {"method": r["method"], "target": r["target"], "n": len(reqs),
            "hosts": [v for n, v in r["headers"] if n.lower() == "host"]}


def count(paths):
    n = 0
    for path in paths:
        with open(path) as f:
            n += sum(1 for ln in f if json.loads(ln).get("event") == "request")
    return n


def main(argv):
    if len(argv) == 3 and argv[1] == "last":
        print(json.dumps(last(argv[2])))
        return 0
    if len(argv) >= 3 and argv[1] == "count":
        print(count(argv[2:]))
        return 0
    if len(argv) not in (4, 5) or (len(argv) == 5 and argv[4] != "close"):
        print(__doc__, file=sys.stderr)
        return 2
    raw = ast.literal_eval('"' + argv[3].replace('"', '\\"') + '"').encode("latin-1")
    print(json.dumps(request(argv[1], int(argv[2]), raw, len(argv) == 5)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
