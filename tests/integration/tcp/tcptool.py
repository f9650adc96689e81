#!/usr/bin/python3
"""Linux-side TCP peers for hydrofoil's integration tests (stdlib only).

  tcptool.py server PORT              echo server (the upstream behind tcp_proxy)
  tcptool.py stream HOST PORT MBYTES  send MBYTES of pseudo-random data, read the echo,
                                      compare sha256; prints one JSON line
  tcptool.py many HOST PORT N         hold N connections open at once, use each, close all
  tcptool.py connect HOST PORT        one connect: prints ok / refused / reset / timeout
  tcptool.py halfclose HOST PORT      send, shut down writing, expect the echo then EOF
  tcptool.py serverclose PORT         upstream that reads a line, answers, then half-closes
  tcptool.py serverfirst HOST PORT    against serverclose: read the answer and EOF, then
                                      keep sending on our still-open half
  tcptool.py churn HOST PORT N        N connections one after another (connect, echo, close);
                                      prints how many succeeded
"""
import hashlib
import json
import os
import selectors
import socket
import sys
import threading
import time

CHUNK = 1 << 16


def data_stream(total):
    """Deterministic pseudo-random bytes, generated in chunks (no 100 MB in memory twice)."""
    seed = hashlib.sha256(b"hydrofoil").digest()
    sent = 0
    while sent < total:
        block = hashlib.sha256(seed + sent.to_bytes(8, "big")).digest() * (CHUNK // 32)
        block = block[: min(CHUNK, total - sent)]
        sent += len(block)
        yield block


def listen_on(port, backlog):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(backlog)
    return ls


def server(port):
    ls = listen_on(port, 4096)

    def serve(c):
        try:
            while True:
                b = c.recv(CHUNK)
                if not b:
                    break
                c.sendall(b)
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            c.close()

    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def serverclose(port):
    ls = listen_on(port, 64)
    while True:
        c, _ = ls.accept()
        try:
            c.settimeout(10)
            buf = b""
            while not buf.endswith(b"\n"):
                b = c.recv(100)
                if not b:
                    break
                buf += b
            c.sendall(b"bye " + buf)
            c.shutdown(socket.SHUT_WR)
            # keep reading until the client closes its side: half-close both ways
            while c.recv(100):
                pass
        except OSError:
            pass
        c.close()


def stream(host, port, mbytes):
    total = int(float(mbytes) * 1e6)
    s = socket.create_connection((host, port), timeout=60)
    s.settimeout(120)
    sent_hash = hashlib.sha256()
    result = {"bytes": total}

    def sender():
        try:
            for block in data_stream(total):
                sent_hash.update(block)
                s.sendall(block)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            result["send_error"] = str(e)

    t0 = time.time()
    t = threading.Thread(target=sender)
    t.start()
    got = hashlib.sha256()
    n = 0
    try:
        while True:
            b = s.recv(CHUNK)
            if not b:
                break
            got.update(b)
            n += len(b)
    except OSError as e:
        result["recv_error"] = str(e)
    t.join()
    s.close()
    dt = time.time() - t0
    result.update(received=n, seconds=round(dt, 2), mbit_s=round(n * 8 / dt / 1e6, 1),
                  same=(n == total and got.digest() == sent_hash.digest()))
    print(json.dumps(result))
    return 0 if result["same"] else 1


def many(host, port, n):
    n = int(n)
    sel = selectors.DefaultSelector()
    socks = []
    failed = 0
    for i in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect((host, port))
        except BlockingIOError:
            pass
        except OSError:
            failed += 1
            socks.append(s)  # closed with the rest: its fd number must not be reused meanwhile
            continue
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE, i)
    # wait for every connect, then send a message on each
    pending = {s.fileno(): s for s in socks if s.fileno() in sel.get_map()}
    want = {}
    deadline = time.time() + 60
    while pending and time.time() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            if s.fileno() not in pending:
                continue  # connected already and its echo is back: read in the next phase
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            sel.unregister(s)
            del pending[s.fileno()]
            if err:
                failed += 1
                continue
            msg = b"conn-%d\n" % key.data
            s.send(msg)
            want[s.fileno()] = [s, msg, b""]
            sel.register(s, selectors.EVENT_READ, key.data)
    failed += len(pending)
    ok = 0
    deadline = time.time() + 60
    while want and time.time() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            entry = want.get(s.fileno())
            try:
                b = s.recv(100)
            except OSError:
                b = b""
            if not b:
                sel.unregister(s)
                del want[s.fileno()]
                failed += 1
                continue
            entry[2] += b
            if entry[2] == entry[1]:
                sel.unregister(s)
                del want[s.fileno()]
                ok += 1
    failed += len(want)
    held = ok
    for s in socks:
        s.close()
    print(json.dumps({"requested": n, "ok": ok, "failed": failed, "held": held}))
    return 0 if ok == n else 1


def connect(host, port):
    s = socket.socket()
    s.settimeout(10)
    t0 = time.time()
    try:
        s.connect((host, port))
        s.sendall(b"ping\n")
        b = s.recv(100)
        print("ok" if b else "closed", round(time.time() - t0, 2))
    except ConnectionRefusedError:
        print("refused", round(time.time() - t0, 2))
    except ConnectionResetError:
        print("reset", round(time.time() - t0, 2))
    except socket.timeout:
        print("timeout", round(time.time() - t0, 2))
    finally:
        s.close()


def halfclose(host, port):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"half-close test\n")
    s.shutdown(socket.SHUT_WR)
    buf = b""
    while True:
        b = s.recv(100)
        if not b:
            break
        buf += b
    s.close()
    print(json.dumps({"got": buf.decode(errors="replace"), "eof": True}))


def serverfirst(host, port):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"hello\n")
    buf = b""
    while True:
        b = s.recv(100)
        if not b:
            break
        buf += b
    # the peer closed its half; ours is still open: more data must still be taken
    ok_after = True
    try:
        for _ in range(3):
            s.sendall(b"more data after the peer's FIN\n")
            time.sleep(0.05)
    except OSError:
        ok_after = False
    s.close()
    print(json.dumps({"got": buf.decode(errors="replace"), "sent_after_fin": ok_after}))


def churn(host, port, n):
    ok = 0
    for i in range(int(n)):
        try:
            s = socket.create_connection((host, port), timeout=3)
            s.settimeout(3)
            s.sendall(b"churn\n")
            if s.recv(100) == b"churn\n":
                ok += 1
            s.close()
        except OSError:
            pass
    print(json.dumps({"requested": int(n), "ok": ok}))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "server":
        server(int(args[0]))
    elif cmd == "serverclose":
        serverclose(int(args[0]))
    elif cmd == "stream":
        sys.exit(stream(args[0], int(args[1]), args[2]))
    elif cmd == "many":
        sys.exit(many(args[0], int(args[1]), args[2]))
    elif cmd == "connect":
        connect(args[0], int(args[1]))
    elif cmd == "serverfirst":
        serverfirst(args[0], int(args[1]))
    elif cmd == "churn":
        churn(args[0], int(args[1]), args[2])
    elif cmd == "halfclose":
        halfclose(args[0], int(args[1]))
    else:
        sys.exit(__doc__)
