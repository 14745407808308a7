"""Where the figures come from: the store and the catalogue (the only I/O of the package)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Iterable

from motcua.catalogue import Catalogue, spec_of
from motcua.offices import offices, performers
from motcua.spec.model import localize
from motcua.stats.period import Period, vn_today
from motcua.stats.report import Report, compute
from motcua.store.base import Store
from motcua.workdays import Calendar

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
    """One pass over every stored dossier's summary.

    Not only the period's: the period also needs older dossiers still open when it began
    (carried over), and the overdue list every dossier open today. Summaries are small
    (about 250 bytes each), so reading all of them stays well under a second at 100,000.
    `calendar`: the app's working days (the engine's); None: the shipped holiday file.
    """

    @lru_cache(maxsize=None)
    def describe(code: str, spec_key: str):  # type: ignore[no-untyped-def]
        spec = spec_of(store, spec_key)
        return (spec.name, spec.sector) if spec else None

    return compute(
        store.dossiers.summaries(),
        period=period,
        today=today or vn_today(),
        specs=catalogue,
        agencies=agencies,
        tier=tier,
        ratings=(value for _key, value in store.records(RATINGS).all()),
        online_target=online_target,
        describe=describe,
        calendar=calendar or Calendar.load(),
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
