"""Benchmark (issue 17): the portal's pages, search, filing, start-up and validation, each
against a baseline measured in the same run, with the goal beside it.

    .venv/bin/python bench/portal.py [--seconds 4] [--connections 8] [--threads 8] [--only NAME ...]

Servers are real processes on 127.0.0.1: `motcua serve` (the shipped specs, then a second
one with 2,000 specs made from them by bench/specgen.py) beside a bare Flask app on waitress
with the same thread count (bench/bare_app.py). The load comes from another process: wrk
when installed (`apt-get install wrk`), else bench/load.py's multi-process client. Each
line prints req/s, p50/p99 latency, the ratio to the bare route and the goal.

Start-up and validation are timed here (no HTTP load): start-up from the process's spawn
to its first answered request, against the bare app's; validation of a 50-field
conditional submission, against jsonschema alone. The 2,000 specs and their lint cache are
kept in .bench-cache/ so later runs only measure a warm start (the first run lints them all
and prints that cold start too).
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from urllib.parse import urlencode
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import load  # noqa: E402
import specgen  # noqa: E402
from motcua.catalogue import CACHE_FILE  # noqa: E402

BIRTH = "1.001193"
CACHE = REPO / ".bench-cache"
MOTCUA = [str(Path(sys.executable).parent / "motcua")]  # the console script, as an administrator runs it
LINES: list[str] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float) -> float:
    """Seconds until `url` answers 200 (the process was just spawned)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"{url} did not answer within {timeout:g} s")


class Server:
    """A server process on 127.0.0.1, stopped (SIGTERM) when the bench ends."""

    def __init__(self, argv: list[str], port: int, timeout: float = 120) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        spawned = time.perf_counter()
        # no in-process job queue: the bench measures serving, as the old "--outbox-interval 0" did
        self.proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env={**os.environ, "MOTCUA_JOBS_IN_PROCESS": "false"})
        wait_ready(self.url + "/", self.proc, timeout)
        self.startup = time.perf_counter() - spawned
        self.startup_cpu = cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used (Linux /proc; NaN elsewhere): on a
    machine others are loading, the start-up's own cost beside its wall time."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def bare(threads: int) -> Server:
    port = free_port()
    return Server([sys.executable, str(BENCH / "bare_app.py"), "--port", str(port), "--threads", str(threads)], port)


def motcua(specs: Path, data: Path, threads: int, timeout: float = 120) -> Server:
    port = free_port()
    return Server([*MOTCUA, "serve", "--specs", str(specs), "--data", str(data), "--port", str(port),
                   "--threads", str(threads)], port, timeout)


def line(name: str, value: str, ratio: float | None, base: str, goal: str, met: bool | None) -> None:
    verdict = "" if met is None else ("ok" if met else "MISSED")
    ratio_text = f"ratio {ratio:6.3f} of {base}" if ratio is not None else " " * 8 + base
    text = f"  {name:<34} {value:<58} {ratio_text:<44} goal {goal:<14} {verdict}"
    LINES.append(text)
    print(text, flush=True)


def measured(server: Server, url: str, seconds: float, connections: int, **kw: object) -> load.Result:
    """`load.measure` of `url`, with `server`'s own CPU per request (from /proc): on a machine
    others load, req/s swings with their work, CPU per request much less."""
    before = cpu_seconds(server.proc.pid)
    result = load.measure(url, seconds, connections, **kw)  # type: ignore[arg-type]
    spent = cpu_seconds(server.proc.pid) - before
    return dataclasses.replace(result, server_cpu_ms=spent * 1000 / max(1, result.requests))


def http_line(name: str, result: load.Result, baseline: load.Result | None, base: str, goal: float | None) -> None:
    """One line: req/s, latency, the server's CPU per request; the ratio of req/s to the
    baseline's (the goal's measure) and, in brackets, the ratio of their CPU per request."""
    if result.bad:
        raise SystemExit(f"{name}: {result.bad} of {result.requests} requests failed or had an unexpected status")
    value = f"{result.rps:8.1f} req/s  p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms  {result.server_cpu_ms:5.2f} ms CPU"
    ratio = result.rps / baseline.rps if baseline else None
    if baseline is not None and result.server_cpu_ms == result.server_cpu_ms and result.server_cpu_ms > 0:
        base += f" (CPU {baseline.server_cpu_ms / result.server_cpu_ms:.2f})"
    line(name, value, ratio, base, f">= {goal:g}" if goal else "1 (baseline)", (ratio >= goal) if goal and ratio else None)


