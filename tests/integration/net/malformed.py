#!/usr/bin/python3
"""Sends malformed and unwanted frames at hydrofoil from the kernel side of its
tap, and checks that each raises exactly its own drop counter in /stats.

Run inside the test's namespace: malformed.py IFACE OUR_MAC OUR_IP PEER_IP.
Prints TAP-style lines ("ok - ..." / "not ok - ...") and exits 1 on a failure.
"""
import sys
import time
import urllib.request

from scapy.all import ARP, ICMP, IP, UDP, Dot1Q, Ether, IPv6, Raw, get_if_hwaddr, sendp

IFACE, OUR_MAC, OUR_IP, PEER_IP = sys.argv[1:5]
PEER_MAC = get_if_hwaddr(IFACE)
N = 5  # copies of each frame
BCAST = "ff:ff:ff:ff:ff:ff"


def stats():
    with urllib.request.urlopen("http://127.0.0.1:15000/stats", timeout=5) as r:
        out = {}
        for line in r.read().decode().splitlines():
            name, _, value = line.partition(": ")
            out[name] = int(value)
        return out


def eth(dst=OUR_MAC, **kw):
    return Ether(src=PEER_MAC, dst=dst, **kw)


def ip(**kw):
    kw.setdefault("src", PEER_IP)
    kw.setdefault("dst", OUR_IP)
    return IP(**kw)


def echo():
    return ICMP(type=8, id=0x4846, seq=1) / Raw(b"hydrofoil")


CASES = [
    # (description, frame, counter that must rise by N)
    ("802.1Q tagged frame", eth() / Dot1Q(vlan=7) / ip() / echo(), "eth.drop.vlan"),
    ("unicast to another MAC", eth(dst="02:00:00:00:00:99") / ip() / echo(), "eth.drop.other_host"),
    ("multicast destination", eth(dst="01:00:5e:00:00:fb") / ip() / echo(), "eth.drop.multicast"),
    ("IPv6 frame", eth() / IPv6(src="2001:db8::1", dst="2001:db8::2") / Raw(b"x" * 8),
     "eth.drop.unknown_ethertype"),
    ("IPv4 version 6", eth(type=0x0800) / Raw(bytes(ip(version=6) / echo())), "ipv4.drop.bad_version"),
    ("IPv4 IHL 4", eth(type=0x0800) / Raw(bytes(ip(ihl=4) / echo())), "ipv4.drop.bad_ihl"),
    ("IPv4 IHL 15 beyond the frame", eth(type=0x0800) / Raw(bytes(ip(ihl=15) / Raw(b"a" * 8))),
     "ipv4.drop.bad_ihl"),
    ("IPv4 total length beyond the frame", eth() / ip(len=1000) / echo(), "ipv4.drop.bad_total_length"),
    ("IPv4 total length below the header", eth() / ip(len=12) / echo(), "ipv4.drop.bad_total_length"),
    ("IPv4 bad header checksum", eth() / ip(chksum=0x1234) / echo(), "ipv4.drop.bad_checksum"),
    ("IPv4 TTL 0", eth() / ip(ttl=0) / echo(), "ipv4.drop.ttl_zero"),
    ("IPv4 to another address", eth() / ip(dst="198.51.100.77") / echo(), "ipv4.drop.not_ours"),
    ("IPv4 loopback source", eth() / ip(src="127.0.0.1") / echo(), "ipv4.drop.bad_source"),
    ("IPv4 multicast source", eth() / ip(src="224.0.0.9") / echo(), "ipv4.drop.bad_source"),
    ("IPv4 first fragment (MF)", eth() / ip(flags="MF") / echo(), "ipv4.drop.fragment"),
    ("IPv4 later fragment (offset)", eth() / ip(frag=100) / echo(), "ipv4.drop.fragment"),
    ("UDP datagram", eth() / ip() / UDP(sport=1234, dport=53) / Raw(b"q"), "ipv4.drop.unknown_protocol"),
    ("ICMP truncated", eth() / ip(proto=1) / Raw(b"\x08\x00"), "icmp.drop.truncated"),
    ("ICMP bad checksum", eth() / ip() / ICMP(type=8, chksum=0x0001) / Raw(b"hydrofoil"),
     "icmp.drop.bad_checksum"),
    ("ICMP timestamp request", eth() / ip() / ICMP(type=13), "icmp.rx_other"),
    ("ARP bad hardware type", eth(dst=BCAST) / ARP(hwtype=6, hwlen=6, plen=4, psrc=PEER_IP, pdst=OUR_IP),
     "arp.drop.bad_format"),
    ("ARP bad opcode", eth(dst=BCAST) / ARP(op=9, psrc=PEER_IP, pdst=OUR_IP), "arp.drop.bad_opcode"),
    ("ARP claiming our address", eth(dst=BCAST) / ARP(op=1, psrc=OUR_IP, pdst=OUR_IP),
     "arp.drop.bad_sender"),
    ("ARP for another host", eth(dst=BCAST) / ARP(op=1, psrc=PEER_IP, pdst="198.51.100.77"),
     "arp.drop.not_for_us"),
    ("ARP truncated", eth(dst=BCAST, type=0x0806) / Raw(b"\x00\x01\x08\x00"), "arp.drop.truncated"),
]

failures = 0


def report(ok, desc):
    global failures
    if not ok:
        failures += 1
    print(("ok - " if ok else "not ok - ") + desc, flush=True)


def wait_for(before, name, want, timeout=3.0):
    deadline = time.time() + timeout
    while True:
        now = stats()
        if now.get(name, 0) - before.get(name, 0) >= want or time.time() > deadline:
            return now
        time.sleep(0.05)


for desc, frame, counter in CASES:
    before = stats()
    sendp(frame, iface=IFACE, count=N, verbose=False)
    after = wait_for(before, counter, N)
    delta = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    # Drop counters other than the expected one must not move at all.
    stray = {k: v for k, v in delta.items()
             if (".drop." in k or k == "icmp.rx_other") and k != counter and ".hw." not in k}
    got = delta.get(counter, 0)
    report(got == N and not stray,
           f"{desc}: {counter} +{got} (want +{N})" + (f", unexpected {stray}" if stray else ""))

sys.exit(1 if failures else 0)
