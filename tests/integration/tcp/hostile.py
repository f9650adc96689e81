#!/usr/bin/python3
"""Hostile and malformed segments against a live connection to hydrofoil's echo
listener: each must be dropped or challenged under its own counter, and the
connection must survive (it still echoes afterwards).

Run inside the test's namespace: hostile.py IFACE OUR_IP PEER_IP PORT
Prints TAP-style lines and exits 1 on a failure.
"""
import random
import socket
import sys
import time
import urllib.request

from scapy.all import IP, TCP, AsyncSniffer, Ether, Raw, get_if_hwaddr, sendp, conf

conf.verb = 0
IFACE, OUR_IP, PEER_IP, PORT = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
failures = 0


def stats():
    with urllib.request.urlopen("http://127.0.0.1:15000/stats", timeout=5) as r:
        return {k: int(v) for k, _, v in (l.partition(": ") for l in r.read().decode().splitlines())}


def report(ok, desc):
    global failures
    failures += 0 if ok else 1
    print(("ok - " if ok else "not ok - ") + desc, flush=True)


# A real connection from the Linux stack, and the sequence numbers seen on the wire.
s = socket.create_connection((OUR_IP, PORT), timeout=5)
lport = s.getsockname()[1]
sniffer = AsyncSniffer(iface=IFACE, filter=f"tcp and port {lport}", store=True)
sniffer.start()
time.sleep(0.3)
s.sendall(b"hello\n")
assert s.recv(100) == b"hello\n"
time.sleep(0.3)
pkts = sniffer.stop()
ours = [p for p in pkts if p.haslayer(TCP) and p[IP].src == OUR_IP]
theirs = [p for p in pkts if p.haslayer(TCP) and p[IP].src == PEER_IP]
if not ours or not theirs:
    report(False, "capture the connection's sequence numbers")
    sys.exit(1)
our_mac = ours[-1][Ether].src
# What hydrofoil expects next from the peer, and the peer's view of ours.
rcv_nxt = theirs[-1][TCP].seq + len(theirs[-1][TCP].payload)
snd_nxt = ours[-1][TCP].seq + len(ours[-1][TCP].payload)
peer_mac = get_if_hwaddr(IFACE)


def seg(**kw):
    flags = kw.pop("flags", "A")
    payload = kw.pop("payload", b"")
    t = TCP(sport=lport, dport=PORT, flags=flags, seq=kw.pop("seq", rcv_nxt),
            ack=kw.pop("ack", snd_nxt), window=65535, **kw)
    return Ether(src=peer_mac, dst=our_mac) / IP(src=PEER_IP, dst=OUR_IP) / t / Raw(payload)


def raw_tcp(hdr_bytes, payload=b""):
    """A segment whose TCP header bytes are given whole (for broken offsets and options)."""
    ip = IP(src=PEER_IP, dst=OUR_IP, proto=6) / Raw(hdr_bytes + payload)
    return Ether(src=peer_mac, dst=our_mac) / ip


def tcp_bytes(doff_words, flags=0x10, opts=b"", fix_csum=True):
    t = TCP(sport=lport, dport=PORT, flags=flags, seq=rcv_nxt, ack=snd_nxt, window=65535,
            dataofs=doff_words, options=[])
    b = bytearray(bytes(t)[:20]) + bytearray(opts)
    b[12] = (doff_words << 4)
    b[16] = b[17] = 0
    if fix_csum:
        import struct
        from scapy.utils import checksum
        pseudo = socket.inet_aton(PEER_IP) + socket.inet_aton(OUR_IP) + struct.pack("!BBH", 0, 6, len(b))
        c = checksum(pseudo + bytes(b))
        b[16], b[17] = c >> 8, c & 0xff
    return bytes(b)