def session_cookie(url: str) -> str:
    """The session cookie a first visit to `url` sets (a returning visitor sends it back)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        for header in response.headers.get_all("Set-Cookie") or []:
            if header.startswith("session="):
                return header.split(";", 1)[0]
    raise SystemExit(f"{url} set no session cookie")


def filing_body() -> bytes:
    sys.path.insert(0, str(REPO / "tests"))
    from portal_helpers import small_pdf

    return json.dumps({
        "agency": "000.06.50.H15",  # births are filed with a commune office of the registry
        "answers": {
            "requester": {"full_name": "Lê Thị Hoa", "cccd": "079190012345", "phone": "0987654321", "relation": "me"},
            "child": {"full_name": "Lê Gia Bảo", "birth_date": "2025-05-20", "sex": "nam", "ethnicity": "Kinh",
                      "nationality": "Việt Nam", "birth_place": "Bệnh viện Từ Dũ"},
            "mother": {"full_name": "Lê Thị Hoa", "birth_year": 1992},
            "has_father": False,
            "birth_proof": "giay_chung_sinh",
            "extract_copies": 1,
        },
        "delivery": {"kind": "desk"},
        "attachments": [{"component": "giay_chung_sinh", "filename": "cs.pdf",
                         "content_base64": base64.b64encode(small_pdf()).decode()}],
    }).encode()


# --- the benches ------------------------------------------------------------------------------


def bench_pages(args: argparse.Namespace, bare_server: Server) -> None:
    def run(server: Server, url: str, **kw: object) -> load.Result:
        return measured(server, url, args.seconds, args.connections, **kw)

    with tempfile.TemporaryDirectory() as tmp:
        portal = motcua(REPO / "procedure_specs", Path(tmp) / "data", args.threads)
        try:
            for path in ("/", f"/thu-tuc/{BIRTH}", f"/thu-tuc/{BIRTH}/nop", "/?q=dang+ky+khai+sinh"):
                load.measure(portal.url + path, 1, 2)  # warm up: templates compiled, caches filled
            # each line's baseline is measured right before it: on a shared machine the load
            # moves between lines, and the ratio should compare like with like
            def vs_bare(name: str, url: str, goal: float, **kw: object) -> None:
                post = kw.get("method") == "POST"
                base = run(bare_server, bare_server.url + ("/post" if post else "/"), **{k: v for k, v in kw.items() if k != "cookie"})
                http_line(f"  bare Flask {'POST (same body)' if post else 'GET'}", base, None, "", None)
                http_line(name, run(portal, url, **kw), base, "bare POST" if post else "bare GET", goal)

            if args.wants("pages"):
                vs_bare("catalogue /", portal.url + "/", 0.33)
                vs_bare("search /?q=dang ky khai sinh", portal.url + "/?q=dang+ky+khai+sinh", 0.2)
                vs_bare("procedure page", f"{portal.url}/thu-tuc/{BIRTH}", 0.33)
                form = f"{portal.url}/thu-tuc/{BIRTH}/nop"
                vs_bare("form page /nop, new visitor", form, 0.33)
                vs_bare("form page /nop, with a session", form, 0.33, cookie=session_cookie(form))
            if args.wants("filing"):
                vs_bare("file a dossier (API)", f"{portal.url}/api/v1/procedures/{BIRTH}/dossiers", 0.1,
                        method="POST", body=filing_body(), expect=201)
        finally:
            portal.stop()


def bench_many(args: argparse.Namespace, bare_server: Server) -> None:
    specs, data = CACHE / f"specs-{args.many}", CACHE / f"data-{args.many}"
    specgen.many_specs(specs, args.many)
    cold = not (data / CACHE_FILE).exists()
    if cold:
        print(f"  (first run: linting {args.many} specs once; later runs start from the cache in {data})", flush=True)
        server = motcua(specs, data, args.threads, timeout=1800)
        server.stop()
        line(f"start-up, {args.many} specs, cold", f"{server.startup:8.2f} s wall, {server.startup_cpu:.1f} s CPU (all linted)",
             None, "", "-", None)
    bare_starts = []
    for _ in range(2):
        b = bare(args.threads)
        bare_starts.append((b.startup, b.startup_cpu))
        b.stop()
    starts = []
    for _ in range(3):
        server = motcua(specs, data, args.threads)
        starts.append((server.startup, server.startup_cpu))
        server.stop()
    (warm, warm_cpu), (bare_wall, bare_cpu) = min(starts), min(bare_starts)
    line(f"start-up, {args.many} specs", f"{warm:8.2f} s wall, {warm_cpu:.2f} s CPU (bare app: {bare_wall:.2f} s, {bare_cpu:.2f} s CPU)",
         bare_wall / warm, "bare start", "< 3 s", warm < 3)

    if not args.wants("search"):
        return
    query = "cap lai giay phep lai xe"
    # a different search each request: the answer is drawn, not the kept page of a repeated query
    varied = [f"/?q={urlencode({'q': q})[2:]}" for q in specgen.queries()]
    server = motcua(specs, data, args.threads)
    try:
        load.measure(f"{server.url}/?q=ubnd", 1, 2)
        for name, url, goal, paths in (
                (f"search, {args.many} procedures", f"{server.url}/?q={query.replace(' ', '+')}", 0.2, None),
                (f"search, {args.many}, a new query each", server.url + "/", 0.2, varied),
                (f"catalogue page 1, {args.many}", f"{server.url}/", 0.33, None)):
            base_get = measured(bare_server, bare_server.url + "/", args.seconds, args.connections)
            http_line("  bare Flask GET", base_get, None, "", None)
            http_line(name, measured(server, url, args.seconds, args.connections, paths=paths), base_get, "bare GET", goal)
    finally:
        server.stop()

    # server time of one query, in this process: the search alone and the whole page
    from motcua.app import create_app
    from motcua.search import Filters, search

    app = create_app({"SPECS_DIR": str(specs), "DATA_DIR": str(data), "PUBLIC_URL": "http://127.0.0.1"})
    catalogue = app.extensions["motcua"].catalogue
    client = app.test_client(use_cookies=False)

    def server_time(fn, n: int) -> tuple[float, float]:
        """Median CPU and wall milliseconds of fn() in this process."""
        cpu, wall = [], []
        for _ in range(n):
            c, w = time.process_time(), time.perf_counter()
            fn()
            cpu.append(time.process_time() - c)
            wall.append(time.perf_counter() - w)
        return statistics.median(cpu) * 1000, statistics.median(wall) * 1000

    drawn = iter(range(10**9))

    def page(q: str) -> None:
        # the Host must be PUBLIC_URL's: another is refused with a 400 (a cheap page to time);
        # an unread argument makes each address new, so the page is drawn, never the kept one
        response = client.get(f"/?q={q}&n={next(drawn)}", base_url="http://127.0.0.1")
        if response.status_code != 200:
            raise SystemExit(f"search page answered {response.status_code}, not 200")

    for q in (query, "ubnd"):
        found = search(catalogue, Filters(q=q))
        q_cpu, q_wall = server_time(lambda: search(catalogue, Filters(q=q)), 200)
        p_cpu, p_wall = server_time(lambda: page(q), 100)
        line(f"  query {q!r}, {args.many}", f"{q_cpu:6.2f} ms CPU search, {p_cpu:.2f} ms CPU page drawn ({len(found)} found)",
             None, f"wall {q_wall:.2f} / {p_wall:.2f} ms", "< 5 ms", p_cpu < 5)


def bench_validation(args: argparse.Namespace) -> None:
    from motcua import submission
    from motcua.answer_limits import bounded_validator
    from motcua.formats import format_checker

    spec, answers = specgen.wide_spec()
    assert submission.validate(spec, answers) == {}, "the bench's answers must be valid"
    full = bounded_validator(submission.submission_schema(spec), format_checker=format_checker())

    ours = median_ms(lambda: submission.validate(spec, answers), 300, warm=True)
    base = median_ms(lambda: list(full.iter_errors(answers)), 100, warm=True)
    line("validate 50 conditional fields", f"{ours:8.3f} ms (jsonschema alone: {base:.3f} ms)", base / ours,
         "jsonschema's speed", "< 1 ms", ours < 1)


def median_ms(fn, n: int, clock=time.perf_counter, warm: bool = False) -> float:
    """Median milliseconds of `n` calls of fn() on `clock` (`warm`: one call first, not counted)."""
    if warm:
        fn()
    samples = []
    for _ in range(n):
        started = clock()
        fn()
        samples.append(clock() - started)
    return statistics.median(samples) * 1000


def bench_app_factory(runs: int = 15) -> None:
    """`create_app` as the test suite calls it (the shipped specs, a new data folder each
    time, in one process: lint results are kept in it), against building the bare app.
    Median CPU milliseconds in this process; the first app (imports, first lint) is left out.
    URL builders are kept per rule as tests/conftest.py keeps them (tests/route_builders.py)."""
    import bare_app
    from motcua.app import create_app

    sys.path.insert(0, str(REPO))
    from tests import route_builders

    route_builders.install()

    logging.disable(logging.WARNING)  # each app's start warnings (no payment gateway configured ...)
    with tempfile.TemporaryDirectory() as tmp:
        made = iter(range(10 ** 6))

        def ours() -> None:
            app = create_app({"DATA_DIR": f"{tmp}/{next(made)}", "SPECS_DIR": str(REPO / "procedure_specs"), "TESTING": True})
            app.extensions["motcua"].store.close()

        ours()
        mine, base = median_ms(ours, runs, time.process_time), median_ms(bare_app.make_app, runs, time.process_time)
    logging.disable(logging.NOTSET)
    line("create_app, shipped specs (tests)", f"{mine:8.1f} ms CPU (bare Flask app: {base:.2f} ms)", base / mine,
         "bare app", "-", None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--many", type=int, default=2000, help="procedures of the search and start-up benches")
    parser.add_argument("--only", nargs="*", default=[], choices=["pages", "filing", "search", "startup", "validation"])
    args = parser.parse_args()
    args.wants = lambda name: not args.only or name in args.only
    tool = "wrk" if shutil.which("wrk") else "bench/load.py (multi-process Python client)"
    print(f"portal bench: {args.seconds:g} s a line, {args.connections} connections from {tool}, "
          f"waitress {args.threads} threads; {os.cpu_count()} CPUs, {cpu_model()}", flush=True)
    bare_server = bare(args.threads)
    try:
        if args.wants("pages") or args.wants("filing"):
            bench_pages(args, bare_server)
        if args.wants("search") or args.wants("startup"):
            bench_many(args, bare_server)
    finally:
        bare_server.stop()
    if args.wants("startup"):
        bench_app_factory()
    if args.wants("validation"):
        bench_validation(args)


def cpu_model() -> str:
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                return row.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
