"""JSON Logic turned once into nested Python closures that evaluate it as the library does.

Why: a filing evaluates the same fee rules and conditions every time, and the library
(`json_logic`, panzi-json-logic) interprets the tree on each call: for every node it checks
the node's type, builds the argument list and tests the operator's name against its special
forms before calling the operator. A `days_since` fee rule is ~40 such nodes; interpreting
them was ~7% of a filing's CPU (issue 17). The library has no compile step, so this module
does that one thing: each branch below is the branch of `json_logic.apply` for the same
node shape, decided once, and every operator is the library's own function from `BUILTINS`.
Forms that walk data of their own (`filter`, `map`, `reduce`, `all`, `some`, `none`) and
dotted operator names are left to `apply` itself. tests/test_logic_closures.py checks the
two give the same value or the same error on generated rules and data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from json_logic import jsonLogic
from json_logic.builtins import BUILTINS, not_, to_bool

Evaluator = Callable[[Any], Any]

#: Forms `apply` evaluates over items of their own: handed to it whole.
_WALKING = frozenset({"filter", "reduce", "map", "all", "some", "none"})


def closure(logic: Any) -> Evaluator:
    """A function of the data giving what `jsonLogic(logic, data)` gives (or raising what it
    raises). `logic` must not change afterwards: constants are shared, as `apply` returns them."""
    if isinstance(logic, list):
        items = [closure(item) for item in logic]
        return lambda data: [item(data) for item in items]
    if not isinstance(logic, dict) or len(logic) != 1:
        return lambda data: logic
    op = next(iter(logic))
    args = logic[op]
    if not isinstance(args, list):
        args = [args]
    if op in _WALKING or op not in BUILTINS and op not in ("if", "?:", "and", "or"):
        return lambda data: jsonLogic(logic, data)  # walking forms, dotted and unknown names
    parts = [closure(arg) for arg in args]
    if op in ("if", "?:"):
        return _if(parts)
    if op in ("and", "or"):
        return _until(parts, not_ if op == "and" else to_bool)
    operation = BUILTINS[op]
    if len(parts) == 1:
        only = parts[0]
        return lambda data: operation(data, only(data))
    if len(parts) == 2:
        first, second = parts
        return lambda data: operation(data, first(data), second(data))
    return lambda data: operation(data, *[part(data) for part in parts])


def _if(parts: list[Evaluator]) -> Evaluator:
    last = len(parts) - 1

    def run(data: Any) -> Any:
        index = 0
        while index < last:
            if to_bool(parts[index](data)):
                return parts[index + 1](data)
            index += 2
        return parts[index](data) if index <= last else None

    return run


def _until(parts: list[Evaluator], stops: Callable[[Any], bool]) -> Evaluator:
    """`and` (`stops` = not_: the first false value) or `or` (to_bool: the first true one):
    that value, else the last one, None when there is none."""

    def run(data: Any) -> Any:
        current = None
        for part in parts:
            current = part(data)
            if stops(current):
                return current
        return current

    return run


__all__ = ["Evaluator", "closure"]
