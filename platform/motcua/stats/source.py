"""Where the figures come from: the store and the catalogue (the only I/O of the package)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache

from motcua.catalogue import Catalogue, spec_of
from motcua.offices import offices, performers
from motcua.spec.model import localize
from motcua.stats.period import Period, vn_today
from motcua.stats.report import Report, compute
from motcua.store.base import Store
from motcua.store.summary import DossierSummary
from motcua.workdays import VN_TZ, Calendar

RATINGS = "ratings"


def build_report(
    store: Store,
    catalogue: Catalogue,
    *,
    period: Period,
    agencies: Iterable[str] | None = None,
    tier: str | None = None,
    today: date | None = None,
    online_target: Decimal | float = Decimal("0.20"),
    calendar: Calendar | None = None,
) -> Report:
    """One pass over the summaries of the dossiers that can count in the period.

    Not only the period's: the period also needs older dossiers still open when it began
    (carried over), and the overdue list every dossier open today. The ones closed before
    the period began (and before its `as_of` day) count in nothing, so the store leaves them
    out (`summaries(active_since=)`, an index on PostgreSQL): a year's report reads that
    year's dossiers and the open ones, not the whole history.
    `calendar`: the app's working days (the engine's); None: the shipped holiday file.
    """
    today = today or vn_today()
    # a day after `as_of` can be before the start for a period still to come
    active_since = min(period.start, period.as_of(today) + timedelta(days=1))
    # the store's agency filter also returns liên thông stages; `compute` keeps its own rule
    agencies = list(agencies) if agencies is not None else None
    agency_codes = sorted(set(agencies)) if agencies is not None else None
    period_end = datetime.combine(period.end + timedelta(days=1), time(0), VN_TZ)

    @lru_cache(maxsize=None)
    def describe(code: str, spec_key: str):  # type: ignore[no-untyped-def]
        spec = spec_of(store, spec_key)
        return (spec.name, spec.sector) if spec else None

    def history(procedure_code: str) -> Iterator[DossierSummary]:
        return store.dossiers.summaries(filed_to=period_end, agency_codes=agency_codes, procedure_code=procedure_code)

    return compute(
        store.dossiers.summaries(active_since=active_since, agency_codes=agency_codes),
        period=period,
        today=today,
        specs=catalogue,
        agencies=agencies,
        tier=tier,
        ratings=(value for _key, value in store.records(RATINGS).all()),
        online_target=online_target,
        describe=describe,
        calendar=calendar or Calendar.load(),
        history=history,
    )


def agency_choices(catalogue: Catalogue, lang: str = "vi") -> list[tuple[str, str]]:
    """(agency code, name) of every agency performing a procedure of the catalogue, for the
    agency picker."""
    known = offices(catalogue)
    seen: dict[str, str] = {}
    for spec in catalogue:
        for code in performers(spec, catalogue):
            if code in known:
                seen.setdefault(code, localize(known[code].name, lang))
    return sorted(seen.items(), key=lambda item: (item[1], item[0]))
