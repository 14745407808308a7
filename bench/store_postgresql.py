"""The PostgreSQL store against the embedded one (the baseline), measured in the same run.

For each store, with N dossiers seeded through `add_many` (not timed): the median time of
one filing (`next_code` + `add`), of one `update` appending an event, of `get`, and the
time of reading every summary (what a statistics dashboard does). Timed operations go
round-robin over the two stores so a noisy neighbour hits both alike. Prints each figure
and the ratio PostgreSQL / TinyDB.

Needs PostgreSQL at MOTCUA_TEST_PG (default postgresql://postgres@127.0.0.1:5432/postgres,
as the tests); a database of its own is created and dropped.

Run: .venv/bin/python bench/store_postgresql.py [--seed N] [--samples K]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import psycopg

from motcua.dossier import Contact, Dossier, Event, Status
from motcua.store import open_store

ADMIN = os.environ.get("MOTCUA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
START = datetime(2025, 1, 1, tzinfo=timezone.utc)


def dossier(code: str, i: int) -> Dossier:
    return Dossier(
        code=code, procedure_code="dang-ky-khai-sinh", spec_version="1", agency_code="H56", channel="online",
        contact=Contact(name="Nguyễn Thị Hồng", phone="0912345678"),
        data={"child": {"full_name": "Trần Minh Khôi"}, "note": "ý kiến " * 60},
        filed_at=START + timedelta(minutes=7 * i), events=[Event(actor="citizen", kind="filed", status=Status.NEW)],
    )


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    name = f"motcua_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            with tempfile.TemporaryDirectory() as tmp:
                stores = {
                    "tinydb": open_store(Path(tmp) / "tiny"),
                    "postgresql": open_store(ADMIN.rsplit("/", 1)[0] + "/" + name, Path(tmp) / "pg"),
                }
                try:
                    run(stores, args.seed, args.samples)
                finally:
                    for store in stores.values():
                        store.close()
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def run(stores: dict, seed: int, samples: int) -> None:
    for store in stores.values():
        for start in range(0, seed, 2000):
            store.dossiers.add_many([dossier(f"S-{i:07d}", i) for i in range(start, min(seed, start + 2000))])
    results: dict[str, dict[str, list[float]]] = {k: {"file": [], "update": [], "get": []} for k in stores}
    day = date(2025, 6, 1)
    for n in range(samples):
        for kind, store in stores.items():
            def file() -> None:
                code = store.dossiers.next_code("H56", day)
                store.dossiers.add(dossier(code, seed + n))
            results[kind]["file"].append(timed(file))
            code = f"S-{(n * 7919) % seed:07d}"
            results[kind]["update"].append(timed(lambda: store.dossiers.update(
                code, lambda d: d.record(Event(actor="system", kind="note")))))
            results[kind]["get"].append(timed(lambda: store.dossiers.get(code)))
    reads = {kind: min(timed(lambda: sum(1 for _ in store.dossiers.summaries())) for _ in range(2))
             for kind, store in stores.items()}
    print(f"{seed} dossiers seeded, {samples} samples per operation (median), best of 2 for summaries")
    print(f"{'':24}{'tinydb':>12}{'postgresql':>12}{'ratio pg/tiny':>15}")
    for op in ("file", "update", "get"):
        tiny, pg = (statistics.median(results[k][op]) for k in ("tinydb", "postgresql"))
        print(f"{op + ' (ms)':24}{tiny * 1e3:12.2f}{pg * 1e3:12.2f}{pg / tiny:15.2f}")
    tiny, pg = reads["tinydb"], reads["postgresql"]
    print(f"{'all summaries (s)':24}{tiny:12.3f}{pg:12.3f}{pg / tiny:15.2f}")


if __name__ == "__main__":
    sys.exit(main())
