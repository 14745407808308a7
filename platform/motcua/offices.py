"""Who performs a procedure, and what is known of each office: the one seam to the registry.

Cơ quan thực hiện — a procedure is performed by one or more offices (every commune People's
Committee performs birth registration). Statistics, the agency page and the transfer
between offices ask only the two functions below — `performers(spec)` and
`offices(specs)` — so when the agency registry (issue #13, docs/agencies.md) is in place
only these change: they read `performed_by` and the registry's records instead of the
spec's single `agency` block, which is what they read today.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from motcua.spec.model import ProcedureSpec

#: Agency tiers (cấp): the registry's, in the order reports list them. `district` stays for
#: specs written before the 1 July 2025 reform; `other` is an office of no tier (or one the
#: platform does not know: a dossier whose agency left the catalogue).
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

    `address`, `hours` and `phone` are {vi, en} texts when known (the registry has them; a
    spec's `agency` block does not, so they are empty until the registry lands).
    """

    code: str
    name: dict[str, str]
    tier: str = "other"
    address: dict[str, str] = field(default_factory=dict)
    hours: dict[str, str] = field(default_factory=dict)
    phone: str = ""


def performers(spec: ProcedureSpec) -> tuple[str, ...]:
    """Codes of every office that performs `spec` (the procedure counts in each one's catalogue)."""
    return (spec.agency.code,)


def offices(specs: Iterable[ProcedureSpec]) -> dict[str, Office]:
    """Every office the catalogue names, by code (the first spec to name a code gives its name)."""
    found: dict[str, Office] = {}
    for spec in specs:
        code = spec.agency.code
        if code not in found:
            found[code] = Office(code=code, name=dict(spec.agency.name), tier=spec.agency.tier)
    return found


def tier_of(code: str, known: Mapping[str, Office]) -> str:
    """The tier of the office `code`; `other` for a code the directory does not hold."""
    office = known.get(code)
    return office.tier if office is not None and office.tier in TIERS else "other"


def procedures_of(code: str, specs: Iterable[ProcedureSpec]) -> list[ProcedureSpec]:
    """The office's own catalogue: every spec it is one of the performers of."""
    return [spec for spec in specs if code in performers(spec)]


def other_performers(spec: ProcedureSpec, current: str) -> list[str]:
    """Where a dossier of `spec` held by `current` may be transferred: the other performers."""
    return [code for code in performers(spec) if code != current]
