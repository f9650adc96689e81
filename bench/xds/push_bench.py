#!/usr/bin/python3
"""Writes an xDS RouteConfiguration with N routes and measures its pushes.

  push_bench.py routes DIR N CLUSTER
        writes DIR/routes.json: RouteConfiguration http.80, one virtual host
        "*" with N routes (45% path, 45% prefix, 10% safe_regex) to cluster
        web ahead of a catch-all to CLUSTER (renamed into place)
  push_bench.py swap HOST DIR SERVER_LOG N REPEAT [PID]
        measures: a keep-alive client asks for a path only the catch-all
        matches while routes.json is rewritten with the catch-all to the
        other cluster (web answers "A", web-b "B"), REPEAT times; for each,
        the milliseconds from the management server's push (its "send"
        event of the RouteConfiguration, wall clock) to the first answer of
        the new configuration. Prints JSON with each, their median, and the
        requests that failed meanwhile (an error or a status but 200), and
        (with PID, hydrofoil's) the agent thread's CPU time per change
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "istio"))
from reload_bench import Client, agent_cpu_ms  # noqa: E402

T = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"


def routes(n, cluster):
    out = []
    for i in range(n):
        kind = i % 20
        if kind < 2:
            m = {"safe_regex": {"regex": "/x/%d/[0-9]+/item-[a-z]+" % i}}
        elif kind < 11:
            m = {"path": "/r/%d/detail" % i}
        else:
            m = {"prefix": "/p/%d/" % i}
        out.append({"name": "r%d" % i, "match": m, "route": {"cluster": "web"}})
    out.append({"name": "default", "match": {"prefix": "/"}, "route": {"cluster": cluster}})
    return {"resources": [{"@type": T, "name": "http.80", "virtual_hosts": [
        {"name": "all", "domains": ["*"], "routes": out}]}]}


def write_routes(d, n, cluster):
    tmp = os.path.join(d, ".routes.json.tmp")
    with open(tmp, "w") as f:
        json.dump(routes(n, cluster), f)
    os.rename(tmp, os.path.join(d, "routes.json"))


def sends_after(log, t0_ms):
    """The server's RouteConfiguration sends logged at or after @t0_ms (wall clock ms)."""
    out = []
    try:
        with open(log) as f:
            for line in f:
                if '"event":"send"' not in line or "RouteConfiguration" not in line:
                    continue
                e = json.loads(line)
                if e.get("t", 0) >= t0_ms:
                    out.append(e)
    except OSError:
        pass
    return out


def swap(host, d, log, n, repeat, pid=None):
    client = Client(host)
    ask = client.ask
    cpu = 0.0

    push_ms, write_ms = [], []
    for _ in range(repeat):
        before = ask()
        want, cluster = ("B", "web-b") if before == "A" else ("A", "web")
        c0 = agent_cpu_ms(pid)
        t0 = time.time()
        write_routes(d, n, cluster)
        while True:
            got = ask()
            if got == want:
                t1 = time.time()
                break
            if time.time() - t0 > 60:
                return {"error": "no change in 60 s", "got": got}
        sends = sends_after(log, int(t0 * 1000))
        if not sends:
            return {"error": "no RouteConfiguration send in the server's log"}
        push_ms.append(round(t1 * 1000 - sends[0]["t"], 1))
        write_ms.append(round((t1 - t0) * 1000, 1))
        time.sleep(0.5)
        cpu += agent_cpu_ms(pid) - c0
    return {"routes": n, "push_ms": sorted(push_ms)[len(push_ms) // 2], "all_ms": push_ms,
            "write_to_served_ms": write_ms, "requests": client.asked, "failed": client.failed,
            "agent_cpu_ms": round(cpu / repeat, 1)}


def main(argv):
    if argv[0] == "routes":
        write_routes(argv[1], int(argv[2]), argv[3])
        return 0
    if argv[0] == "swap":
        r = swap(argv[1], argv[2], argv[3], int(argv[4]), int(argv[5]),
                 argv[6] if len(argv) > 6 else None)
        print(json.dumps(r))
        return 1 if "error" in r else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
