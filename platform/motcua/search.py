"""Finding a procedure in the catalogue (tìm thủ tục).

Citizens type without diacritics on phones and in a hurry ("dang ky ket hon"), so text is
compared folded: diacritics removed (đ -> d), lower case, spaces collapsed. Pure functions
over the catalogue: the portal page and the API list share them.
"""

from __future__ import annotations

import dataclasses
import operator
import re
import sqlite3
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from itertools import compress
from dataclasses import dataclass, field
from typing import Any

from unidecode import unidecode

from motcua.spec.model import Level, ProcedureSpec, localize

_SPACES = re.compile(r"[^0-9a-z.]+")


_MARKS = dict.fromkeys(c for c in range(0x300, 0x370))  # combining diacritical marks
_MARKS.update({ord("đ"): "d", ord("Đ"): "D"})


def fold(text: str) -> str:
    """`Đăng  ký Kết hôn` -> `dang ky ket hon`: what a search compares.

    Vietnamese letters are taken apart (NFD) and their marks dropped, which is what
    unidecode does to them, in C instead of a character at a time (the index folds every
    name of a province's catalogue at start-up); what is left outside ASCII goes through
    unidecode as before."""
    text = unicodedata.normalize("NFD", text).translate(_MARKS)
    if not text.isascii():
        text = unidecode(text)
    return _SPACES.sub(" ", text.lower()).strip()


_LEVELS = frozenset(str(lv.value) for lv in Level)


@dataclass(frozen=True)
class Filters:
    """What a citizen narrows the catalogue by; every field optional (GET parameters)."""

    q: str = ""
    sector: str = ""
    tier: str = ""
    level: int | None = None
    filer: str = ""
    life_event: str = ""
    agency: str = ""  # an agency code: the procedures that office performs

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        # a plain dict first: werkzeug's MultiDict.get builds and drops a BadRequestKeyError
        # for each name missing, six of seven on a search (~5 % of a search page's CPU)
        to_dict = getattr(args, "to_dict", None)
        args = to_dict() if callable(to_dict) else args
        level = args.get("level", "")
        return cls(
            q=(args.get("q") or "").strip()[:200],
            sector=(args.get("sector") or "").strip(),
            tier=(args.get("tier") or "").strip(),
            level=int(level) if level in _LEVELS else None,  # not isdigit(): "¹" is one
            filer=(args.get("filer") or "").strip(),
            life_event=(args.get("life_event") or "").strip(),
            agency=(args.get("agency") or "").strip()[:40],
        )

    def without_level(self) -> Filters:
        return Filters(self.q, self.sector, self.tier, None, self.filer, self.life_event, self.agency)


#: Abbreviations citizens type for words the specs write out (and the other way round):
#: the folded abbreviation -> the folded words. A query word found here matches either.
ABBREVIATIONS: dict[str, str] = {
    "ubnd": "uy ban nhan dan",
    "hdnd": "hoi dong nhan dan",
    "cccd": "can cuoc cong dan",
    "cmnd": "chung minh nhan dan",
    "gcn": "giay chung nhan",
    "gks": "giay khai sinh",
    "gplx": "giay phep lai xe",
    "gpxd": "giay phep xay dung",
    "qsdd": "quyen su dung dat",
    "bhxh": "bao hiem xa hoi",
    "bhyt": "bao hiem y te",
    "hkd": "ho kinh doanh",
    "dkkd": "dang ky kinh doanh",
    "mst": "ma so thue",
    "tthc": "thu tuc hanh chinh",
}
_EXPANSIONS = {words: abbr for abbr, words in ABBREVIATIONS.items()}

#: A spec listing at most this many offices has their names indexed (see _haystacks).
MAX_INDEXED_OFFICES = 5

#: Results per page of the catalogue and of the API's list.
PER_PAGE = 25


def words(text: str) -> list[str]:
    """The whole words of a text, folded; dots kept inside codes (`1.001193`), not at ends."""
    return [w for w in (w.strip(".") for w in fold(text).split()) if w]


