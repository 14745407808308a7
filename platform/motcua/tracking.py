"""The second factor that keeps dossiers private: a code alone never opens one.

Codes follow a public pattern (agency-date-sequence) and are easy to guess, so reading a
dossier also needs the phone number or the citizen ID the applicant gave.
"""

from __future__ import annotations

import hmac
import re

from motcua.dossier import Dossier
from motcua.formats import normalize_mobile


def _norm(value: str) -> str:
    return re.sub(r"\s", "", value).lower()


def verify(dossier: Dossier, factor: str) -> bool:
    """Whether `factor` is the applicant's phone or ID, compared in constant time."""
    if not factor or not factor.strip():
        return False
    given = _norm(factor)
    candidates = []
    if dossier.contact.phone:
        candidates.append((normalize_mobile(given), normalize_mobile(_norm(dossier.contact.phone))))
    if dossier.contact.cccd:
        candidates.append((given, _norm(dossier.contact.cccd)))
    ok = False
    for a, b in candidates:
        ok |= hmac.compare_digest(a.encode(), b.encode())
    return ok
