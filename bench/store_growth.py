"""Does filing a dossier cost the same with 100,000 stored as with 1,000?

Measures, in one run, the median time of one `add()` at 1k, 10k and 100k dossiers stored:
  - Motcua's store (motcua.store, partitioned TinyDB, fsynced atomic writes);
  - plain TinyDB: one file with the stock JSONStorage (rewrites the whole file in place).
and prints the ratios 100k/1k for each and ours/plain at each size.

There is one store per size, seeded up front, and the timed adds go round-robin over the
sizes, so a noisy neighbour (other processes, disk writeback) hits every size alike.
Seeding is not timed and is done in bulk, honestly but not through `add()`:
  - ours through the documented bulk path `store.dossiers.add_many()` (one write per
    partition per batch, same files and index as `add()` writes);
  - plain by writing its single JSON file directly in TinyDB's own format.
Every seeded dossier is filed in the same month as the timed ones (the worst case for a
layout partitioned by month). Plain TinyDB needs seconds per insert at 100k, so it is
sampled fewer times there; the output says how many samples each figure is from.

Run: .venv/bin/python bench/store_growth.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

from tinydb import TinyDB

from motcua.dossier import AttachmentRef, Contact, Dossier, Event, Status
from motcua.store import open_store

SIZES = [1_000, 10_000, 100_000]
OURS_SAMPLES = 200
PLAIN_SAMPLES = {1_000: 100, 10_000: 10, 100_000: 3}
FILED_AT = datetime.now(timezone.utc)


def make_dossier(n: int) -> Dossier:
    """A realistic birth registration dossier (about 1.3 kB of JSON)."""
    return Dossier(
        code=f"000.00.01.H56-250510-{n:06d}",
        procedure_code="dang-ky-khai-sinh",
        spec_version="2025.1",
        agency_code="000.00.01.H56",
        channel="online",
        data={
            "child": {"full_name": "Nguyễn Văn An", "birth_date": "2025-04-01", "sex": "nam",
                      "birth_place": "Bệnh viện Phụ sản Hà Nội"},
            "father": {"full_name": "Nguyễn Văn Bình", "cccd": "001085012345", "nationality": "VN"},
            "mother": {"full_name": "Trần Thị Cúc", "cccd": "001090054321", "nationality": "VN"},
            "applicant_relation": "cha",
            "copies": 2,
            "n": n,
        },
        attachments=[AttachmentRef(component="giay_chung_sinh", file_id="a" * 64, filename="giay-chung-sinh.pdf",
                                   content_type="application/pdf", size=123456, sha256="a" * 64)],
        contact=Contact(name="Nguyễn Văn Bình", phone="0912345678", cccd="001085012345", email="binh@example.vn"),
        fees=[{"label": {"vi": "Lệ phí", "en": "Fee"}, "amount": 0},
              {"label": {"vi": "Bản sao", "en": "Copies"}, "amount": 16000}],
        fee_total=16000,
        filed_at=FILED_AT,
        due_date=date(2025, 5, 12),
        events=[Event(actor="citizen", kind="filed", status=Status.NEW, at=FILED_AT)],
    )


class Ours:
    def __init__(self, folder: Path) -> None:
        self.store = open_store(folder)
        self.n = 0

    def seed_to(self, size: int) -> None:
        while self.n < size:
            batch = [make_dossier(i) for i in range(self.n, min(size, self.n + 20000))]
            self.store.dossiers.add_many(batch)
            self.n += len(batch)

    def time_add(self) -> float:
        dossier = make_dossier(self.n)
        t = time.perf_counter()
        self.store.dossiers.add(dossier)
        elapsed = time.perf_counter() - t
        self.n += 1
        return elapsed


class Plain:
    def __init__(self, folder: Path) -> None:
        folder.mkdir()
        self.path = folder / "plain.json"
        self.n = 0

    def seed_to(self, size: int) -> None:
        """Write TinyDB's file format directly: {"_default": {"<doc_id>": doc, ...}}."""
        table = {str(i + 1): make_dossier(i).model_dump(mode="json") for i in range(size)}
        self.path.write_text(json.dumps({"_default": table}), encoding="utf-8")
        self.n = size
        self.db = TinyDB(self.path)  # stock JSONStorage, one file, kept open as a server would

    def time_add(self) -> float:
        doc = make_dossier(self.n).model_dump(mode="json")
        t = time.perf_counter()
        self.db.insert(doc)
        elapsed = time.perf_counter() - t
        self.n += 1
        return elapsed


def interleaved(stores: dict[int, Ours | Plain], samples: dict[int, int]) -> dict[int, list[float]]:
    """Time one add per store per round, round-robin, so every size sees the same load."""
    times: dict[int, list[float]] = {size: [] for size in stores}
    for round_ in range(max(samples.values())):
        for size, store in stores.items():
            if round_ < samples[size]:
                times[size].append(store.time_add())
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k only (a smoke run)")
    args = parser.parse_args()
    sizes = SIZES[:2] if args.quick else SIZES
    work = Path(tempfile.mkdtemp(prefix="motcua-bench-"))
    try:
        started = time.perf_counter()
        ours = {size: Ours(work / f"ours-{size}") for size in sizes}
        plain = {size: Plain(work / f"plain-{size}") for size in sizes}
        for size in sizes:
            t = time.perf_counter()
            ours[size].seed_to(size)
            plain[size].seed_to(size)
            print(f"  seeded {size:>7,} dossiers in each store in {time.perf_counter() - t:.1f}s", flush=True)
        # Flush what seeding left in the page cache, so no sample pays for it.
        os.sync()
        o = interleaved(ours, {size: OURS_SAMPLES for size in sizes})
        os.sync()
        p = interleaved(plain, {size: PLAIN_SAMPLES[size] for size in sizes})
        rows = [(size, statistics.median(o[size]), len(o[size]), statistics.median(p[size]), len(p[size])) for size in sizes]

        print()
        print("Median time to file one dossier (one store per size, timed round-robin; each sample adds one)")
        print(f"{'stored':>9} | {'ours (ms)':>10} {'n':>4} | {'plain TinyDB (ms)':>18} {'n':>4} | {'ours/plain':>10}")
        for size, om, on, pm, pn in rows:
            print(f"{size:>9,} | {om * 1000:>10.2f} {on:>4} | {pm * 1000:>18.2f} {pn:>4} | {om / pm:>10.3f}")
        first, last = rows[0], rows[-1]
        label = f"{last[0] // 1000}k/{first[0] // 1000}k"
        print()
        print(f"growth {label}: ours {last[1] / first[1]:.2f}x (goal <= 2), plain TinyDB {last[3] / first[3]:.1f}x")
        print("Both fsync: plain TinyDB its one file, rewritten in place (a crash mid-write breaks it);")
        print("ours one journal line (fdatasync), folded later into the chunk and the code's index file")
        print("(the fold's own cost against the store's size: bench/filing_fold.py --seed).")
        print(f"total {time.perf_counter() - started:.0f}s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
