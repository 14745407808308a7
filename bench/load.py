"""The load generator of the HTTP benches, always in processes of its own.

wrk (Debian's package `wrk`) when it is installed; else this module's own client, run as
separate processes (`python bench/load.py URL ...`, one per CPU) with keep-alive
connections, so that the server never shares an interpreter (or a GIL) with its client.

    measure(url, seconds=4, connections=8, method="GET", body=None, paths=None) -> Result
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # responses with another status than expected, or failed connections
    tool: str
    #: The server process's own CPU (user + system) per request, when the caller measured it.
    server_cpu_ms: float = float("nan")


def measure(url: str, seconds: float = 4.0, connections: int = 8, method: str = "GET", body: bytes | None = None,
            expect: int = 200, cookie: str = "", paths: list[str] | None = None) -> Result:
    """Requests per second and latency of `url` under `connections` keep-alive connections;
    `cookie` is sent with every request (a visitor who already has a session). With `paths`,
    the requests go to those paths of `url`'s server in turn (e.g. a different search each)."""
    if shutil.which("wrk"):
        return _wrk(url, seconds, connections, method, body, expect, cookie, paths)
    return _python(url, seconds, connections, method, body, expect, cookie, paths)


# --- wrk ----------------------------------------------------------------------------------------

_LUA = """
wrk.method = "{method}"
{body}
wrk.headers["Content-Type"] = "application/json"
{cookie}
{paths}
local bad = 0
response = function(status, headers, body)
  if status ~= {expect} then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("MOTCUA %d %d %.1f %.1f\\n", summary.requests,
      summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
      latency:percentile(50), latency:percentile(99)))
end
"""


def _paths_lua(paths: list[str] | None) -> str:
    """A wrk `request` function sending each path in turn (every thread from its own start)."""
    if not paths:
        return ""
    listed = ", ".join(json.dumps(p) for p in paths)  # a JSON string is a Lua string here (ASCII paths)
    # each thread starts far from the others (a path another thread just asked for may be kept)
    return (f"local paths = {{{listed}}}\nlocal threads = 0\nlocal at = 0\n"
            "setup = function(thread)\n  threads = threads + 1\n  thread:set(\"start\", threads * 997)\nend\n"
            "init = function(args)\n  at = (start or 0) % #paths\nend\n"
            "request = function()\n  at = at % #paths + 1\n  return wrk.format(nil, paths[at])\nend")


def _wrk(url: str, seconds: float, connections: int, method: str, body: bytes | None, expect: int, cookie: str,
         paths: list[str] | None = None) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bench.lua"
        body_lua = ""
        if body is not None:
            (Path(tmp) / "body").write_bytes(body)
            body_lua = f'local f = io.open("{Path(tmp) / "body"}", "rb"); wrk.body = f:read("*a"); f:close()'
        cookie_lua = f'wrk.headers["Cookie"] = "{cookie}"' if cookie else ""
        script.write_text(_LUA.format(method=method, body=body_lua, expect=expect, cookie=cookie_lua, paths=_paths_lua(paths)))
        threads = max(1, min(connections, os.cpu_count() or 1))
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(script), url],
            capture_output=True, text=True, check=True,
        ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests, errors, p50_us, p99_us = re.search(r"MOTCUA (\d+) (\d+) ([\d.]+) ([\d.]+)", out).groups()
    # wrk counts non-2xx/3xx as status errors; a 201 or 200 expected is a 2xx
    return Result(rps, float(p50_us) / 1000, float(p99_us) / 1000, int(requests), int(errors), "wrk")


# --- the Python client (separate processes) ---------------------------------------------------


def _python(url: str, seconds: float, connections: int, method: str, body: bytes | None, expect: int, cookie: str,
            paths: list[str] | None = None) -> Result:
    procs = max(1, min(connections, os.cpu_count() or 1))
    per = [connections // procs + (1 if i < connections % procs else 0) for i in range(procs)]
    with tempfile.TemporaryDirectory() as tmp:
        body_path = Path(tmp) / "body"
        if body is not None:
            body_path.write_bytes(body)
        paths_path = Path(tmp) / "paths"
        if paths:
            paths_path.write_text("\n".join(paths))
        children = [
            subprocess.Popen(
                [sys.executable, __file__, url, "--seconds", str(seconds), "--connections", str(n), "--method", method,
                 "--expect", str(expect), "--cookie", cookie] + (["--body", str(body_path)] if body is not None else [])
                + (["--paths", str(paths_path)] if paths else []),
                stdout=subprocess.PIPE, text=True,
            )
            for n in per if n
        ]
        reports = [json.loads(child.communicate()[0]) for child in children]
    latencies = sorted(x for r in reports for x in r["latencies"])
    elapsed = max(r["elapsed"] for r in reports)
    count = len(latencies)

    def pct(p: float) -> float:
        return latencies[min(count - 1, int(p * count))] * 1000 if count else float("nan")

    return Result(count / elapsed, pct(0.50), pct(0.99), count, sum(r["bad"] for r in reports), "python client")


def _client_main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body")
    parser.add_argument("--expect", type=int, default=200)
    parser.add_argument("--cookie", default="")
    parser.add_argument("--paths", help="a file of paths, one a line, requested in turn")
    args = parser.parse_args()
    parts = urlsplit(args.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    paths = Path(args.paths).read_text().split("\n") if args.paths else [path]
    body = Path(args.body).read_bytes() if args.body else None
    latencies: list[list[float]] = [[] for _ in range(args.connections)]
    bad = [0] * args.connections
    stop = time.perf_counter() + args.seconds

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        headers = {"Content-Type": "application/json"} if body else {}
        if args.cookie:
            headers["Cookie"] = args.cookie
        turn = random.randrange(len(paths))  # connections and processes start far apart
        while time.perf_counter() < stop:
            started = time.perf_counter()
            turn = (turn + 1) % len(paths)
            try:
                conn.request(args.method, paths[turn], body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == args.expect
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                ok = False
            latencies[i].append(time.perf_counter() - started)
            bad[i] += not ok
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    json.dump({"latencies": [x for xs in latencies for x in xs], "bad": sum(bad),
               "elapsed": time.perf_counter() - started}, sys.stdout)


if __name__ == "__main__":
    _client_main()
