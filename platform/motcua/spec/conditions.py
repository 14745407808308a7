"""Evaluating a spec's conditions against the citizen's answers.

Pure functions: the same answers give the same result on the server, in the fee shown
before filing and in the fee recorded on the dossier.
"""

from __future__ import annotations

from typing import Any, Mapping

from motcua.spec.model import Condition

_MISSING = object()


def lookup(answers: Mapping[str, Any], path: str) -> Any:
    """Value at a dotted path (`child.birth_date`), or a sentinel when absent."""
    value: Any = answers
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return _MISSING
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", "."))
        except ValueError:
            return None
    return None


def holds(condition: Condition | None, answers: Mapping[str, Any], channel: str = "online") -> bool:
    """Whether `condition` is true for these answers; no condition always holds."""
    if condition is None:
        return True
    if condition.all is not None:
        return all(holds(c, answers, channel) for c in condition.all)
    if condition.any is not None:
        return any(holds(c, answers, channel) for c in condition.any)
    if condition.not_ is not None:
        return not holds(condition.not_, answers, channel)
    assert condition.field is not None
    value = channel if condition.field == "_channel" else lookup(answers, condition.field)
    present = value is not _MISSING and value is not None and value != ""
    fields = condition.model_fields_set
    if "equals" in fields:
        return present and value == condition.equals
    if "not_equals" in fields:
        return not present or value != condition.not_equals
    if "in_" in fields:
        return present and value in (condition.in_ or [])
    if "is_true" in fields:
        return bool(present and value) is bool(condition.is_true)
    number = _number(value) if present else None
    if number is None:
        return False
    for op, bound, test in (
        ("gt", condition.gt, float.__gt__),
        ("gte", condition.gte, float.__ge__),
        ("lt", condition.lt, float.__lt__),
        ("lte", condition.lte, float.__le__),
    ):
        if op in fields:
            return bound is not None and test(number, float(bound))
    return False