def _indexed(text: str) -> str:
    """A text as indexed: its words, plus the abbreviation of any written-out phrase and the
    words of any abbreviation, so that either spelling finds either (`UBND xã` is found by
    "uy ban nhan dan xa", `Ủy ban nhân dân` by "ubnd") with a query of plain words: an OR of
    the two spellings in every query cost a third of a broad search (docs/performance.md)."""
    written = words(text)
    joined = f" {' '.join(written)} "
    shortened = [abbr for phrase, abbr in _EXPANSIONS.items() if f" {phrase} " in joined]
    spelled_out = [w for abbr in dict.fromkeys(w for w in written if w in ABBREVIATIONS) for w in ABBREVIATIONS[abbr].split()]
    return " ".join(written + shortened + spelled_out)


def _haystacks(spec: ProcedureSpec, offices: tuple[Any, ...] = ()) -> tuple[str, str]:
    """(name, everything else) as indexed, in both languages. Who performs it: the kind of
    office the spec names, and the offices themselves when it lists a few (not the hundred
    communes of a tier, which would make every commune's name find every commune procedure)."""
    name = " ".join(spec.name.values())
    rule = spec.performers_rule
    performer_names = [*(rule.name or {}).values()]
    if rule.agencies is not None and len(offices) <= MAX_INDEXED_OFFICES:
        performer_names += [n for office in offices for n in office.name.values()]
    rest = " ".join(
        [*spec.sector.values(), spec.code, *spec.keywords, *performer_names, *spec.life_events]
    )
    return _indexed(name), _indexed(rest)


def _fts_query(query_words: list[str]) -> str:
    """Every word, whole (an FTS5 string each: no operator a citizen types is interpreted);
    abbreviations need nothing more, the index holds both spellings (`_indexed`)."""
    return " AND ".join(f'"{w}"' for w in query_words)


class Index:
    """A full-text index of procedures, built once per catalogue, by its first search.

    SQLite's FTS5 (in Python's standard library, in memory): whole-word matching over an
    inverted index and BM25 ranking, with no server and no new dependency. Text is folded
    before it is indexed and queried, so diacritics and case never matter; names weigh ten
    times the rest (sector, code, keywords, agency, life events)."""

    def __init__(self, specs: Iterable[ProcedureSpec], performers: Callable[[ProcedureSpec], tuple[Any, ...]] | None = None) -> None:
        self.specs = sorted(specs, key=lambda s: s.code)  # rowid order is code order: ties by code
        #: Who performs each spec (the catalogue's registry lookup; none without one).
        self.performers = performers or (lambda spec: ())
        self._tiers: dict[str, frozenset[str]] = {}
        self._codes: dict[str, frozenset[str]] = {}
        for s in self.specs:
            offices = self.performers(s)
            self._codes[s.key] = frozenset(a.code for a in offices)
            self._tiers[s.key] = frozenset(a.tier for a in offices) or frozenset([s.agency.tier] if s.agency else [])
        haystacks = [_haystacks(s, self.performers(s)) for s in self.specs]
        #: Each procedure's indexed name between spaces (the phrase test of `ranked`) and its
        #: level, by rowid.
        self._names = [f" {name} " for name, _rest in haystacks]
        self.levels = [int(s.level) for s in self.specs]
        self._exact: dict[str, list[int]] = {}  # each name, folded -> its procedures
        for i, s in enumerate(self.specs):
            for name in {" ".join(words(n)) for n in s.name.values()}:
                self._exact.setdefault(name, []).append(i)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute("CREATE VIRTUAL TABLE procedures USING fts5(name, rest, tokenize = \"unicode61 tokenchars '.'\")")
        self._db.executemany("INSERT INTO procedures (rowid, name, rest) VALUES (?, ?, ?)",
                             [(i, *h) for i, h in enumerate(haystacks)])
        self._facets: dict[str, Facets] = {}

    def query(self, q: str) -> list[ProcedureSpec]:
        """Procedures with every word of `q`, best first (`ranked`); every procedure when `q`
        is empty."""
        return [self.specs[i] for i in self.ranked(q)]

    def ranked(self, q: str) -> list[int]:
        """The positions in `specs` of the procedures with every word of `q`, best first: the
        exact name, then the words as a phrase in the name, then by BM25, then by code.

        One FTS5 statement ranks (BM25, then rowid), so a broad query over a province's
        catalogue costs no Python per matching procedure but a substring test: a name is
        indexed as its words joined by single spaces, one token each, so the words as a
        phrase in the name are the phrase between spaces in that text (what a second FTS5
        phrase query on the name column answered, at a third of a new search's cost)."""
        query_words = words(q)
        if not query_words:
            return list(range(len(self.specs)))
        phrase = " ".join(query_words)
        with self._lock:
            ranked = [i for (i,) in self._db.execute(
                "SELECT rowid FROM procedures WHERE procedures MATCH ? ORDER BY bm25(procedures, 10.0, 1.0), rowid",
                (_fts_query(query_words),),
            )]
        padded, names = f" {phrase} ", self._names
        exact = self._exact.get(phrase)
        if exact:
            first = [i for i in ranked if i in exact]
            ranked = [i for i in ranked if i not in exact]
        else:
            first = []
        in_name = [padded in names[i] for i in ranked]
        return first + list(compress(ranked, in_name)) + list(compress(ranked, map(operator.not_, in_name)))

    def tiers(self, spec: ProcedureSpec) -> frozenset[str]:
        """The tiers of the offices that perform `spec`."""
        found = self._tiers.get(spec.key)
        if found is None:
            found = frozenset(a.tier for a in self.performers(spec)) or frozenset([spec.agency.tier] if spec.agency else [])
        return found

    def performed_by(self, spec: ProcedureSpec, code: str) -> bool:
        found = self._codes.get(spec.key)
        return code in (found if found is not None else {a.code for a in self.performers(spec)})

    def facets(self, lang: str) -> Facets:
        """The filters' options over the whole catalogue (the level counts are the caller's)."""
        if lang not in self._facets:
            self._facets[lang] = _options(self.specs, lang, self)
        return self._facets[lang]


