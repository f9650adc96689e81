#!/usr/bin/python3
"""Writes an Istio directory with N routes and measures a hot reload.

  reload_bench.py gen DIR N VERSION   writes DIR/routes.yaml: a Gateway on port 80,
                                      ServiceEntries v1 and v2, and one VirtualService
                                      with N routes (45% exact, 45% prefix, 10% regex)
                                      ahead of a catch-all to VERSION
  reload_bench.py swap HOST DIR N     measures: a keep-alive client asks for a path
                                      only the catch-all matches while the file is
                                      replaced (rename) by one whose catch-all goes
                                      to the other version; prints JSON with the
                                      milliseconds from the rename to the first
                                      answer of the new snapshot
"""
import http.client
import json
import os
import sys
import time

HEAD = """apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: v1, namespace: default}
spec:
  hosts: [v1.bench]
  ports: [{number: 8081, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 198.51.100.1}]
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: v2, namespace: default}
spec:
  hosts: [v2.bench]
  ports: [{number: 8082, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 198.51.100.1}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: many, namespace: default}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
"""


def gen(path, n, version):
    out = [HEAD]
    for i in range(n):
        kind = i % 20
        if kind < 2:
            m = 'regex: "/x/%d/[0-9]+/item-[a-z]+"' % i
        elif kind < 11:
            m = 'exact: "/r/%d/detail"' % i
        else:
            m = 'prefix: "/p/%d/"' % i
        out.append("  - match: [{uri: {%s}}]\n    route: [{destination: {host: v1.bench}}]\n" % m)
    out.append("  - route: [{destination: {host: %s.bench}}]\n" % version)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("".join(out))
    return tmp


def main(argv):
    if argv[0] == "gen":
        os.rename(gen(os.path.join(argv[1], "routes.yaml"), int(argv[2]), argv[3]),
                  os.path.join(argv[1], "routes.yaml"))
        return 0
    host, d, n = argv[1], argv[2], int(argv[3])
    c = http.client.HTTPConnection(host, 80, timeout=5)

    def ask():
        c.request("GET", "/nothing/else/matches")
        r = c.getresponse()
        return r.read().decode().strip()

    before = ask()
    want = "v2" if "v1" in before else "v1"
    tmp = gen(os.path.join(d, "routes.yaml"), n, want)
    t0 = time.monotonic()
    os.rename(tmp, os.path.join(d, "routes.yaml"))
    asked = 0
    while True:
        got = ask()
        asked += 1
        if want in got:
            break
        if time.monotonic() - t0 > 30:
            print(json.dumps({"error": "no change in 30 s", "got": got}))
            return 1
    ms = (time.monotonic() - t0) * 1000
    print(json.dumps({"routes": n, "reload_ms": round(ms, 1), "requests_meanwhile": asked,
                      "before": before, "after": got}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
