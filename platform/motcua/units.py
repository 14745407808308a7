"""Administrative units of Vietnam (đơn vị hành chính) and the postal addresses built on them.

Since 1 July 2025 (Resolution 202/2025/QH15) there are 34 provinces and 3,321 communes
(xã, phường, đặc khu) and no district level. The table is versioned data, not code: the
`vietnam-provinces` package (data of the General Statistics Office, codes of Decision
124/2004, never reused) is read once, lazily. Codes travel as zero-padded strings ("01",
"00070"). An address stores both the code and the name of its units, so what staff and the
carrier read does not change when the table does.

Not here: a mapping from the units before 1 July 2025 to the new ones. The package has
none, and none may be invented; an old name is refused with a message saying so.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version as package_version
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from motcua.i18n import N_, t
from motcua.search import fold

#: The parts of a postal address, in the order a form asks for them. There is no district
#: since 1 July 2025; addresses stored before may still carry one (see LEGACY_PARTS).
ADDRESS_PARTS = ("province", "commune", "street")
#: Parts only found in addresses stored before 1 July 2025: shown, never asked for.
LEGACY_PARTS = ("district",)
#: Where an address keeps the code of a unit next to its name.
CODE_KEYS = {"province": "province_code", "commune": "commune_code"}
#: How an address reads, smallest unit first.
DISPLAY_ORDER = ("street", "commune", "district", "province")
#: When the current table took effect.
EFFECTIVE = "01/07/2025"

_PACKAGE = "vietnam-provinces"
_PROVINCE_PREFIXES = ("thanh pho ", "tinh ")
_COMMUNE_PREFIXES = ("phuong ", "xa ", "dac khu ", "thi tran ", "p. ", "x. ", "p ", "x ")


@dataclass(frozen=True)
class Province:
    code: str  # "01"
    name: str  # "Thành phố Hà Nội", the official name
    short: str  # "Hà Nội"
    en: str  # "Ha Noi"


@dataclass(frozen=True)
class Commune:
    code: str  # "00070"
    name: str  # "Phường Hoàn Kiếm"
    province_code: str
    kind: str  # "xã", "phường" or "đặc khu"

    @property
    def en(self) -> str:
        """The English name, as the province's is written: without diacritics, the kind after
        the name (Phường Hải Châu -> Hai Chau Ward; Xã Hòa Vang -> Hoa Vang Commune)."""
        from unidecode import unidecode

        kind = self.kind.strip()
        bare = self.name[len(kind):].strip() if kind and self.name.lower().startswith(kind.lower()) else self.name
        word = KIND_EN.get(kind.lower())
        if not word:
            return unidecode(self.name)
        return f"{word} {unidecode(bare)}" if bare.isdigit() else f"{unidecode(bare)} {word}"


#: A commune's kind in English, written after its name ("Hai Chau Ward").
KIND_EN = {"phường": "Ward", "xã": "Commune", "đặc khu": "Special Zone", "thị trấn": "Town"}


@dataclass(frozen=True)
class _Table:
    provinces: tuple[Province, ...]
    communes: dict[str, tuple[Commune, ...]]


def version() -> str:
    """Which table this is: the data package and its release (kept with what is stored)."""
    return f"{_PACKAGE} {package_version(_PACKAGE)}"


def _short(name: str) -> str:
    for prefix in ("Thành phố ", "Tỉnh "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


#: Provinces whose English name is not their name without diacritics: the data table is
#: Vietnamese only, so their English is in the catalogue, looked up by the bare name.
ENGLISH_NAMED = (N_("Hồ Chí Minh"),)


def _english(short: str) -> str:
    """English name: the catalogue's when it has one, else the name without diacritics."""
    from unidecode import unidecode

    english = t(short, "en")
    return english if english != short else unidecode(short)


