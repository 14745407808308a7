"""Benchmark: the staff queue's first page over 100,000 stored dossiers, against reading them once.

    .venv/bin/python bench/staff_queue.py [--n 100000] [--data DIR] [--repeat 3]

Seeds N dossiers exactly as bench/stats.py does (its `synthetic` generator, imported, and
`store.dossiers.add_many`), then, in the same run:
  read:  list(store.dossiers.all())      (the baseline: every dossier once, which is what the
                                          queue cost before it filtered on summaries)
  queue: GET /staff/?status=4 through the real Flask app (test client, logged-in officer of
         one agency): filter, count, sort by due date, and render the first page
and prints both times and the ratio queue/read. With --data DIR an existing seeded folder
is reused (seeding is skipped when it already holds N dossiers).
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "platform"))

from motcua import accounts  # noqa: E402
from motcua.app import create_app  # noqa: E402
from motcua.dossier import Status  # noqa: E402


def _bench_stats():
    """bench/stats.py as a module (bench/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("bench_stats", ROOT / "bench" / "stats.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    seed = _bench_stats()
    timed = seed.timed
    folder = args.data or Path(tempfile.mkdtemp(prefix="motcua-bench-queue-"))
    app = create_app({"DATA_DIR": str(folder), "SPECS_DIR": str(ROOT / "procedure_specs"), "TESTING": True})
    store = app.extensions["motcua"].store
    if store.dossiers.count() < args.n:
        seconds, _ = timed(lambda: store.dossiers.add_many(seed.synthetic(args.n - store.dossiers.count())))
        print(f"seeded {args.n:,} dossiers in {seconds:.1f} s into {folder}")

    agency = seed.AGENCIES[0]
    password = "mat-khau-bench-queue-1"
    if accounts.get_account(store, "bench") is None:  # else made by an earlier run on --data
        accounts.create_account(store, "bench", "Cán bộ đo", ["desk"], [agency], password)
    client = app.test_client()
    login_page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    response = client.post("/staff/login", data={"username": "bench", "password": password, "csrf_token": token})
    assert response.status_code == 302, "bench officer could not log in"

    url = f"/staff/?status={int(Status.PROCESSING)}"

    def first_page() -> str:
        response = client.get(url)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    cold, page = timed(first_page)  # templates compiled, summaries read from disk cache
    reads, queues = [], []
    for _ in range(args.repeat):
        t_read, loaded = timed(lambda: list(store.dossiers.all()))
        del loaded
        t_queue, page = timed(first_page)
        reads.append(t_read)
        queues.append(t_queue)
    read, queue = min(reads), min(queues)
    shown = len(re.findall(r'<th scope="row"><a href="/staff/ho-so/', page))
    total = re.search(r'role="status">(\d+)', page)
    print(f"dossiers: {store.dossiers.count():,}; queue {url} for agency {agency}: "
          f"{total.group(1) if total else '?'} match, {shown} shown on page 1")
    print(f"read all dossiers (baseline)    {read:7.3f} s")
    print(f"staff queue, first page         {queue:7.3f} s   ratio queue/read = {queue / read:.3f}")
    print(f"(best of {args.repeat}; first request of the run: {cold:.3f} s)")
    store.close()


if __name__ == "__main__":
    main()
