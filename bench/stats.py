"""Benchmark: the year dashboard over 100,000 stored dossiers, against reading them once.

    .venv/bin/python bench/stats.py [--n 100000] [--data DIR] [--offices 190]

Seeds N dossiers (fast path: `store.dossiers.add_many`, which writes each partition once
per call instead of once per dossier) spread over 2024-2025 with every channel and outcome,
then times, in the same run:
  read:      list(store.dossiers.all())                  (the baseline: every dossier once)
  dashboard: build_report(...) for the year 2025           (what a page request costs)
  summaries: list(store.dossiers.summaries())             (the store's part of it)
  compute:   compute(...) over summaries already in memory (the statistics' own part)
and prints each time and the ratio to read. The goal (issue 6): dashboard under one second
at 100,000 dossiers. With --data DIR an existing seeded folder is reused (seeding is
skipped when it already holds N dossiers). With --offices K the dossiers are spread over K
commune offices (a province's registry has about 190) instead of the four of the shipped
specs: the report's per-agency and per-tier breakdown and the communes' quarterly form then
have K lines, and the `by_agency` line shows how many.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "platform"))

from motcua.catalogue import Catalogue  # noqa: E402
from motcua.dossier import Contact, Dossier, Event, Status  # noqa: E402
from motcua.stats import period as periods  # noqa: E402
from motcua.stats.report import compute  # noqa: E402
from motcua.stats.source import build_report  # noqa: E402
from motcua.store import open_store  # noqa: E402

VN = ZoneInfo("Asia/Ho_Chi_Minh")
AGENCIES = ["000.00.31.H12", "000.05.21.H12", "000.08.35.H15", "000.06.35.H15"]
PROCEDURES = ["1.001193", "1.000894", "2.000815", "1.002804", "2.000488", "1.001612"]
CHANNELS = ["online", "online", "desk", "desk", "desk", "postal"]


def office_codes(k: int) -> list[str]:
    """K agency codes: the shipped specs' four, then synthetic commune offices."""
    return AGENCIES[:k] + [f"000.{i // 100:02d}.{i % 100:02d}.H48" for i in range(max(0, k - len(AGENCIES)))]


def synthetic(n: int, seed: int = 766, start: datetime | None = None, end: datetime | None = None,
              closed_before: datetime | None = None, agencies: list[str] = AGENCIES):
    """N dossiers filed between `start` and `end` (default 2024-2025), most of them settled;
    every one filed before `closed_before` is settled and returned (old history)."""
    rng = random.Random(seed)
    start = start or datetime(2024, 1, 1, 7, 30, tzinfo=VN)
    span = ((end or datetime(2025, 12, 31, 17, 0, tzinfo=VN)) - start).total_seconds()
    per_day: dict[tuple[str, date], int] = {}
    moments = sorted(start + timedelta(seconds=rng.random() * span) for _ in range(n))
    for filed in moments:
        agency = rng.choice(agencies)
        key = (agency, filed.date())
        per_day[key] = per_day.get(key, 0) + 1
        d = Dossier(
            code=f"{agency}-{filed:%y%m%d}-{per_day[key]:04d}",
            procedure_code=rng.choice(PROCEDURES),
            spec_version="2025.1",
            agency_code=agency,
            channel=rng.choice(CHANNELS),
            contact=Contact(name="Nguyễn Văn A", phone="0912345678"),
            filed_at=filed,
            due_date=(filed + timedelta(days=rng.randint(1, 20))).date(),
            data={"note": "x" * 200},
        )
        d.record(Event(at=filed, actor="citizen", kind="filed", status=Status.NEW))
        t = filed + timedelta(hours=2)
        d.record(Event(at=t, actor="staff:a", kind="received", status=Status.RECEIVED))
        d.record(Event(at=t + timedelta(hours=1), actor="staff:a", kind="processing", status=Status.PROCESSING))
        outcome = rng.random()
        if outcome < 0.1:
            d.record(Event(at=t + timedelta(days=2), actor="staff:a", kind="supplement", status=Status.SUPPLEMENT_REQUESTED))
            d.record(Event(at=t + timedelta(days=4), actor="citizen", kind="supplemented", status=Status.PROCESSING))
        if closed_before is not None and filed < closed_before and outcome >= 0.9:
            outcome = 0.5  # a year long past: nothing is still open
        if outcome < 0.85:
            done = t + timedelta(days=rng.randint(1, 25))
            d.record(Event(at=done, actor="staff:b", kind="finished", status=Status.FINISHED))
            d.record(Event(at=done + timedelta(days=1), actor="staff:a", kind="returned", status=Status.RETURNED))
        elif outcome < 0.9:
            d.record(Event(at=t + timedelta(days=1), actor="staff:a", kind="refused", status=Status.REFUSED))
        elif outcome < 0.93:
            d.record(Event(at=t + timedelta(days=1), actor="citizen", kind="withdrawn", status=Status.WITHDRAWN))
        yield d


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--offices", type=int, default=len(AGENCIES))
    args = parser.parse_args()
    folder = args.data or Path(tempfile.mkdtemp(prefix="motcua-bench-stats-"))
    store = open_store(folder)
    catalogue = Catalogue.from_folder(ROOT / "procedure_specs")
    if store.dossiers.count() < args.n:
        seconds, _ = timed(lambda: store.dossiers.add_many(
            synthetic(args.n - store.dossiers.count(), agencies=office_codes(args.offices))))
        print(f"seeded {args.n:,} dossiers in {seconds:.1f} s into {folder}")
    year = periods.year(2025)
    today = date(2026, 1, 15)
    reads, dashboards, sums, computes = [], [], [], []
    for _ in range(args.repeat):
        t_read, loaded = timed(lambda: list(store.dossiers.all()))
        del loaded
        t_dash, report = timed(lambda: build_report(store, catalogue, period=year, today=today))
        t_sum, summaries = timed(lambda: list(store.dossiers.summaries()))
        t_comp, _r = timed(lambda: compute(summaries, period=year, today=today, specs=catalogue))
        reads.append(t_read)
        dashboards.append(t_dash)
        sums.append(t_sum)
        computes.append(t_comp)
        del summaries
    read, dash, summ, comp = min(reads), min(dashboards), min(sums), min(computes)
    t = report.totals
    print(f"dossiers: {store.dossiers.count():,}; "
          f"year 2025: received {t.received:,}, settled {t.settled:,}, on-time {t.on_time_rate}%, open {t.open:,}")
    print(f"by_agency: {len(report.by_agency)} offices, by_tier: {len(report.by_tier)} tiers, "
          f"communes' quarterly form: {len(report.commune_online)} lines")
    print(f"read all dossiers (baseline)   {read:7.3f} s")
    print(f"year dashboard                 {dash:7.3f} s   ratio dashboard/read = {dash / read:.3f}")
    print(f"  of which: read summaries     {summ:7.3f} s   ratio summaries/read = {summ / read:.3f}")
    print(f"            pass over them     {comp:7.3f} s   ratio compute/read   = {comp / read:.3f}")
    print(f"(best of {args.repeat}; dashboard under one second: {'yes' if dash < 1 else 'NO'})")
    store.close()


if __name__ == "__main__":
    main()
