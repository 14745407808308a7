"""Benchmark: filing throughput with 1, 2, 4 web processes on PostgreSQL, against TinyDB
with 1 process, all measured in the same run.

    .venv/bin/python bench/pg_throughput.py [--procs 1,2,4] [--seconds 8] [--connections 8] [--threads 4]

Each configuration runs real `motcua serve` processes (waitress) on 127.0.0.1, one port
each, sharing one store (a TinyDB folder, or one PostgreSQL database with its files in the
database). The load comes from separate processes: one wrk per server process (or
bench/load.py's client without wrk), the connections split between them, POSTing the
birth-registration filing of bench/portal.py to the JSON API (201 expected). Printed:
filings/s, CPU ms per filing of the web processes (from /proc, PostgreSQL's own CPU not
included), and each ratio against TinyDB with one process.

Database round trips per filing are counted separately: one server is pointed at a small
proxy (in this process) that reads the PostgreSQL wire protocol and counts the client's
simple queries ('Q') and extended-protocol syncs ('S'), each one round trip; 40 filings
are sent one after the other and the count divided by 40.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import urllib.request
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import load  # noqa: E402
import psycopg  # noqa: E402
from pg_wire import CountingProxy  # noqa: E402
from portal import BIRTH, MOTCUA, REPO, Server, cpu_seconds, filing_body, free_port  # noqa: E402

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def serve(data: Path, store: str | None, threads: int) -> Server:
    port = free_port()
    argv = [*MOTCUA, "serve", "--specs", str(REPO / "procedure_specs"), "--data", str(data), "--port", str(port),
            "--threads", str(threads)]  # Server runs it without the in-process job queue
    if store:
        argv += ["--store", store]
    return Server(argv, port)


def run_load(servers: list[Server], seconds: float, connections: int, body: bytes) -> tuple[float, int]:
    """Filings/s summed over the servers (one load process each, at the same time), and
    how many were filed."""
    results: list[load.Result] = []
    per = max(1, connections // len(servers))

    def one(server: Server) -> None:
        results.append(load.measure(f"{server.url}/api/v1/procedures/{BIRTH}/dossiers", seconds, per,
                                    method="POST", body=body, expect=201))

    threads = [threading.Thread(target=one, args=(s,)) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bad = sum(r.bad for r in results)
    if bad:
        raise SystemExit(f"{bad} filings failed or had another status than 201")
    return sum(r.rps for r in results), sum(r.requests for r in results)


def measure(servers: list[Server], args: argparse.Namespace, body: bytes) -> tuple[float, float]:
    """(filings/s, CPU ms per filing of the web processes)."""
    load.measure(f"{servers[0].url}/api/v1/procedures/{BIRTH}/dossiers", 1, 2, method="POST", body=body,
                 expect=201)  # warm: templates, pools, spec cache
    cpu0 = sum(cpu_seconds(s.proc.pid) for s in servers)
    rps, n = run_load(servers, args.seconds, args.connections, body)
    cpu = sum(cpu_seconds(s.proc.pid) for s in servers) - cpu0
    return rps, cpu * 1000 / max(n, 1)


def round_trips(url: str, threads: int, body: bytes, n: int = 40) -> float:
    proxy = CountingProxy()
    db = url.rsplit("/", 1)[1]
    via = proxy.url(db)
    data = Path(tempfile.mkdtemp(prefix="motcua-bench-rt-"))
    server = serve(data, via, threads)
    try:
        target = f"{server.url}/api/v1/procedures/{BIRTH}/dossiers"

        def post() -> None:
            request = urllib.request.Request(target, data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 201

        for _ in range(3):
            post()  # warm: pool filled, spec versions stored
        before = proxy.round_trips
        for _ in range(n):
            post()
        return (proxy.round_trips - before) / n
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--procs", default="1,2,4")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    body = filing_body()
    rows: list[tuple[str, float, float, float | None]] = []

    data = Path(tempfile.mkdtemp(prefix="motcua-bench-tiny-"))
    server = serve(data, None, args.threads)
    try:
        rps, cpu = measure([server], args, body)
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
    rows.append(("TinyDB, 1 process", rps, cpu, None))
    print(f"{rows[-1][0]:<26} {rps:8.1f} filings/s  {cpu:7.2f} CPU ms/filing", flush=True)

    with psycopg.connect(ADMIN, autocommit=True) as admin:
        name = f"motcua_bench_{uuid.uuid4().hex[:10]}"
        admin.execute(f'CREATE DATABASE "{name}"')
        url = ADMIN.rsplit("/", 1)[0] + "/" + name
        try:
            trips = round_trips(url, args.threads, body)
            for procs in [int(p) for p in args.procs.split(",")]:
                data = Path(tempfile.mkdtemp(prefix="motcua-bench-pg-"))
                servers = []
                try:
                    for _ in range(procs):
                        servers.append(serve(data, url, args.threads))
                    rps, cpu = measure(servers, args, body)
                finally:
                    for s in servers:
                        s.stop()
                    shutil.rmtree(data, ignore_errors=True)
                rows.append((f"PostgreSQL, {procs} process{'es' if procs > 1 else ''}", rps, cpu, trips))
                print(f"{rows[-1][0]:<26} {rps:8.1f} filings/s  {cpu:7.2f} CPU ms/filing", flush=True)
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

    base = rows[0][1]
    print(f"\n{'':<26} {'filings/s':>10} {'ratio':>7} {'CPU ms/filing':>14} {'DB round trips/filing':>22}")
    for label, rps, cpu, trips in rows:
        shown = f"{trips:.1f}" if trips is not None else "-"
        print(f"{label:<26} {rps:10.1f} {rps / base:7.2f} {cpu:14.2f} {shown:>22}")
    print(f"(ratios against TinyDB with 1 process, same run; load: "
          f"{'wrk' if shutil.which('wrk') else 'python client'}, {args.connections} connections, "
          f"{args.seconds:g} s each; waitress {args.threads} threads per process)")


if __name__ == "__main__":
    main()
