"""Working days (ngày làm việc): due dates skip weekends and the year's days off.

The calendar is data (`data/holidays.yaml`, or a file named by the app config
`HOLIDAYS_FILE`), because lunar holidays and the yearly day swaps change every year.
Same-day procedures: a dossier received after 15:00 is due the next working day.
A year missing from the data is counted with weekends only, and a warning is logged so an
administrator adds it before it matters.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SAME_DAY_CUTOFF = time(15, 0)
DEFAULT_FILE = Path(__file__).parent / "data" / "holidays.yaml"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Calendar:
    off: frozenset[date] = field(default_factory=frozenset)
    working: frozenset[date] = field(default_factory=frozenset)
    years: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_FILE) -> Calendar:
        """The calendar of a file, read once per version of it (by modification time and
        size): each app reads it at start, and YAML is slow (a fifth of a test app's
        `create_app` CPU once URL rules were kept, docs/performance.md). A calendar is
        immutable, so every app of the process may share it."""
        target = Path(path)
        stat = target.stat()
        return _read(cls, str(target), (stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size))

    def is_working_day(self, day: date) -> bool:
        if day in self.working:
            return True
        return day.weekday() < 5 and day not in self.off

    def next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the next one."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: date, days: int) -> date:
        """The working day `days` working days after `start` (0: `start` or the next one)."""
        day = self.next_working_day(start)
        for _ in range(days):
            day = self.next_working_day(day + timedelta(days=1))
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def due_date(self, received_at: datetime, working_days: int, calendar_days: bool = False) -> date:
        """Due date for a dossier received at `received_at` (aware; read in Vietnam's time).

        A dossier received on a day off counts from the next working day; for a same-day
        procedure (0 days) one received after 15:00 is due the next working day too.
        Calendar days (Civil Code 2015, art. 147-148): counted from the day after receipt,
        and a limit ending on a day off ends on the next working day.
        """
        local = received_at.astimezone(VN_TZ)
        day = local.date()
        if not self.is_working_day(day) or (working_days == 0 and local.time() >= SAME_DAY_CUTOFF):
            day = self.next_working_day(day + timedelta(days=1))
        if calendar_days:
            due = self.next_working_day(day + timedelta(days=working_days))
        else:
            due = self.add_working_days(day, working_days)
        if self.years and due.year not in self.years:
            log.warning("no holidays recorded for %s: due date %s counts weekends only", due.year, due)
        return due


def limit_text(days: int, calendar_days: bool = False) -> dict[str, str]:
    """How a time limit is published, in both languages (one wording everywhere): "1 working
    day", "5 working days" (the catalogue's plural forms)."""
    from motcua.i18n import LANGS, gettext, ngettext  # lazy: i18n reads VN_TZ from here

    if days == 0:
        return {lang: gettext("Trong ngày làm việc", lang=lang) for lang in LANGS}
    if calendar_days:
        return {lang: ngettext("{n} ngày", "{n} ngày", days, lang=lang) for lang in LANGS}
    return {lang: ngettext("{n} ngày làm việc", "{n} ngày làm việc", days, lang=lang) for lang in LANGS}


@lru_cache(maxsize=8)
def _read(cls: type[Calendar], path: str, stamp: tuple[int, int, int]) -> Calendar:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    off: set[date] = set()
    working: set[date] = set()
    for year in data.values():
        off.update(year.get("days_off") or [])
        working.update(year.get("working_weekends") or [])
    return cls(frozenset(off), frozenset(working), frozenset(int(y) for y in data))