def _divisions_file() -> Path:
    """vietnam_provinces' data file, found without importing the package: its import builds
    enums of every ward code (~0.1 s), and a start reads only this file (the agency registry
    checks its province codes)."""
    found = find_spec("vietnam_provinces")
    for folder in (found.submodule_search_locations or []) if found else []:
        path = Path(folder) / "data" / "nested-divisions.json"
        if path.exists():
            return path
    import vietnam_provinces  # another layout of the package: its own constant

    return Path(vietnam_provinces.NESTED_DIVISIONS_JSON_PATH)


@lru_cache(maxsize=1)
def _table() -> _Table:
    with open(_divisions_file(), encoding="utf-8") as handle:
        data = json.load(handle)
    provinces = []
    communes = {}
    for p in data:
        code = f"{int(p['code']):02d}"
        short = _short(p["name"])
        provinces.append(Province(code, p["name"], short, _english(short)))
        communes[code] = tuple(
            Commune(f"{int(w['code']):05d}", w["name"], code, w.get("division_type", "")) for w in p.get("wards") or []
        )
    provinces.sort(key=lambda p: p.code)
    return _Table(tuple(provinces), communes)


def provinces() -> tuple[Province, ...]:
    """The 34 provinces and centrally-run cities, by code."""
    return _table().provinces


def communes(province_code: str) -> tuple[Commune, ...]:
    """The communes of one province (empty for an unknown code), in the table's order."""
    return _table().communes.get(str(province_code or ""), ())


#: A unit code as typed or posted: ASCII digits only (str.isdigit() also takes "²" and
#: other digits int() refuses), and short (int() refuses a string of thousands of digits).
_CODE = re.compile(r"[0-9]{1,5}")


def unit_code(text: Any, width: int) -> str | None:
    """`text` as a zero-padded code of `width` digits ("1" -> "01"), or None when it is not
    a code: every lookup by code goes through here, so odd input is a name not found."""
    raw = str(text or "").strip()
    return f"{int(raw):0{width}d}" if _CODE.fullmatch(raw) else None


def _strip(text: str, prefixes: tuple[str, ...]) -> str:
    folded = fold(text)
    for prefix in prefixes:
        if folded.startswith(prefix):
            return folded[len(prefix):]
    return folded


def province(key: Any) -> Province | None:
    """A province by code ("1", "01") or by name, with or without diacritics and "Tỉnh"."""
    text = str(key or "").strip()
    if not text:
        return None
    code = unit_code(text, 2)
    if code is not None:
        return next((p for p in provinces() if p.code == code), None)
    wanted = _strip(text, _PROVINCE_PREFIXES)
    if wanted in ("tp hcm", "hcm", "tphcm", "sai gon"):
        wanted = "ho chi minh"
    return next((p for p in provinces() if fold(p.short) == wanted), None)


def find_commune(province_code: str, text: Any) -> Commune | None:
    """The commune of this province named (or coded) `text`, ignoring diacritics, case and
    the "Xã / Phường / Đặc khu" prefix; None when there is none or the name is ambiguous."""
    raw = str(text or "").strip()
    if not raw:
        return None
    candidates = communes(province_code)
    code = unit_code(raw, 5)
    if code is not None:
        return next((c for c in candidates if c.code == code), None)
    full = fold(raw)
    exact = [c for c in candidates if fold(c.name) == full]
    if len(exact) == 1:
        return exact[0]
    bare = _strip(raw, _COMMUNE_PREFIXES)
    matches = [c for c in candidates if _strip(c.name, _COMMUNE_PREFIXES) == bare]
    return matches[0] if len(matches) == 1 else None


#: How alike (difflib ratio on folded names without the prefix) a typed name and a
#: commune's must be to be offered as "did you mean". Looser suggestions point old
#: (pre-merger) names at unrelated places: "Hàng Bông" is 0.75 from "Hà Đông".
SUGGEST_CUTOFF = 0.85


