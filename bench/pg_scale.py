"""Benchmark: the staff queue and the year statistics on PostgreSQL as history grows.

    .venv/bin/python bench/pg_scale.py [--sizes 1000,100000,1000000] [--per-year 50000] [--repeat 3]

For each size N, a fresh database is bulk-loaded with COPY (rows built by the store's own
`_columns`, so they are what `add` would write), ANALYZEd, and then, in the same run:
  queue: GET /staff/?status=4 through the real Flask app on that database (a logged-in
         officer of one agency): filter, count, sort by due date, render the first page;
  stats: `build_report` for the year 2025 (what /thong-ke and `motcua stats` compute).
History grows at a fixed rate (`--per-year` dossiers a year, ending 31 Dec 2025), so the
year's own volume is the same at 100k and 1M and only older years, all settled, are added:
a flat figure is possible only if neither reads the history. Prints each time and its
ratio to the smallest size's; the last line is the largest over the one before
(the goal: 1M within 2x of 100k). Generating dossiers costs ~0.3 ms each in Python:
1M takes several minutes to load on a loaded 2-core machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import tempfile
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "platform"))

import psycopg  # noqa: E402

from motcua import accounts  # noqa: E402
from motcua.app import create_app  # noqa: E402
from motcua.catalogue import Catalogue  # noqa: E402
from motcua.dossier import Status  # noqa: E402
from motcua.stats import period as periods  # noqa: E402
from motcua.stats.source import build_report  # noqa: E402
from motcua.store.pg_store import _COLUMNS, _columns, migrate  # noqa: E402

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _bench_stats():
    spec = importlib.util.spec_from_file_location("bench_stats", ROOT / "bench" / "stats.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load(url: str, n: int, per_year: int, seed) -> float:
    """COPY `n` dossiers into the (migrated) database; seconds taken."""
    end = datetime(2025, 12, 31, 17, 0, tzinfo=seed.VN)
    start = end - timedelta(days=365 * max(n / per_year, 1 / 365))
    t0 = seed.time.perf_counter()
    with psycopg.connect(url) as conn:
        migrate(conn)
        columns = [c for c in _COLUMNS]
        with conn.cursor() as cur, cur.copy(f"COPY dossiers ({', '.join(columns)}) FROM STDIN") as copy:
            for d in seed.synthetic(n, start=start, end=end, closed_before=datetime(2025, 1, 1, tzinfo=seed.VN)):
                row = _columns(d.model_dump(mode="json"))
                copy.write_row([row[c] for c in columns])
        conn.execute("INSERT INTO sequences (key, n) SELECT split_part(code, '-', 1) || '-' || split_part(code, '-', 2),"
                     " max(split_part(code, '-', 3)::int) FROM dossiers GROUP BY 1 ON CONFLICT DO NOTHING")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE dossiers")
    return seed.time.perf_counter() - t0


def measure(url: str, repeat: int, seed, catalogue: Catalogue) -> tuple[float, float, int]:
    folder = Path(tempfile.mkdtemp(prefix="motcua-bench-pgscale-"))
    app = create_app({"DATA_DIR": str(folder), "SPECS_DIR": str(ROOT / "procedure_specs"), "TESTING": True,
                      "STORE": url})
    store = app.extensions["motcua"].store
    agency = seed.AGENCIES[0]
    password = "mat-khau-bench-queue-1"
    accounts.create_account(store, "bench", "Cán bộ đo", ["desk"], [agency], password)
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/login").get_data(as_text=True)).group(1)
    assert client.post("/staff/login", data={"username": "bench", "password": password,
                                              "csrf_token": token}).status_code == 302

    def first_page() -> None:
        assert client.get(f"/staff/?status={int(Status.PROCESSING)}").status_code == 200

    first_page()  # templates compiled
    year, today = periods.year(2025), date(2026, 1, 15)
    queues, stats = [], []
    for _ in range(repeat):
        queues.append(seed.timed(first_page)[0])
        stats.append(seed.timed(lambda: build_report(store, catalogue, period=year, today=today))[0])
    count = store.dossiers.count()
    store.close()
    return min(queues), min(stats), count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--per-year", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    seed = _bench_stats()
    catalogue = Catalogue.from_folder(ROOT / "procedure_specs")
    results = []
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        for n in sizes:
            name = f"motcua_bench_{uuid.uuid4().hex[:10]}"
            admin.execute(f'CREATE DATABASE "{name}"')
            url = ADMIN.rsplit("/", 1)[0] + "/" + name
            try:
                loaded = load(url, n, args.per_year, seed)
                queue, stats, count = measure(url, args.repeat, seed, catalogue)
            finally:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            results.append((n, queue, stats))
            print(f"{count:>9,} dossiers: loaded (COPY) in {loaded:6.1f} s; staff queue {queue:7.3f} s; "
                  f"year stats {stats:7.3f} s", flush=True)
    base = results[0]
    for n, queue, stats in results:
        print(f"{n:>9,}: queue x{queue / base[1]:6.2f}  stats x{stats / base[2]:6.2f}  (against {base[0]:,})")
    if len(results) > 1:
        (n1, q1, s1), (n2, q2, s2) = results[-2], results[-1]
        print(f"{n2:,} over {n1:,}: queue x{q2 / q1:.2f}, stats x{s2 / s1:.2f} (goal: within 2x)")


if __name__ == "__main__":
    main()