def index_of(specs: Iterable[ProcedureSpec]) -> Index:
    """The catalogue's own index (built once), or one built for the procedures given."""
    make = getattr(specs, "search_index", None)
    return make() if callable(make) else Index(specs)


def matches(spec: ProcedureSpec, f: Filters, index: Index | None = None) -> bool:
    """Every filter but the query (tier and agency through `index`'s performers)."""
    if f.sector and f.sector not in spec.sector.values():
        return False
    if f.tier and f.tier not in (index.tiers(spec) if index else {spec.agency.tier if spec.agency else ""}):
        return False
    if f.agency and not (index.performed_by(spec, f.agency) if index else spec.agency and spec.agency.code == f.agency):
        return False
    if f.level is not None and int(spec.level) != f.level:
        return False
    if f.filer and f.filer not in spec.filers:
        return False
    if f.life_event and f.life_event not in spec.life_events:
        return False
    return True


def search(specs: Iterable[ProcedureSpec], f: Filters) -> list[ProcedureSpec]:
    """Matching procedures, best first (see Index.ranked)."""
    index = index_of(specs)
    return [index.specs[i] for i in _found(index, f)]


def _found(index: Index, f: Filters) -> list[int]:
    found = index.ranked(f.q)
    if not (f.sector or f.tier or f.level is not None or f.filer or f.life_event or f.agency):
        return found
    specs = index.specs
    return [i for i in found if matches(specs[i], f, index)]


@dataclass(frozen=True)
class Page:
    """One page of results: 1-based `number` of `count` pages (at least one)."""

    items: list[ProcedureSpec]
    number: int
    count: int
    total: int


@dataclass(frozen=True)
class Results:
    """What the catalogue page and the API list show of a search: one page of it, and how
    many results each service level has (found with every filter but the level)."""

    page: Page
    level_counts: dict[int, int]


def results(specs: Iterable[ProcedureSpec], f: Filters, number: int) -> Results:
    """The `number`th page of what `f` finds, and the level counts, from one search: worked
    on positions in the index, so a query matching most of a province's catalogue builds
    no list of its procedures but the page's."""
    index = index_of(specs)
    found = _found(index, f.without_level())
    levels = index.levels
    counts = {lv.value: 0 for lv in Level}
    counts.update(Counter(map(levels.__getitem__, found)))
    if f.level is not None:
        found = [i for i in found if levels[i] == f.level]
    page = paginate(found, number)
    return Results(dataclasses.replace(page, items=[index.specs[i] for i in page.items]), counts)


def page_number(raw: str | None) -> int:
    """The `page` GET parameter: a positive whole number, else the first page."""
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and 0 < len(raw) < 7 and int(raw) > 0 else 1