def suggest_communes(province_code: str, text: Any, limit: int = 3) -> list[Commune]:
    """Communes of the province whose names are really close to what was typed (a typo or
    the words in another order), for "did you mean"; [] rather than a different place."""
    bare = _strip(str(text or ""), _COMMUNE_PREFIXES)
    if not bare:
        return []
    by_name: dict[str, list[Commune]] = {}
    for c in communes(province_code):
        by_name.setdefault(_strip(c.name, _COMMUNE_PREFIXES), []).append(c)
    tokens = sorted(bare.split())
    same_words = [name for name in by_name if sorted(name.split()) == tokens]
    close = difflib.get_close_matches(bare, list(by_name), n=limit, cutoff=SUGGEST_CUTOFF)
    names = list(dict.fromkeys(same_words + close))
    return [c for name in names for c in by_name[name]][:limit]


def communes_elsewhere(text: Any) -> list[Commune]:
    """Communes of any province with exactly this name (to say where a commune really is)."""
    raw = str(text or "").strip()
    if not raw:
        return []
    code = unit_code(raw, 5)
    if code is not None:
        return [c for p in provinces() for c in communes(p.code) if c.code == code]
    full, bare = fold(raw), _strip(raw, _COMMUNE_PREFIXES)
    out = []
    for p in provinces():
        for c in communes(p.code):
            name = fold(c.name)
            if name == full or _strip(c.name, _COMMUNE_PREFIXES) == bare:
                out.append(c)
    return out


def commune(code: Any) -> Commune | None:
    """A commune by its 5-digit code, whatever its province."""
    found = unit_code(code, 5)
    return _communes_by_code().get(found) if found is not None else None


@lru_cache(maxsize=1)
def _communes_by_code() -> dict[str, Commune]:
    """Every commune by its code, the first of the table's order for a code: `commune()` runs
    for each office's address (a registry's hundreds of offices per app), and scanning all
    ~3,300 communes each time cost ~0.1 ms per call."""
    found: dict[str, Commune] = {}
    for p in provinces():
        for c in communes(p.code):
            found.setdefault(c.code, c)
    return found


# --- addresses ------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def clean(text: Any) -> str:
    """Spaces collapsed; anything but text is no text (never stringified: `True` or `["x"]`
    sent as a street stays as sent, for validation to refuse)."""
    return _SPACES.sub(" ", text).strip() if isinstance(text, str) else ""


def resolve_address(raw: Mapping[str, Any] | None, *, province_as_posted: bool = False) -> dict[str, str]:
    """What a citizen posted -> the address to keep: names and codes of the units found.

    Units that are not found keep the text as typed (so the form shows it again and
    validation explains); a commune is looked up only within the chosen province. A
    district is not kept: there is none since 1 July 2025. With `province_as_posted` (the
    answers of a spec's form, whose schema holds the province's code) the province stays
    as posted and only the commune is resolved.
    """
    raw = raw or {}
    out = {part: clean(raw.get(part)) for part in ADDRESS_PARTS if clean(raw.get(part))}
    found = province(raw.get("province_code") or raw.get("province"))
    if found is not None:
        if not province_as_posted:
            out["province"], out["province_code"] = found.name, found.code
        place = find_commune(found.code, raw.get("commune") or raw.get("commune_code"))
        if place is not None:
            out["commune"], out["commune_code"] = place.name, place.code
    return out


def address_text(address: Mapping[str, Any] | None, lang: str = "vi") -> str:
    """"street, commune, province" (and the district of an address stored before 1/7/2025)."""
    if not address:
        return ""
    parts = []
    for part in DISPLAY_ORDER:
        value = clean(address.get(part))
        if part == "province" and value:
            found = province(address.get("province_code")) or province(value)
            value = (found.en if lang == "en" else found.name) if found else value
        elif part == "commune" and address.get("commune_code"):
            found = commune(address.get("commune_code"))
            if found is not None and (not value or value == found.name):  # the unit as the table names it
                value = found.en if lang == "en" else found.name
        if value:
            parts.append(value)
    return ", ".join(parts)
