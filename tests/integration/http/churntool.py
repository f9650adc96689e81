"""Endpoint churn helper for test_endpoint_churn.sh.

  endpoints ROUND BLOCK ADDRS PORTS   YAML list items of endpoint block ROUND
  get GW PORT HOST N ROUND BLOCK ADDRS PORTS
                                      N keep-alive GETs through the gateway; prints "ok"
                                      when every answer is 200 from an endpoint of
                                      block ROUND and at least 90% of the block answered

Endpoint i is 198.51.100.(10 + i % ADDRS) port 10000 + (i // ADDRS) % PORTS, so
blocks never repeat an endpoint while ROUND * BLOCK < ADDRS * PORTS.
"""
import http.client
import sys


def block(rnd, size, addrs, ports):
    for i in range(rnd * size, (rnd + 1) * size):
        yield f"198.51.100.{10 + i % addrs}", 10000 + (i // addrs) % ports


def main(argv):
    if argv[1] == "endpoints":
        rnd, size, addrs, ports = map(int, argv[2:6])
        for addr, port in block(rnd, size, addrs, ports):
            print(f"  - address: {addr}\n    ports:\n      http: {port}")
        return 0
    gw, gport, host = argv[2], int(argv[3]), argv[4]
    n, rnd, size, addrs, ports = map(int, argv[5:10])
    want = {f"{a}:{p}" for a, p in block(rnd, size, addrs, ports)}
    seen, errors = set(), []
    conn = http.client.HTTPConnection(gw, gport, timeout=10)
    for _ in range(n):
        try:
            conn.request("GET", "/", headers={"Host": host})
            resp = conn.getresponse()
            body = resp.read().decode(errors="replace").strip()
        except (OSError, http.client.HTTPException) as e:
            errors.append(f"{type(e).__name__}: {e}")
            conn.close()
            conn = http.client.HTTPConnection(gw, gport, timeout=10)
            continue
        if resp.status != 200:
            errors.append(f"status {resp.status} {body[:60]!r}")
        elif body not in want:
            errors.append(f"answered by {body!r}, not an endpoint of block {rnd}")
        else:
            seen.add(body)
    if errors:
        print(f"{len(errors)} of {n} failed, first: {errors[0]}")
        return 1
    if len(seen) < 0.9 * len(want):
        print(f"only {len(seen)} of the {len(want)} endpoints answered")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
