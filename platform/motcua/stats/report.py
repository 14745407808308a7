"""The transparency report: one streaming pass over the dossiers' summaries, no I/O.

`compute` reads each dossier's summary once (`motcua.store.summary`: the settle and
withdrawal days and the status transitions are derived when the dossier is written, not
here), keeps only counters (and the short overdue list), and never holds the dossiers
themselves, so its memory does not grow with the store and its time is a small fraction of
the time it takes the store to read the dossiers (bench/stats.py measures both). What each
figure counts is `stats.figures` (one `Figure` and one rule each); this module adds up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from functools import partial
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from motcua.dossier import STATUS_LABELS, Dossier, Status
from motcua.offices import TIER_LABELS, TIERS, Office, offices as offices_of, performers as spec_performers, tier_of
from motcua.spec.model import Level, ProcedureSpec, localize
from motcua.stats.figures import course, definitions, stopped_at, timing
from motcua.stats.numbers import HUNDREDTH, percent, shares
from motcua.stats.period import Period, day_in_vn
from motcua.store.summary import DossierSummary, summarize
from motcua.workdays import VN_TZ, Calendar
from motcua.workflow import lifecycle
CHANNELS = ("online", "desk", "postal")
CHANNEL_LABELS = {
    "online": {"vi": "Trực tuyến", "en": "Online"},
    "desk": {"vi": "Trực tiếp", "en": "In person"},
    "postal": {"vi": "Bưu chính công ích", "en": "Public post"},
}
LEVEL_LABELS = {
    Level.INFO: {"vi": "Mức độ 1 – cung cấp thông tin", "en": "Level 1 – information"},
    Level.FORMS: {"vi": "Mức độ 2 – biểu mẫu", "en": "Level 2 – forms"},
    Level.PARTIAL: {"vi": "Mức độ 3 – một phần", "en": "Level 3 – partial"},
    Level.FULL: {"vi": "Mức độ 4 – toàn trình", "en": "Level 4 – full process"},
}
UNKNOWN = {"vi": "Không rõ", "en": "Unknown"}


@dataclass(slots=True)
class Tally:
    """Counters for one procedure, one sector or the whole report."""

    # Each field is the figure of the same key in `stats.figures`, where it is defined.
    received: int = 0
    online: int = 0
    desk: int = 0
    postal: int = 0
    carried_over: int = 0
    settled: int = 0
    early: int = 0
    on_time: int = 0
    late: int = 0
    withdrawn: int = 0
    stopped: int = 0
    open: int = 0
    open_overdue: int = 0
    refused_at_intake: int = 0

    def add(self, other: Tally) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def on_time_rate(self) -> Decimal | None:
        """(early + on time) / settled, the "progress" figure of Decision 766."""
        return percent(self.early + self.on_time, self.settled)

    @property
    def online_share(self) -> Decimal | None:
        return percent(self.online, self.received)

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["on_time_rate"] = _num(self.on_time_rate)
        out["online_share"] = _num(self.online_share)
        return out


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@dataclass
class LevelRow:
    level: int
    label: dict[str, str]
    count: int
    share: Decimal


@dataclass
class ProcedureRow:
    code: str
    name: dict[str, str]
    sector: dict[str, str]
    tally: Tally


@dataclass
class SectorRow:
    sector: dict[str, str]
    tally: Tally


@dataclass
class Scope:
    """The figures of one agency or one tier: the same as the report's, for that part only.

    `levels` / `procedures_total`: the procedures in its own catalogue (a procedure performed
    by every commune counts in each commune's catalogue, and once in the commune tier's).
    """

    key: str
    name: dict[str, str]
    tier: str
    tally: Tally
    levels: list[LevelRow]
    procedures_total: int
    satisfaction: Satisfaction

    def to_dict(self, lang: str = "vi") -> dict[str, Any]:
        return {
            "name": localize(self.name, lang),
            "tier": self.tier,
            "procedures": {
                "total": self.procedures_total,
                "by_level": [{"level": r.level, "count": r.count, "share": float(r.share)} for r in self.levels],
            },
            **self.tally.to_dict(),
            "satisfaction": self.satisfaction.to_dict(),
        }


@dataclass
class QuarterShare:
    """One quarter of one commune in the reporting form: received, online and the share."""

    year: int
    quarter: int
    received: int = 0
    online: int = 0

    @property
    def share(self) -> Decimal | None:
        return percent(self.online, self.received)


@dataclass
class CommuneOnline:
    """One line of the seeds' reporting form: a commune's online share for each quarter of
    the period against the target ("at least 20% per quarter")."""

    code: str
    name: dict[str, str]
    quarters: list[QuarterShare]

    @property
    def worst(self) -> Decimal | None:
        """The lowest quarterly share (None: no quarter received a dossier)."""
        values = [q.share for q in self.quarters if q.share is not None]
        return min(values) if values else None

    def met(self, target: Decimal) -> bool | None:
        """Every quarter with dossiers reached the target; None when none had any."""
        worst = self.worst
        return None if worst is None else worst >= target


@dataclass
class OverdueRow:
    code: str
    procedure_code: str
    agency_code: str
    channel: str
    filed: date
    due: date
    days_overdue: int
    status: Status


@dataclass
class Satisfaction:
    count: int = 0
    total: int = 0
    distribution: dict[int, int] = field(default_factory=lambda: {s: 0 for s in range(1, 6)})

    @property
    def average(self) -> Decimal | None:
        if not self.count:
            return None
        return (Decimal(self.total) / Decimal(self.count)).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)

    @property
    def satisfied_share(self) -> Decimal | None:
        """Share of ratings of 4 or 5 (hài lòng, rất hài lòng)."""
        return percent(self.distribution[4] + self.distribution[5], self.count)

    def add(self, other: Satisfaction) -> None:
        self.count += other.count
        self.total += other.total
        for score, n in other.distribution.items():
            self.distribution[score] += n

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "average": _num(self.average),
            "satisfied_share": _num(self.satisfied_share),
            "distribution": {str(k): v for k, v in self.distribution.items()},
        }


@dataclass
class Report:
    period: Period
    agencies: frozenset[str] | None
    tier: str | None
    as_of: date
    today: date
    levels: list[LevelRow]
    procedures_total: int
    totals: Tally
    online_target: Decimal
    by_procedure: list[ProcedureRow]
    by_sector: list[SectorRow]
    satisfaction: Satisfaction
    overdue: list[OverdueRow]
    by_agency: list[Scope] = field(default_factory=list)
    by_tier: list[Scope] = field(default_factory=list)
    commune_online: list[CommuneOnline] = field(default_factory=list)

    @property
    def channels(self) -> dict[str, int]:
        return {c: getattr(self.totals, c) for c in CHANNELS}

    @property
    def channel_shares(self) -> dict[str, Decimal | None]:
        """Each channel / received, rounded on its own like `online_share` (so the online row
        of the channel table is the online share, not a figure nudged to make 100,00%)."""
        return {c: percent(getattr(self.totals, c), self.totals.received) for c in CHANNELS}

    @property
    def online_target_met(self) -> bool | None:
        share = self.totals.online_share
        return None if share is None else share >= self.online_target

    def to_dict(self, *, with_overdue: bool = False, lang: str = "vi") -> dict[str, Any]:
        """The figures as plain JSON values (the API and `motcua stats --format json`)."""
        out: dict[str, Any] = {
            "period": self.period.to_dict(),
            "agencies": sorted(self.agencies) if self.agencies is not None else None,
            "tier": self.tier,
            "as_of": self.as_of.isoformat(),
            "procedures": {
                "total": self.procedures_total,
                "by_level": [
                    {"level": r.level, "label": localize(r.label, lang), "count": r.count, "share": float(r.share)}
                    for r in self.levels
                ],
            },
            "channels": {
                c: {"count": n, "share": _num(self.channel_shares[c])} for c, n in self.channels.items()
            },
            "online_share": _num(self.totals.online_share),
            "online_target": float(self.online_target),
            "online_target_met": self.online_target_met,
            "totals": self.totals.to_dict(),
            "by_procedure": [
                {"code": r.code, "name": localize(r.name, lang), "sector": localize(r.sector, lang), **r.tally.to_dict()}
                for r in self.by_procedure
            ],
            "by_sector": [{"sector": localize(r.sector, lang), **r.tally.to_dict()} for r in self.by_sector],
            "satisfaction": self.satisfaction.to_dict(),
            "by_agency": {r.key: r.to_dict(lang) for r in self.by_agency},
            "by_tier": {r.key: r.to_dict(lang) for r in self.by_tier},
            "commune_online": [
                {
                    "agency": r.code,
                    "name": localize(r.name, lang),
                    "worst_share": _num(r.worst),
                    "target_met": r.met(self.online_target),
                    "quarters": [
                        {"year": q.year, "quarter": q.quarter, "received": q.received, "online": q.online,
                         "share": _num(q.share), "target_met": None if q.share is None else q.share >= self.online_target}
                        for q in r.quarters
                    ],
                }
                for r in self.commune_online
            ],
            "definitions": definitions(lang),
        }
        if with_overdue:
            out["overdue"] = [
                {
                    "code": r.code,
                    "procedure_code": r.procedure_code,
                    "agency_code": r.agency_code,
                    "channel": r.channel,
                    "filed": r.filed.isoformat(),
                    "due_date": r.due.isoformat(),
                    "days_overdue": r.days_overdue,
                    "status": int(r.status),
                    "status_label": localize(STATUS_LABELS[r.status], lang),
                }
                for r in self.overdue
            ]
        return out


Performers = Callable[[ProcedureSpec], "tuple[str, ...]"]


def worst_first(rows: Iterable[Scope]) -> list[Scope]:
    """Offices worst first, for the dashboard's summary above the full table (which a province
    of hundreds of offices keeps folded): the lowest on-time rate first, then the most open
    overdue dossiers, then the lowest online share; offices with nothing settled and nothing
    overdue come last. A reordering only: every figure stays the report's."""

    def key(r: Scope) -> tuple[Any, ...]:
        rate, share = r.tally.on_time_rate, r.tally.online_share
        return (rate is None and not r.tally.open_overdue, rate if rate is not None else Decimal(101),
                -r.tally.open_overdue, share if share is not None else Decimal(101), localize(r.name, "vi"), r.key)

    return sorted(rows, key=key)


