#!/usr/bin/python3
"""Writes an Istio directory with N routes and measures a hot reload.

  reload_bench.py gen DIR N VERSION [FILES]
        writes a Gateway on port 80, ServiceEntries v1 and v2, and N routes
        (45% exact, 45% prefix, 10% regex) ahead of a catch-all to VERSION:
        with FILES 1 (the default) all in DIR/routes.yaml, one VirtualService;
        else DIR/base.yaml and FILES VirtualServices for host "*" in
        DIR/routes-NNN.yaml, the last one holding the catch-all
  reload_bench.py swap HOST DIR N [FILES [REPEAT [PID]]]
        measures: a keep-alive client asks for a path only the catch-all
        matches while the file holding it is replaced (rename) by one whose
        catch-all goes to the other version, REPEAT times (1); prints JSON
        with the milliseconds from each rename to the first answer of the new
        snapshot, their median, the requests made and those that failed, and
        (with PID, hydrofoil's) the agent thread's CPU time per change
"""
import http.client
import json
import os
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def agent_cpu_ms(pid):
    """The agent's CPU time (utime + stime of the process's first thread, the EAL main lcore)."""
    if not pid:
        return 0.0
    try:
        with open("/proc/%s/task/%s/stat" % (pid, pid)) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000.0 / TICK
    except OSError:
        return 0.0

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


class Client:
    """Keep-alive GETs of @path; a failed request (an error, a status but 200) counts and is
    asked again. push_bench.py (bench/xds) uses it too."""

    def __init__(self, host, path="/nothing/else/matches"):
        self.host, self.path = host, path
        self.conn = http.client.HTTPConnection(host, 80, timeout=5)
        self.asked = self.failed = 0

    def ask(self):
        """The body of the next 200 answer."""
        while True:
            self.asked += 1
            try:
                self.conn.request("GET", self.path)
                r = self.conn.getresponse()
                body = r.read().decode().strip()
                if r.status == 200:
                    return body
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, 80, timeout=5)
            self.failed += 1


def routes(n, first, version, catch_all):
    out = []
    for i in range(first, first + n):
        kind = i % 20
        if kind < 2:
            m = 'regex: "/x/%d/[0-9]+/item-[a-z]+"' % i
        elif kind < 11:
            m = 'exact: "/r/%d/detail"' % i
        else:
            m = 'prefix: "/p/%d/"' % i
        out.append("  - match: [{uri: {%s}}]\n    route: [{destination: {host: v1.bench}}]\n" % m)
    if catch_all:
        out.append("  - route: [{destination: {host: %s.bench}}]\n" % version)
    return "".join(out)


VS = """---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: many-%03d, namespace: default}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
"""


def write(path, text):
    """Writes @text beside @path (a hidden name the loader skips); returns that name."""
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    return tmp


def last_file(d, files):
    if files == 1:
        return os.path.join(d, "routes.yaml")
    return os.path.join(d, "routes-%03d.yaml" % (files - 1))


def gen(d, n, version, files, rest=True):
    """Writes every file but the last (when @rest); returns the last one's path and text."""
    if files == 1:
        return last_file(d, 1), HEAD + routes(n, 0, version, True)
    base = HEAD[:HEAD.index("---\napiVersion: networking.istio.io/v1beta1\nkind: VirtualService")]
    if rest:
        os.rename(write(os.path.join(d, "base.yaml"), base), os.path.join(d, "base.yaml"))
    per = n // files
    for k in range(files):
        count = per if k < files - 1 else n - per * (files - 1)
        text = VS % k + routes(count, k * per, version, k == files - 1)
        path = os.path.join(d, "routes-%03d.yaml" % k)
        if k == files - 1:
            return path, text
        if rest:
            os.rename(write(path, text), path)
    return None


def main(argv):
    if argv[0] == "gen":
        files = int(argv[4]) if len(argv) > 4 else 1
        path, text = gen(argv[1], int(argv[2]), argv[3], files)
        os.rename(write(path, text), path)
        return 0
    host, d, n = argv[1], argv[2], int(argv[3])
    files = int(argv[4]) if len(argv) > 4 else 1
    repeat = int(argv[5]) if len(argv) > 5 else 1
    pid = argv[6] if len(argv) > 6 else None
    cpu = 0.0
    client = Client(host)
    ask = client.ask
    times = []
    for _ in range(repeat):
        before = ask()
        want = "v2" if "v1" in before else "v1"
        path, text = gen(d, n, want, files, rest=False)
        tmp = write(path, text)
        c0 = agent_cpu_ms(pid)
        t0 = time.monotonic()
        os.rename(tmp, path)
        while True:
            got = ask()
            if want in got:
                break
            if time.monotonic() - t0 > 30:
                print(json.dumps({"error": "no change in 30 s", "got": got}))
                return 1
        times.append(round((time.monotonic() - t0) * 1000, 1))
        # the next change on a settled snapshot; the old one's release counts too
        time.sleep(0.3)
        cpu += agent_cpu_ms(pid) - c0
    print(json.dumps({"routes": n, "files": files, "reload_ms": sorted(times)[len(times) // 2],
                      "all_ms": times, "requests": client.asked, "failed": client.failed,
                      "agent_cpu_ms": round(cpu / repeat, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
