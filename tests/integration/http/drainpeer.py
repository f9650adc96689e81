#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Peers for test_listener_drain.sh (stdlib only).

  drainpeer.py http ADDR PORT FLAGFILE   HTTP/1.1 upstream: /slow answers after 1 s,
                                         /hold when FLAGFILE exists (30 s at most; FLAGFILE.got
                                         says it came), else 200 "ok"
  drainpeer.py echo ADDR PORT            TCP echo server, one thread per connection
  drainpeer.py hold HOST PORT GOFILE     TCP client: one byte echoed, "ready"; once GOFILE
                                         exists one more byte must come back ("echo-after ok");
                                         then waits for the end: "closed SECONDS reset|fin|timeout"
  drainpeer.py idle HOST PORT            HTTP client: one request, then idle on its keep-alive
                                         connection: "ready STATUS-LINE", then how it ended
                                         (30 s at most): "closed eof|reset|timeout|data SECONDS"
  drainpeer.py keepalive HOST PORT FLAGFILE WAITFILE
                                         two requests on one keep-alive connection, the
                                         second once WAITFILE exists (FLAGFILE written in
                                         between): "first STATUS CONNECTION", "second STATUS SAME"
"""
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def wait_file(path, limit):
    end = time.time() + limit
    while not os.path.exists(path) and time.time() < end:
        time.sleep(0.02)
    return os.path.exists(path)


def http_server(addr, port, flag):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            if self.path.startswith("/slow"):
                time.sleep(1.0)
            elif self.path.startswith("/hold"):
                open(flag + ".got", "w").close()
                wait_file(flag, 30)
            body = b"ok\n"
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer((addr, port), H).serve_forever()


def echo_server(addr, port):
    def one(c):
        with c:
            while True:
                try:
                    d = c.recv(4096)
                except OSError:
                    return
                if not d:
                    return
                c.sendall(d)

    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()


def hold(host, port, go):
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(b"a")
    if s.recv(16) != b"a":
        print("no echo", flush=True)
        return
    print("ready", flush=True)
    if not wait_file(go, 60):
        print("no go", flush=True)
        return
    t0 = time.time()
    s.sendall(b"b")
    print("echo-after " + ("ok" if s.recv(16) == b"b" else "bad"), flush=True)
    s.settimeout(60)
    try:
        kind = "fin" if s.recv(16) == b"" else "data"
    except ConnectionResetError:
        kind = "reset"
    except socket.timeout:
        kind = "timeout"
    print("closed %.1f %s" % (time.time() - t0, kind), flush=True)


def idle(host, port):
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nhost: idle\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    head, body = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(body) < length:
        body += s.recv(4096)
    print("ready %s" % head.split(b"\r\n")[0].decode(), flush=True)
    s.settimeout(30)
    t0 = time.time()
    try:
        kind = "eof" if s.recv(16) == b"" else "data"
    except ConnectionResetError:
        kind = "reset"
    except socket.timeout:
        kind = "timeout"
    print("closed %s %.1f" % (kind, time.time() - t0), flush=True)


def keepalive(host, port, flag, waitfile):
    import http.client
    c = http.client.HTTPConnection(host, port, timeout=10)
    c.request("GET", "/")
    r = c.getresponse()
    r.read()
    sock = c.sock
    print("first %d %s" % (r.status, r.getheader("connection", "-")), flush=True)
    open(flag, "w").close()
    if not wait_file(waitfile, 30):
        print("no go", flush=True)
        return
    c.request("GET", "/")
    r = c.getresponse()
    r.read()
    print("second %d %s" % (r.status, "same" if c.sock is sock and sock is not None else "new"),
          flush=True)


def main():
    cmd = sys.argv[1]
    if cmd == "http":
        http_server(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif cmd == "echo":
        echo_server(sys.argv[2], int(sys.argv[3]))
    elif cmd == "hold":
        hold(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif cmd == "idle":
        idle(sys.argv[2], int(sys.argv[3]))
    elif cmd == "keepalive":
        keepalive(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
    else:
        sys.exit(2)


if __name__ == "__main__":
    main()