def level_rows(
    specs: Iterable[ProcedureSpec], agencies: frozenset[str] | None, performers: Performers | None = None
) -> tuple[list[LevelRow], int]:
    """Procedures offered at each service level, with shares adding up to 100%.

    A procedure counts once for `agencies` when any of them performs it, so a procedure
    every commune performs is in each commune's catalogue and once in a set of communes'.
    `performers` defaults to `motcua.offices.performers` read against `specs` (the catalogue).
    """
    if performers is None:
        performers = partial(spec_performers, catalogue=specs)
    counts = {level: 0 for level in Level}
    for spec in specs:
        if agencies is None or not agencies.isdisjoint(performers(spec)):
            counts[Level(spec.level)] += 1
    return _level_rows(counts)


def _level_rows(counts: dict[Level, int]) -> tuple[list[LevelRow], int]:
    levels = list(Level)
    pcts = shares([counts[lv] for lv in levels])
    rows = [LevelRow(int(lv), LEVEL_LABELS[lv], counts[lv], pct) for lv, pct in zip(levels, pcts)]
    return rows, sum(counts.values())


def satisfaction(ratings: Iterable[Mapping[str, Any]], period: Period, agencies: frozenset[str] | None) -> Satisfaction:
    """Ratings given in the period (by the day they were given)."""
    total = Satisfaction()
    for part in satisfaction_by_agency(ratings, period, agencies).values():
        total.add(part)
    return total


