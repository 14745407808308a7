"""Blueprint: the public page of one implementing office, `/co-quan/<code>`.

Trang cơ quan — what a citizen who picked (or was sent to) an office wants to know: its
name, address, working hours and phone, the procedures it performs by service level, and
its public figures for this year (the same `stats.report` figures as `/thong-ke`, for that
office only). The page is kept by `web.page_cache` like the procedure page; because its
figures move with every dossier, the kept copy is keyed by a time slot of
`AGENCY_PAGE_FIGURES_SECONDS` (default 300), so the figures are at most that old.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, abort, current_app, render_template

from motcua.i18n import current_lang
from motcua.offices import TIER_LABELS, offices, performers, procedures_of
from motcua.services import services
from motcua.spec.model import Level
from motcua.stats import period as periods
from motcua.stats.numbers import fmt_decimal, fmt_int, fmt_percent
from motcua.stats.report import LEVEL_LABELS
from motcua.stats.source import build_report
from motcua.web import page_cache
from motcua.web.stats import AGENCY_CODE, _target

bp = Blueprint("agency", __name__)


@bp.app_context_processor
def _performers() -> dict[str, Any]:
    """`performers(spec)` in every template: the procedure page and the catalogue link each
    office that performs a procedure to its page."""
    return {"performers": lambda spec: performers(spec, services().catalogue)}


def _figures_slot() -> int:
    seconds = max(1, int(current_app.config.get("AGENCY_PAGE_FIGURES_SECONDS", 300)))
    return int(time.time() // seconds)


@bp.get("/co-quan/<code>")
def agency_page(code: str) -> Any:
    if not AGENCY_CODE.match(code):
        abort(404)
    catalogue = services().catalogue
    office = offices(catalogue).get(code)
    if office is None:
        abort(404)
    slot = _figures_slot()
    return page_cache.page(("agency", code, slot), lambda: _render(code, slot))


def _render(code: str, slot: int) -> str:
    svc = services()
    office = offices(svc.catalogue)[code]
    lang = current_lang()
    own = procedures_of(code, svc.catalogue)
    by_level = [
        (LEVEL_LABELS[level], sorted((s for s in own if s.level == level), key=lambda s: s.code))
        for level in sorted(Level, reverse=True)
    ]
    period = periods.year(periods.vn_today().year)
    # the figures depend on neither the language nor the query string the page is kept by:
    # one pass over the store per office and time slot
    report = page_cache.kept("fragment", ("agency-figures", code, slot), lambda: build_report(
        svc.store, svc.catalogue, period=period, agencies=[code], online_target=_target(), calendar=svc.engine.calendar))
    return render_template(
        "portal/agency.html",
        office=office,
        tier_label=TIER_LABELS.get(office.tier, TIER_LABELS["other"]),
        by_level=[(label, specs) for label, specs in by_level if specs],
        report=report,
        fmt_int=lambda v: fmt_int(v, lang),
        fmt_percent=lambda v: fmt_percent(v, lang),
        fmt_decimal=lambda v: fmt_decimal(v, lang),
    )
