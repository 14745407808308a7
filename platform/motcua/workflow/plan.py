"""Which of a spec's steps apply to one dossier: its step plan (kế hoạch các bước xử lý).

A step with `when` (the condition language of fields and fees, motcua.spec.conditions) runs
only when its condition holds for the dossier. The plan is decided once, when the dossier is
filed (the engine's first cascade), over the answers as filed, the filing day (`_today`), the
intake channel and the bill (`_fee_total`); it is kept in the dossier (`_engine.skipped`),
so a later edit of the spec's conditions never changes it (the spec is pinned anyway).

A supplement that corrects answers decides again only the steps not reached yet (after the
cursor): what already ran, or was already skipped, is history and stays. Pure functions:
the engine records what they say.
"""

from __future__ import annotations

from typing import Any

from motcua.dossier import Dossier
from motcua.fees import filing_day
from motcua.spec.conditions import holds
from motcua.spec.model import ProcedureSpec


def conditional(spec: ProcedureSpec | None) -> bool:
    """Whether any step of the spec has a `when` (only then has a dossier a plan)."""
    return spec is not None and any(ref.when is not None for ref in spec.steps)


def applies(spec: ProcedureSpec, index: int, dossier: Dossier) -> bool:
    """Whether the step at `index` applies to the dossier as it stands now."""
    when = spec.steps[index].when
    if when is None:
        return True
    data: dict[str, Any] = {**dossier.data, "_fee_total": dossier.fee_total}
    return holds(when, data, dossier.channel, spec.computed, filing_day(dossier.filed_at))


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