def satisfaction_by_agency(
    ratings: Iterable[Mapping[str, Any]], period: Period, agencies: frozenset[str] | None
) -> dict[str, Satisfaction]:
    """The period's ratings, per agency code of the dossier rated."""
    result: dict[str, Satisfaction] = {}
    for rating in ratings:
        agency = str(rating.get("agency_code") or "")
        if agencies is not None and agency not in agencies:
            continue
        at = rating.get("at")
        day = day_in_vn(datetime.fromisoformat(at) if isinstance(at, str) else at)
        if day not in period:
            continue
        score = int(rating["score"])
        if score not in range(1, 6):
            continue
        part = result.setdefault(agency, Satisfaction())
        part.count += 1
        part.total += score
        part.distribution[score] += 1
    return result


def _past_due(d: DossierSummary, day: date, end: datetime, calendar: Calendar, *, current: bool) -> date | None:
    """The due date an open dossier was past on `day` (None: not overdue then), judged by
    `lifecycle.overdue`, the staff queue's and the engine's rule: the due date moved on by a
    pause running at the end of `day`. `current`: `day` is today, whose pause start the
    summary keeps exactly (`paused_since`); a past day's is read from the transitions."""
    status, since = d.clock_at(end)
    if status is None:
        status = Status.NEW
    if current and d.paused_since is not None and status == d.status:
        since = d.paused_since
    if not lifecycle.overdue(d.due_date, status, None, since, day, calendar, d.calendar_days):
        return None
    return lifecycle.due_on(d.due_date, status, since, day, calendar, d.calendar_days)


