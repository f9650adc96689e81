#!/usr/bin/python3
"""A host that refuses TCP with ICMP, for the multi-worker test.

  icmp_refuser.py IFACE ADDR PORT

On the Linux side of the tap IFACE: answers ARP requests for ADDR (an address
no interface holds) with IFACE's MAC, and answers every SYN to ADDR:PORT with
an ICMP port unreachable (RFC 792 type 3 code 3) quoting the SYN's IP header
and first 8 bytes, as a host without a listener on that port and with a
firewall that prefers ICMP to RST would. The kernel itself drops those SYNs
(not its address, no forwarding). Prints "ready" once sniffing, then one line
per ICMP sent.
"""
import sys

from scapy.all import ARP, ICMP, IP, TCP, AsyncSniffer, Ether, Raw, conf, get_if_hwaddr, raw, sendp

conf.verb = 0
IFACE, ADDR, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
MAC = get_if_hwaddr(IFACE)


def on_frame(p):
    if ARP in p and p[ARP].op == 1 and p[ARP].pdst == ADDR:
        sendp(Ether(dst=p[ARP].hwsrc, src=MAC) /
              ARP(op=2, hwsrc=MAC, psrc=ADDR, hwdst=p[ARP].hwsrc, pdst=p[ARP].psrc), iface=IFACE)
    elif (IP in p and TCP in p and p[IP].dst == ADDR and p[TCP].dport == PORT and
          p[TCP].flags == "S"):
        ip = raw(p[IP])
        quote = ip[:(ip[0] & 0x0f) * 4 + 8]
        sendp(Ether(dst=p[Ether].src, src=MAC) / IP(src=ADDR, dst=p[IP].src) /
              ICMP(type=3, code=3) / Raw(quote), iface=IFACE)
        print(f"unreachable {p[IP].src}:{p[TCP].sport}", flush=True)


sniffer = AsyncSniffer(iface=IFACE, prn=on_frame, store=False,
                       filter=f"arp or (tcp and dst host {ADDR} and dst port {PORT})",
                       started_callback=lambda: print("ready", flush=True))
sniffer.start()
sniffer.join()