def paginate(found: list[Any], number: int, per_page: int = PER_PAGE) -> Page:
    """The `number`th page of `found` (past the last one: the last one): procedures, or
    their positions in the index (`results`)."""
    count = max(1, -(-len(found) // per_page))
    number = min(number, count)
    start = (number - 1) * per_page
    return Page(found[start:start + per_page], number, count, len(found))


def page_links(page: Page, around: int = 2) -> list[int | None]:
    """The page numbers to link: the first, the last and `around` each side of the current
    one; None where numbers are skipped (an ellipsis)."""
    shown = sorted({1, page.count, *range(max(1, page.number - around), min(page.count, page.number + around) + 1)})
    out: list[int | None] = []
    for n in shown:
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


@dataclass
class Facets:
    """The values the filters offer, and how many results each service level has."""

    sectors: list[dict[str, str]] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)
    filers: list[str] = field(default_factory=list)
    life_events: list[str] = field(default_factory=list)
    level_counts: dict[int, int] = field(default_factory=dict)
    #: Offices performing at least one procedure: (tier, [(code, name)]) province tier first.
    agencies: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)


def by_label(label: str) -> tuple[str, str]:
    """Sort key of a word list as Vietnamese readers expect it, near enough: letters first
    without their diacritics (so `Đất đai` sorts with the d's, `Ưu đãi` with the u's), then
    the words as written to order the ties the same way every time."""
    return fold(label), label


def _options(specs: list[ProcedureSpec], lang: str, index: Index) -> Facets:
    from motcua.spec import life_events

    sectors: dict[str, dict[str, str]] = {}
    tiers: set[str] = set()
    filers: set[str] = set()
    events: set[str] = set()
    offices: dict[str, Any] = {}
    for s in specs:
        sectors.setdefault(s.sector["vi"], dict(s.sector))
        tiers.update(index.tiers(s))
        for office in index.performers(s):
            offices.setdefault(office.code, office)
        filers.update(s.filers)
        events.update(s.life_events)
    tier_order = ["province", "district", "commune", "other"]
    by_tier: dict[str, list[tuple[str, str]]] = {}
    for office in offices.values():
        by_tier.setdefault(office.tier, []).append((office.code, office.name.get(lang) or office.name["vi"]))
    return Facets(
        agencies=[(t, sorted(by_tier[t], key=lambda item: by_label(item[1]))) for t in tier_order if t in by_tier],
        sectors=sorted(sectors.values(), key=lambda s: by_label(localize(s, lang))),
        tiers=[t for t in tier_order if t in tiers],
        filers=sorted(filers),
        life_events=sorted(events, key=lambda e: (*by_label(life_events.label(e, lang)), e)),
    )


def shown_offices(agencies: list[tuple[str, list[tuple[str, str]]]], f: Filters) -> list[tuple[str, str]]:
    """The offices the filter panel lists: those of the chosen tier, and the chosen office's
    own. All 207 were half of every catalogue page's bytes (docs/performance.md), so without a
    tier the panel asks for one first; that also works without JavaScript (two steps)."""
    return [item for tier, items in agencies for item in items
            if (f.tier and tier == f.tier) or (f.agency and any(code == f.agency for code, _ in items))]


def level_counts(found_any_level: Iterable[ProcedureSpec]) -> dict[int, int]:
    """How many of the results (found with every filter but the level) each level has."""
    counts = {lv.value: 0 for lv in Level}
    for s in found_any_level:
        counts[int(s.level)] += 1
    return counts


def facets(specs: Iterable[ProcedureSpec], f: Filters, lang: str | None = None,
           found_any_level: list[ProcedureSpec] | None = None) -> Facets:
    """The filters' options, each list in the order of the words the reader sees (`lang`,
    by default the request's language): life events and sectors by their label. The
    options depend on the catalogue and the language only, so they are computed once per
    language; `found_any_level` spares searching again when the caller has the results."""
    from motcua.i18n import current_lang

    lang = lang or current_lang()
    index = index_of(specs)
    options = index.facets(lang)
    if found_any_level is None:
        found_any_level = [s for s in index.query(f.q) if matches(s, f.without_level(), index)]
    return Facets(options.sectors, options.tiers, options.filers, options.life_events, level_counts(found_any_level),
                  options.agencies)