def _tally(tallies: dict[tuple[str, str], Tally], spec_keys: dict[str, str], d: DossierSummary) -> Tally:
    """The counters of the dossier's (agency, procedure) pair: every breakdown adds these up."""
    key = (d.agency_code, d.procedure_code)
    t = tallies.get(key)
    if t is None:
        t = tallies[key] = Tally()
        spec_keys.setdefault(d.procedure_code, d.spec_key)
    return t


def quarters_of(period: Period) -> list[tuple[int, int]]:
    """(year, quarter) of every calendar quarter the period touches, in order."""
    found: list[tuple[int, int]] = []
    y, q = period.start.year, (period.start.month - 1) // 3 + 1
    while (y, q) <= (period.end.year, (period.end.month - 1) // 3 + 1):
        found.append((y, q))
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)
    return found


ProcedureInfo = Callable[[str, str], "tuple[dict[str, str], dict[str, str]] | None"]


def compute(
    dossiers: Iterable[DossierSummary | Dossier],
    *,
    period: Period,
    today: date,
    specs: Iterable[ProcedureSpec] = (),
    agencies: Iterable[str] | None = None,
    tier: str | None = None,
    ratings: Iterable[Mapping[str, Any]] = (),
    online_target: Decimal | float = Decimal("0.20"),
    describe: ProcedureInfo | None = None,
    calendar: Calendar | None = None,
    performers: Performers | None = None,
    offices: Mapping[str, Office] | None = None,
    history: Callable[[str], Iterable[DossierSummary]] | None = None,
) -> Report:
    """The report for `period`, restricted to `agencies` (None: every agency) and to the
    offices of `tier` (None: every tier).

    `dossiers` are summaries (`store.dossiers.summaries()`, the fast path) or whole
    dossiers, summarized here by the same derivation the store uses.

    `specs` is the catalogue (for levels, names and sectors); `describe(procedure_code,
    spec_key)` names a procedure the catalogue no longer has (e.g. from the spec snapshot);
    `ratings` are the stored satisfaction ratings; `online_target` is a fraction (0.20);
    `calendar` the working days a running pause moves a due date by (None: weekends only).
    `performers(spec)` names the offices that perform a spec and `offices` what is known of
    each office (name, tier); both default to `motcua.offices`, the seam to the registry.

    `dossiers` may leave out the ones closed before the period (and before `as_of`):
    nothing of them is counted (`summaries(active_since=)`). One thing they decided is the
    spec key `describe` names a procedure by, the one it was first seen under in filing
    order; `history(procedure_code)`, that procedure's summaries in filing order, finds
    it then (asked only for a procedure the catalogue no longer has).
    """
    calendar = calendar or Calendar()
    catalogue = specs
    specs = list(specs)
    known = dict(offices) if offices is not None else offices_of(catalogue)
    if performers is None:
        performers = partial(spec_performers, catalogue=catalogue)
    wanted = frozenset(agencies) if agencies is not None else None

    def in_scope(code: str) -> bool:
        return (wanted is None or code in wanted) and (tier is None or tier_of(code, known) == tier)

    # The offices whose catalogue is in scope (None: all of them).
    catalogue_scope = wanted
    if tier is not None:
        catalogue_scope = frozenset(code for code in (wanted if wanted is not None else known) if in_scope(code))
    start, end = period.start, period.end
    as_of = period.as_of(today)
    as_of_end = datetime.combine(as_of + timedelta(days=1), time(0), VN_TZ)
    today_end = datetime.combine(today + timedelta(days=1), time(0), VN_TZ)
    tallies: dict[tuple[str, str], Tally] = {}
    spec_keys: dict[str, str] = {}
    overdue: list[OverdueRow] = []
    quarterly: dict[tuple[str, int, int], QuarterShare] = {}
    for d in dossiers:
        if isinstance(d, Dossier):
            d = summarize(d)
        if (wanted is not None or tier is not None) and not in_scope(d.agency_code):
            continue
        filed_day, settled, withdrawn, refused = course(d)
        due = d.due_date
        if refused is None and settled is None and withdrawn is None and due is not None and due < today:
            moved = _past_due(d, today, today_end, calendar, current=True)
            if moved is not None:
                overdue.append(
                    OverdueRow(d.code, d.procedure_code, d.agency_code, d.channel, d.filed_day, moved, (today - moved).days,
                               Status(d.status))
                )
        if refused is not None:
            if start <= refused <= end:
                _tally(tallies, spec_keys, d).refused_at_intake += 1
            continue
        if filed_day > end:
            continue
        t = _tally(tallies, spec_keys, d)
        if filed_day >= start:
            t.received += 1
            channel = d.channel
            if channel == "online":
                t.online += 1
            elif channel == "desk":
                t.desk += 1
            elif channel == "postal":
                t.postal += 1
            q = (filed_day.month - 1) // 3 + 1
            share = quarterly.get((d.agency_code, filed_day.year, q))
            if share is None:
                share = quarterly[(d.agency_code, filed_day.year, q)] = QuarterShare(filed_day.year, q)
            share.received += 1
            if channel == "online":
                share.online += 1
        elif (settled is None or settled >= start) and (withdrawn is None or withdrawn >= start):
            t.carried_over += 1
        if settled is not None and start <= settled <= end:
            t.settled += 1
            when = timing(settled, due)
            if when == "early":
                t.early += 1
            elif when == "on_time":
                t.on_time += 1
            else:
                t.late += 1
        if withdrawn is not None and start <= withdrawn <= end:
            t.withdrawn += 1
        if filed_day <= as_of and (settled is None or settled > as_of) and (withdrawn is None or withdrawn > as_of):
            if stopped_at(d, as_of_end, current=as_of == today):
                t.stopped += 1
            else:
                t.open += 1
                if due is not None and due < as_of and _past_due(d, as_of, as_of_end, calendar, current=as_of == today):
                    t.open_overdue += 1

    names = {s.code: (s.name, s.sector) for s in specs}
    totals = Tally()
    per_procedure: dict[str, Tally] = {}
    per_agency: dict[str, Tally] = {}
    for (agency, code), tally in tallies.items():
        if not tally.active:
            continue
        totals.add(tally)
        per_procedure.setdefault(code, Tally()).add(tally)
        per_agency.setdefault(agency, Tally()).add(tally)
    by_procedure: list[ProcedureRow] = []
    sectors: dict[str, SectorRow] = {}

    def first_seen(code: str) -> str:
        """The spec key of the procedure's first dossier counted above, had `dossiers` been
        every one: in scope, and not left out as filed after the period or refused outside it."""
        if history is None:
            return spec_keys[code]
        for d in history(code):
            if (wanted is not None or tier is not None) and not in_scope(d.agency_code):
                continue
            filed_day, _settled, _withdrawn, refused = course(d)
            if (start <= refused <= end) if refused is not None else filed_day <= end:
                return d.spec_key
        return spec_keys[code]

    for code, tally in per_procedure.items():
        info = names.get(code) or (describe(code, first_seen(code)) if describe else None)
        name, sector = info if info else ({"vi": code}, UNKNOWN)
        by_procedure.append(ProcedureRow(code, name, sector, tally))
        row = sectors.setdefault(localize(sector, "vi"), SectorRow(sector, Tally()))
        row.tally.add(tally)
    by_procedure.sort(key=lambda r: (-r.tally.received, -r.tally.settled, r.code))
    by_sector = sorted(sectors.values(), key=lambda r: (-r.tally.received, -r.tally.settled, localize(r.sector, "vi")))
    overdue.sort(key=lambda r: (r.due, r.code))
    levels, procedures_total = level_rows(specs, catalogue_scope, performers)
    target = (Decimal(str(online_target)) * 100).quantize(HUNDREDTH)
    rated = {code: part for code, part in satisfaction_by_agency(ratings, period, wanted).items() if in_scope(code)}
    total_satisfaction = Satisfaction()
    for part in rated.values():
        total_satisfaction.add(part)

    # Per agency: every office in scope that performs a procedure of the catalogue, and any
    # other that has figures (a dossier or a rating in the period).
    codes = {c for c in known if in_scope(c)} | set(per_agency) | set(rated)
    # each office's own catalogue, in one pass over the specs (a province has ~200 offices)
    own: dict[str, dict[Level, int]] = {code: {level: 0 for level in Level} for code in codes}
    for spec in specs:
        level = Level(spec.level)
        for code in performers(spec):
            if code in own:
                own[code][level] += 1
    by_agency: list[Scope] = []
    for code in codes:
        if code not in per_agency and code not in rated and not any(own[code].values()):
            continue  # an office of the registry that performs nothing of this catalogue
        office = known.get(code)
        agency_levels, agency_total = _level_rows(own[code])
        by_agency.append(Scope(code, office.name if office else {"vi": code}, tier_of(code, known),
                               per_agency.get(code, Tally()), agency_levels, agency_total, rated.get(code, Satisfaction())))
    by_agency.sort(key=lambda r: (TIERS.index(r.tier), localize(r.name, "vi"), r.key))
    by_tier: list[Scope] = []
    for name in TIERS:
        members = [r for r in by_agency if r.tier == name]
        if not members:
            continue
        tally, rating = Tally(), Satisfaction()
        for r in members:
            tally.add(r.tally)
            rating.add(r.satisfaction)
        tier_levels, tier_total = level_rows(specs, frozenset(r.key for r in members), performers)
        by_tier.append(Scope(name, TIER_LABELS[name], name, tally, tier_levels, tier_total, rating))

    # The seeds' reporting form: each commune's quarterly online share, worst first.
    commune_online = [
        CommuneOnline(r.key, r.name, [quarterly.get((r.key, y, q)) or QuarterShare(y, q) for y, q in quarters_of(period)])
        for r in by_agency
        if r.tier == "commune"
    ]
    commune_online.sort(key=lambda r: (r.worst is None, r.worst if r.worst is not None else 0, localize(r.name, "vi"), r.code))
    return Report(
        period=period,
        agencies=wanted,
        tier=tier,
        as_of=as_of,
        today=today,
        levels=levels,
        procedures_total=procedures_total,
        totals=totals,
        online_target=target,
        by_procedure=by_procedure,
        by_sector=by_sector,
        satisfaction=total_satisfaction,
        overdue=overdue,
        by_agency=by_agency,
        by_tier=by_tier,
        commune_online=commune_online,
    )
