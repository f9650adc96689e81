#!/usr/bin/env python3
"""Peers for the load-balancing integration test (stdlib only).

  lbtool.py serve ADDR PORT:NAME:MODE...
      TCP servers that name themselves: each accepted connection gets NAME and
      a newline. MODE "close" closes at once; "hold" keeps the connection open
      until the client closes it. Prints "ready" once every port listens.

  lbtool.py tcp HOST PORT N
      N connections one after another, each read to its end: prints one JSON
      line {"seq": "ABBB...", "errors": k}, the names in the order received.

  lbtool.py hold HOST PORT N HELD
      N connections one after another. One answered by server HELD (a "hold"
      server) is read up to its newline and kept open until all N are made: it
      stays in flight at the proxy. Any other is read to its end (the proxy has
      closed it) before the next. Prints the same JSON line.

  lbtool.py http HOST PORT N HOSTHDR
      N HTTP/1.1 GETs, each on a new connection with "connection: close", read
      to the end: the first body line names the server. Same JSON line.
"""
import json
import selectors
import socket
import sys


def serve(addr, specs):
    sel = selectors.DefaultSelector()
    for spec in specs:
        port, name, mode = spec.split(":")
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, int(port)))
        s.listen(1024)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, ("listen", (name + "\n").encode(), mode))
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            kind, hello, mode = key.data
            if kind == "listen":
                try:
                    c, _ = key.fileobj.accept()
                except BlockingIOError:
                    continue
                try:
                    c.sendall(hello)
                except OSError:
                    c.close()
                    continue
                if mode == "close":
                    c.close()
                else:
                    c.setblocking(False)
                    sel.register(c, selectors.EVENT_READ, ("held", b"", mode))
            else:
                try:
                    data = key.fileobj.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(key.fileobj)
                    key.fileobj.close()


def read_all(s):
    out = b""
    while True:
        b = s.recv(4096)
        if not b:
            return out
        out += b


def name_of(data):
    line = data.split(b"\n", 1)[0].strip()
    return line.decode("ascii", "replace") if line else ""


def main():
    cmd = sys.argv[1]
    if cmd == "serve":
        serve(sys.argv[2], sys.argv[3:])
        return
    host, port, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    seq, errors, held = [], 0, []
    for _ in range(n):
        try:
            s = socket.create_connection((host, port), timeout=10)
            if cmd == "tcp":
                data = read_all(s)
                s.close()
            elif cmd == "hold":
                data = b""
                while b"\n" not in data:
                    b = s.recv(4096)
                    if not b:
                        break
                    data += b
                if name_of(data) == sys.argv[5]:
                    held.append(s)
                else:
                    data += read_all(s)
                    s.close()
            else:
                s.sendall(("GET / HTTP/1.1\r\nhost: %s\r\nconnection: close\r\n\r\n"
                           % sys.argv[5]).encode())
                data = read_all(s)
                s.close()
                head, _, body = data.partition(b"\r\n\r\n")
                data = body if head.startswith(b"HTTP/1.1 200") else b""
            name = name_of(data)
            if len(name) != 1:
                errors += 1
            else:
                seq.append(name)
        except OSError:
            errors += 1
    for s in held:
        s.close()
    print(json.dumps({"seq": "".join(seq), "errors": errors}))


if __name__ == "__main__":
    main()
