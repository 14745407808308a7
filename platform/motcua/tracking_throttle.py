"""One throttle for every place that checks a dossier's second factor.

The factor is a phone number or a citizen ID: guessable with enough tries. Tracking, the
API and the rating form all check it, so all of them count against the same limits, kept
in `store.records("factor_attempts")`:

- per dossier code (a few failures an hour: the budget of an attacker aiming at one
  dossier, wherever they come from), and
- per client address (a higher cap: behind a proxy many citizens share one address).

The per-code limit lets anyone lock a dossier's form for an hour by sending wrong factors;
the rightful citizen is not locked out by it, because the receipt's private link
(motcua.tracking.link_token, `/ho-so/<code>/xem/<token>`) opens the dossier without a factor
and is not counted here.

An attempt is counted *before* the factor is compared (motcua.throttle), so parallel
requests cannot slip past the cap; a right factor gives its attempt back. Codes and
addresses are stored only as hashes; expired windows are purged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from motcua import throttle
from motcua.dossier import Contact, Dossier
from motcua.store.base import Store
from motcua.tracking import verify

ATTEMPTS = "factor_attempts"
#: Compared against when the code is unknown, so both answers cost the same.
_DUMMY = Dossier.model_construct(contact=Contact(name="", phone="0000000000", cccd="000000000000"))


class Throttled(Exception):
    """Too many wrong factors for this dossier code or from this client: try later."""


@dataclass(frozen=True)
class Limits:
    per_code: int = 10
    per_client: int = 100
    window_s: int = 3600

    @classmethod
    def from_config(cls, config: Any) -> "Limits":
        return cls(
            per_code=int(config.get("FACTOR_FAILURES_PER_CODE", cls.per_code)),
            per_client=int(config.get("FACTOR_FAILURES_PER_CLIENT", cls.per_client)),
            window_s=int(config.get("FACTOR_WINDOW_S", cls.window_s)),
        )


def _key(kind: str, value: str) -> str:
    return throttle.key(kind, value)


def normalize_code(code: str) -> str:
    return code.strip().upper()[:60]


def _take(store: Store, key: str, limit: int, window_s: int, now: float) -> bool:
    """Count one attempt under `key` unless it is at its limit; whether it was counted."""
    return throttle.take(store.records(ATTEMPTS), key, limit, window_s, now) is None


def _give_back(store: Store, key: str) -> None:
    throttle.give_back(store.records(ATTEMPTS), key)


def check_factor(store: Store, code: str, factor: str, client: str, limits: Limits = Limits(), now: float | None = None) -> Dossier | None:
    """The dossier when `factor` opens `code`; None otherwise (unknown code and wrong factor
    alike). Raises Throttled, before looking at the dossier, when a limit is reached."""
    now = time.time() if now is None else now
    code = normalize_code(code)
    code_key = _key("code", code)
    client_key = _key("client", client) if client else None
    if not _take(store, code_key, limits.per_code, limits.window_s, now):
        raise Throttled(code)
    if client_key and not _take(store, client_key, limits.per_client, limits.window_s, now):
        _give_back(store, code_key)
        raise Throttled(client)
    dossier = store.dossiers.get(code) if code else None
    ok = verify(dossier, factor) if dossier is not None else verify(_DUMMY, factor)  # same work either way
    if dossier is None or not ok:
        return None
    _give_back(store, code_key)
    if client_key:
        _give_back(store, client_key)
    return dossier


def purge(store: Store, window_s: int, now: float | None = None) -> int:
    """Forget windows that have ended; returns how many records went."""
    return throttle.purge(store.records(ATTEMPTS), window_s, now)
