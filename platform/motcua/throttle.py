"""Fixed-window counters kept in a store collection, for every place that limits guesses.

Used by the second-factor checks (motcua.tracking_throttle) and the staff login
(motcua.accounts). An attempt is counted *before* the guess is checked, with
`Records.update` (under the store's lock), so parallel requests cannot slip past a cap; a
right guess gives its attempt back. Keys are hashes: no address, username or dossier code is
stored in the clear.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from motcua.store.base import Records


def key(kind: str, value: str) -> str:
    """The record key of `value` counted as `kind` (hashed)."""
    return f"{kind}:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def take(records: Records, name: str, limit: int, window_s: float, now: float) -> float | None:
    """Count one attempt under `name` unless it is at its limit.

    Returns None when it was counted, else the seconds until its window ends (at least 1).
    """
    refused: dict[str, float] = {}

    def change(current: dict[str, Any] | None) -> dict[str, Any]:
        if not current or now - float(current.get("since", 0)) >= window_s:
            current = {"n": 0, "since": now}
        if int(current.get("n", 0)) >= limit:
            refused["wait"] = max(1.0, float(current["since"]) + window_s - now)
            return current
        return {"n": int(current.get("n", 0)) + 1, "since": current["since"]}

    records.update(name, change)
    return refused.get("wait")


def give_back(records: Records, name: str) -> None:
    """Undo one `take` (the guess was right, or another limit refused the attempt)."""

    def change(current: dict[str, Any] | None) -> dict[str, Any]:
        current = dict(current or {"n": 0, "since": time.time()})
        current["n"] = max(0, int(current.get("n", 0)) - 1)
        return current

    records.update(name, change)


def purge(records: Records, window_s: float, now: float | None = None) -> int:
    """Forget windows that have ended; returns how many records went."""
    now = time.time() if now is None else now
    old = [k for k, value in records.all() if now - float(value.get("since", 0)) >= window_s]
    for k in old:
        records.delete(k)
    return len(old)
