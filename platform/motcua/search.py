"""Finding a procedure in the catalogue (tìm thủ tục).

Citizens type without diacritics on phones and in a hurry ("dang ky ket hon"), so text is
compared folded: diacritics removed (đ -> d), lower case, spaces collapsed. Pure functions
over the catalogue: the portal page and the API list share them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from unidecode import unidecode

from motcua.spec.model import Level, ProcedureSpec, localize

_SPACES = re.compile(r"[^0-9a-z.]+")


def fold(text: str) -> str:
    """`Đăng  ký Kết hôn` -> `dang ky ket hon`: what a search compares."""
    return _SPACES.sub(" ", unidecode(text).lower()).strip()


@dataclass(frozen=True)
class Filters:
    """What a citizen narrows the catalogue by; every field optional (GET parameters)."""

    q: str = ""
    sector: str = ""
    tier: str = ""
    level: int | None = None
    filer: str = ""
    life_event: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        level = args.get("level", "")
        return cls(
            q=(args.get("q") or "").strip()[:200],
            sector=(args.get("sector") or "").strip(),
            tier=(args.get("tier") or "").strip(),
            level=int(level) if level.isdigit() and int(level) in {lv.value for lv in Level} else None,
            filer=(args.get("filer") or "").strip(),
            life_event=(args.get("life_event") or "").strip(),
        )

    def without_level(self) -> Filters:
        return Filters(self.q, self.sector, self.tier, None, self.filer, self.life_event)


def _haystacks(spec: ProcedureSpec) -> tuple[str, str]:
    """(name, everything else) folded, in both languages."""
    name = " ".join(spec.name.values())
    rest = " ".join(
        [*spec.sector.values(), spec.code, *spec.keywords, *spec.agency.name.values(), *spec.life_events]
    )
    return fold(name), fold(rest)


def score(spec: ProcedureSpec, query: str) -> int:
    """0 when the query does not match; higher when it matches the name, best as a phrase."""
    words = fold(query).split()
    if not words:
        return 1
    name, rest = _haystacks(spec)
    whole = f"{name} {rest}"
    if not all(w in whole for w in words):
        return 0
    phrase = " ".join(words)
    points = 1
    if phrase in name:
        points += 100
    elif phrase in rest:
        points += 50
    points += sum(10 for w in words if w in name)
    return points


def matches(spec: ProcedureSpec, f: Filters) -> bool:
    """Every filter but the query."""
    if f.sector and f.sector not in spec.sector.values():
        return False
    if f.tier and spec.agency.tier != f.tier:
        return False
    if f.level is not None and int(spec.level) != f.level:
        return False
    if f.filer and f.filer not in spec.filers:
        return False
    if f.life_event and f.life_event not in spec.life_events:
        return False
    return True


def search(specs: Iterable[ProcedureSpec], f: Filters) -> list[ProcedureSpec]:
    """Matching procedures, best first, then by code."""
    scored = [(score(s, f.q), s) for s in specs if matches(s, f)]
    scored = [(p, s) for p, s in scored if p > 0]
    scored.sort(key=lambda ps: (-ps[0], ps[1].code))
    return [s for _, s in scored]


@dataclass
class Facets:
    """The values the filters offer, and how many results each service level has."""

    sectors: list[dict[str, str]] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)
    filers: list[str] = field(default_factory=list)
    life_events: list[str] = field(default_factory=list)
    level_counts: dict[int, int] = field(default_factory=dict)


def by_label(label: str) -> tuple[str, str]:
    """Sort key of a word list as Vietnamese readers expect it, near enough: letters first
    without their diacritics (so `Đất đai` sorts with the d's, `Ưu đãi` with the u's), then
    the words as written to order the ties the same way every time."""
    return fold(label), label


def facets(specs: Iterable[ProcedureSpec], f: Filters, lang: str | None = None) -> Facets:
    """The filters' options, each list in the order of the words the reader sees (`lang`,
    by default the request's language): life events and sectors by their label."""
    from motcua.i18n import current_lang
    from motcua.spec import life_events

    lang = lang or current_lang()
    specs = list(specs)
    sectors: dict[str, dict[str, str]] = {}
    tiers: set[str] = set()
    filers: set[str] = set()
    events: set[str] = set()
    for s in specs:
        sectors.setdefault(s.sector["vi"], dict(s.sector))
        tiers.add(s.agency.tier)
        filers.update(s.filers)
        events.update(s.life_events)
    found = search(specs, f.without_level())
    counts = {lv.value: 0 for lv in Level}
    for s in found:
        counts[int(s.level)] += 1
    tier_order = ["province", "district", "commune"]
    return Facets(
        sectors=sorted(sectors.values(), key=lambda s: by_label(localize(s, lang))),
        tiers=[t for t in tier_order if t in tiers],
        filers=sorted(filers),
        life_events=sorted(events, key=lambda e: (*by_label(life_events.label(e, lang)), e)),
        level_counts=counts,
    )