bad_csum = seg(payload=b"x")
bad_csum[TCP].chksum = 0xdead
CASES = [
    ("bad checksum", bad_csum, "tcp.drop.bad_checksum"),
    ("data offset 2 (below the header)", raw_tcp(tcp_bytes(2)), "tcp.drop.bad_data_offset"),
    ("data offset 15 beyond the segment", raw_tcp(tcp_bytes(15)), "tcp.drop.bad_data_offset"),
    ("SYN+FIN", seg(flags="SF"), "tcp.drop.bad_flags"),
    ("SYN+RST", seg(flags="SR"), "tcp.drop.bad_flags"),
    ("no flags at all", seg(flags=""), "tcp.drop.bad_flags"),
    ("MSS option of length 3", raw_tcp(tcp_bytes(6, opts=b"\x02\x03\x05\x01\x01\x01\x00\x00")),
     "tcp.drop.bad_options"),
    ("data far beyond the window", seg(seq=(rcv_nxt + 50_000_000) % 2**32, payload=b"evil"),
     "tcp.drop.out_of_window"),
    ("RST beyond the window", seg(flags="R", seq=(rcv_nxt + 50_000_000) % 2**32),
     "tcp.drop.rst_out_of_window"),
    ("blind RST at a random sequence number",
     seg(flags="R", seq=(rcv_nxt + random.randrange(10_000_000, 2**31)) % 2**32),
     "tcp.drop.rst_out_of_window"),
    ("in-window RST not at rcv_nxt (RFC 5961 challenge)", seg(flags="R", seq=(rcv_nxt + 100) % 2**32),
     "tcp.challenge_acks"),
    ("SYN on the established connection (RFC 5961 challenge)", seg(flags="S", seq=(rcv_nxt + 7) % 2**32),
     "tcp.drop.syn_in_window"),
    ("ACK for data never sent", seg(ack=(snd_nxt + 1_000_000) % 2**32), "tcp.drop.ack_unsent"),
]

for desc, frame, counter in CASES:
    before = stats()
    sendp(frame, iface=IFACE)
    deadline = time.time() + 2
    while True:
        after = stats()
        if after.get(counter, 0) > before.get(counter, 0) or time.time() > deadline:
            break
        time.sleep(0.05)
    got = after.get(counter, 0) - before.get(counter, 0)
    reset = after.get("tcp.cx_reset_received", 0) - before.get("tcp.cx_reset_received", 0)
    report(got == 1 and reset == 0, f"{desc}: {counter} +{got} (want +1), connection resets {reset}")

# An ACK storm: 200 pure ACKs beyond the window draw at most one ACK per 500 ms
# (RFC 5961 7), so two ends that disagree over a connection cannot ACK each
# other's ACKs for ever; old data is answered every time (its ACK may be what
# ends the sender's retransmissions).
def replies(frames, counter):
    before = stats()
    sniffer = AsyncSniffer(iface=IFACE, store=True,
                           filter=f"tcp and src host {OUR_IP} and dst port {lport}")
    sniffer.start()
    time.sleep(0.2)
    sendp(frames, iface=IFACE)
    time.sleep(0.3)
    got = [p for p in sniffer.stop() if p.haslayer(TCP) and p[TCP].flags == "A" and not len(p[TCP].payload)]
    after = stats()
    return len(got), after.get(counter, 0) - before.get(counter, 0), after


time.sleep(0.6)  # the cases above drew replies of their own: the storm starts a fresh 500 ms
n, limited, after = replies([seg(seq=(rcv_nxt + 50_000_000 + i) % 2**32) for i in range(200)],
                            "tcp.oow_replies_limited")
report(1 <= n <= 2 and limited >= 198,
       f"200 pure ACKs beyond the window: {n} ACKs back (want 1, 2 if the storm outlasted 500 ms), "
       f"tcp.oow_replies_limited +{limited}")
n, limited, after = replies([seg(seq=(rcv_nxt - 1000) % 2**32, payload=b"old") for _ in range(5)],
                            "tcp.oow_replies_limited")
report(n == 5 and limited == 0, f"5 segments of old data: {n} ACKs back (want 5), tcp.oow_replies_limited +{limited}")

try:
    s.sendall(b"still alive\n")
    echoed = s.recv(100)
except OSError as e:
    echoed = repr(e).encode()
report(echoed == b"still alive\n", f"the connection survived and still echoes ({echoed!r})")
s.close()
sys.exit(1 if failures else 0)
