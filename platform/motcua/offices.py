"""Who performs a procedure, and what is known of each office: the one seam to the registry.

Cơ quan thực hiện — a procedure is performed by one or more offices (every commune People's
Committee performs birth registration). Statistics, the agency page and the transfer
between offices ask only `performers(spec, catalogue)` and `offices(catalogue)`. When the
catalogue carries the agency registry (`catalogue.performers(spec)` and
`catalogue.agencies`, docs/agencies.md) both read it; a catalogue without one (or a bare
list of specs, as tests and benchmarks build) falls back to each spec's single `agency`
block, so nothing above this module changes when the registry arrives.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from motcua.spec.model import ProcedureSpec

#: Agency tiers (cấp), in the order reports list them. `district` stays for specs written
#: before the 1 July 2025 reform; `other` is an office of no tier, or one the platform does
#: not know (a dossier whose office left the catalogue).
TIERS: tuple[str, ...] = ("province", "district", "commune", "other")
TIER_LABELS: dict[str, dict[str, str]] = {
    "province": {"vi": "Cấp tỉnh", "en": "Province"},
    "district": {"vi": "Cấp huyện", "en": "District"},
    "commune": {"vi": "Cấp xã", "en": "Commune"},
    "other": {"vi": "Khác", "en": "Other"},
}


@dataclass(frozen=True)
class Office:
    """One implementing office (cơ quan thực hiện) as the public pages and reports show it.

    `address` and `hours` are {vi, en} texts and `phone` a number, when known: the registry
    has them, a spec's `agency` block does not.
    """

    code: str
    name: dict[str, str]
    tier: str = "other"
    address: dict[str, str] = field(default_factory=dict)
    hours: dict[str, str] = field(default_factory=dict)
    phone: str = ""


def performers(spec: ProcedureSpec, catalogue: Any = None) -> tuple[str, ...]:
    """Codes of every office that performs `spec` (the procedure counts in each one's catalogue)."""
    lookup = getattr(catalogue, "performers", None)
    if callable(lookup):
        return tuple(getattr(a, "code", a) for a in lookup(spec))
    rule = getattr(spec, "performed_by", None)
    if rule is not None and getattr(rule, "agencies", None):
        return tuple(rule.agencies)  # a list of codes needs no registry to read
    agency = getattr(spec, "agency", None)
    return (agency.code,) if agency is not None else ()


_KNOWN: "weakref.WeakKeyDictionary[Any, dict[str, Office]]" = weakref.WeakKeyDictionary()
_KNOWN_LOCK = threading.Lock()


def offices(catalogue: Iterable[ProcedureSpec]) -> dict[str, Office]:
    """Every office known, by code: the registry's when the catalogue has one, else the
    offices the specs' `agency` blocks name (the first spec to name a code gives its name).
    Kept per catalogue object (a registry of a whole province is built once)."""
    try:
        with _KNOWN_LOCK:
            kept = _KNOWN.get(catalogue)
    except TypeError:  # a plain list of specs: not weakly referable, not kept
        kept = None
    if kept is not None:
        return kept
    registry = getattr(catalogue, "agencies", None)
    found = _from_registry(registry) if registry is not None else _from_specs(catalogue)
    try:
        with _KNOWN_LOCK:
            _KNOWN[catalogue] = found
    except TypeError:
        pass
    return found


def _from_registry(registry: Iterable[Any]) -> dict[str, Office]:
    from motcua.units import address_text

    return {
        a.code: Office(
            code=a.code,
            name=dict(a.name),
            tier=a.tier if a.tier in TIERS else "other",
            address={lang: address_text(a.address, lang) for lang in ("vi", "en")} if a.address else {},
            hours=dict(a.hours or {}),
            phone=a.phone or "",
        )
        for a in registry
    }


def _from_specs(specs: Iterable[ProcedureSpec]) -> dict[str, Office]:
    found: dict[str, Office] = {}
    for spec in specs:
        agency = getattr(spec, "agency", None)
        if agency is not None and agency.code not in found:
            found[agency.code] = Office(code=agency.code, name=dict(agency.name), tier=agency.tier)
    return found


def tier_of(code: str, known: Mapping[str, Office]) -> str:
    """The tier of the office `code`; `other` for a code the directory does not hold."""
    office = known.get(code)
    return office.tier if office is not None and office.tier in TIERS else "other"


def procedures_of(code: str, catalogue: Iterable[ProcedureSpec]) -> list[ProcedureSpec]:
    """The office's own catalogue: every spec it is one of the performers of."""
    return [spec for spec in catalogue if code in performers(spec, catalogue)]


def other_performers(spec: ProcedureSpec, current: str, catalogue: Any = None) -> list[str]:
    """Where a dossier of `spec` held by `current` may be sent: the procedure's other performers."""
    return [code for code in performers(spec, catalogue) if code != current]
