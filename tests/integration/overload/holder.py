#!/usr/bin/env python3
"""holder.py ADDR PORT N: opens N TCP connections to ADDR:PORT and holds them, idle, until
killed. Prints how many were established (a refused or reset one is not) and then sleeps."""
import socket
import sys
import time

addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
held = []
for _ in range(n):
    try:
        s = socket.create_connection((addr, port), timeout=3)
        held.append(s)
    except OSError:
        pass
print(len(held), flush=True)
while True:
    time.sleep(3600)
