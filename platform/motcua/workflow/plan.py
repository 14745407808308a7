"""Which of a spec's steps apply to one dossier: its step plan (kế hoạch các bước xử lý).

A step with `when` (the condition language of fields and fees, motcua.spec.conditions) runs
only when its condition holds for the dossier. The plan is decided once, when the dossier is
filed (the engine's first cascade), over the answers as filed, the filing day (`_today`), the
intake channel and the bill (`_fee_total`); it is kept in the dossier (`_engine.skipped`),
so a later edit of the spec's conditions never changes it (the spec is pinned anyway).

A supplement that corrects answers decides again only the steps not reached yet (after the
cursor): what already ran, or was already skipped, is history and stays, except a step that
collects the fee (`Step.collects_fees`, the payment step): it acts on the dossier's events and
the desk's actions rather than only on being entered, so once the dossier owes money (a
supplement or a transfer raised the fee of a dossier that owed nothing at filing) it applies
again wherever the cursor is, and the fee is asked for and can be recorded. Pure functions:
the engine records what they say.

A condition that cannot be evaluated (a spec published before lint refused what breaks it)
fails closed: the step runs, and the error is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from motcua.dossier import Dossier
from motcua.fees import filing_day
from motcua.payments import amount_due
from motcua.spec.conditions import holds
from motcua.spec.model import ProcedureSpec

log = logging.getLogger(__name__)


def conditional(spec: ProcedureSpec | None) -> bool:
    """Whether any step of the spec has a `when` (only then has a dossier a plan)."""
    return spec is not None and any(ref.when is not None for ref in spec.steps)


def applies(spec: ProcedureSpec, index: int, dossier: Dossier) -> bool:
    """Whether the step at `index` applies to the dossier as it stands now (True when its
    condition cannot be evaluated: skipping a step by mistake may skip a fee or a check)."""
    when = spec.steps[index].when
    if when is None:
        return True
    data: dict[str, Any] = {**dossier.data, "_fee_total": dossier.fee_total}
    try:
        return holds(when, data, dossier.channel, spec.computed, filing_day(dossier.filed_at))
    except Exception:
        log.exception("dossier %s: the `when` of step %d (%s) cannot be evaluated; the step runs",
                      dossier.code, index, spec.steps[index].name)
        return True


def skipped(spec: ProcedureSpec, dossier: Dossier, start: int = 0) -> list[int]:
    """Indexes (from `start` on) of the steps that do not apply to the dossier."""
    return [i for i in range(start, len(spec.steps)) if not applies(spec, i, dossier)]


def replanned(spec: ProcedureSpec, dossier: Dossier, before: list[int], cursor: int) -> tuple[list[int], list[int], list[int]]:
    """After the answers changed: (new skipped list, steps now skipped, steps now run),
    deciding again only the steps after `cursor` (the one at the cursor is under way)."""
    kept = [i for i in before if i <= cursor]
    again = skipped(spec, dossier, cursor + 1)
    old_later = {i for i in before if i > cursor}
    return kept + again, sorted(set(again) - old_later), sorted(old_later - set(again))


def rejoined(dossier: Dossier, before: list[int], collecting: Collection[int]) -> tuple[list[int], list[int]]:
    """(new skipped list, steps that apply again): the skipped steps that collect the fee
    (`collecting`), once the dossier owes money, wherever the cursor is (see above)."""
    if amount_due(dossier) <= 0:
        return before, []
    back = [i for i in before if i in collecting]
    return [i for i in before if i not in back], back
