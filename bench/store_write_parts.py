"""What the parts of one `add()` cost: the chunk's summary file and the `.bak` link.

    .venv/bin/python bench/store_write_parts.py [--samples 150]

One store per variant, each seeded with 1,000 dossiers, timed round-robin in one run (so
load hits every variant alike), median of single `add()` calls:
  - what the store does: summary file written without fsync, `.bak` hard link;
  - no summary file at all (the chunk alone, as before summaries existed);
  - the summary file fsynced like the chunk;
  - no `.bak` link.
The variants swap internals of motcua.store.tinydb_store on purpose: this is a
measurement of design choices (docs/store.md, "Durability"), not a use of the store.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import motcua.store.durable as durable  # noqa: E402
import motcua.store.tinydb_store as ts  # noqa: E402
from motcua.store import open_store  # noqa: E402
from store_growth import make_dossier  # noqa: E402

ORIGINAL_WRITE = ts.atomic_write
CHUNK_WRITE = ts.ChunkStorage.write


def chunk_alone(self, data):  # type: ignore[no-untyped-def]
    durable.AtomicJSONStorage.write(self, data)


VARIANTS = {
    "summary not fsynced, .bak link (what we do)": (ORIGINAL_WRITE, CHUNK_WRITE),
    "no summary file at all (before summaries)": (ORIGINAL_WRITE, chunk_alone),
    "summary file fsynced": (lambda *a, **k: ORIGINAL_WRITE(*a, **{**k, "sync": True}), CHUNK_WRITE),
    "no .bak link": (lambda *a, **k: ORIGINAL_WRITE(*a, **{**k, "keep_bak": False}), CHUNK_WRITE),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=150)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="motcua-bench-parts-"))
    try:
        stores = {}
        for i, name in enumerate(VARIANTS):
            store = open_store(work / f"s{i}")
            first = i * 1_000_000
            store.dossiers.add_many([make_dossier(n) for n in range(first, first + 1000)])
            stores[name] = [store, first + 1000]
        times: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for _ in range(args.samples):
            for name, (write, chunk_write) in VARIANTS.items():
                ts.atomic_write, ts.ChunkStorage.write = write, chunk_write
                store, n = stores[name]
                dossier = make_dossier(n)
                stores[name][1] += 1
                t = time.perf_counter()
                store.dossiers.add(dossier)
                times[name].append(time.perf_counter() - t)
        ts.atomic_write, ts.ChunkStorage.write = ORIGINAL_WRITE, CHUNK_WRITE
        base = statistics.median(times["no summary file at all (before summaries)"])
        print(f"median time of one add() with 1,000 stored ({args.samples} samples each, round-robin)")
        for name, samples in times.items():
            median = statistics.median(samples)
            print(f"  {name:45s} {median * 1000:7.2f} ms   x{median / base:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
